import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js')

/** Runs the built CLI on this Node, made to report another version before the CLI loads. */
function cliOnNode(version: string, args: string[]) {
  const pretend = `Object.defineProperty(process.versions, 'node', { value: '${version}' })`
  return spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(pretend)}`, CLI, ...args],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
  )
}

describe('the entry point on an unsupported Node', () => {
  it('Node 20: exit 2, says what is needed and how to get it, no stack trace', () => {
    const r = cliOnNode('20.20.2', ['run'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^tourniquet: Node\.js 24 or later is required; this is Node\.js 20\.20\.2/)
    expect(r.stderr).toMatch(/pnpm tourniquet <command>/)
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    expect(r.stdout).toBe('')
  })

  it('Node 24: the commands run', () => {
    const r = cliOnNode('24.21.0', ['help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^tourniquet: contain compromised identities/)
  })
})
