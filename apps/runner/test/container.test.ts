import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const RUNNER = join(import.meta.dirname, '..')

// The Dockerfile's second stage is exactly `pnpm deploy --prod --no-optional`: build that bundle
// here and start it, as the image would (no Docker engine on this machine).
describe('container bundle', () => {
  let out: string
  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'tq-deploy-')), 'app')
    await run('pnpm', ['--filter=@tourniquet/runner', 'deploy', '--prod', '--no-optional', out], {
      cwd: RUNNER,
      env: { ...process.env, CI: 'true' },
    })
  }, 120_000)
  afterAll(() => rm(join(out, '..'), { recursive: true, force: true }))

  it('starts: node dist/cli.js --help', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'dist', 'cli.js'), '--help'], {
      env: {},
      cwd: out,
    })
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })

  it('holds production dependencies only: no mock tenant, no test tools', async () => {
    const pkgs = await run('ls', [join(out, 'node_modules'), join(out, 'node_modules', '@tourniquet')])
    expect(pkgs.stdout).toMatch(/core/)
    expect(pkgs.stdout).toMatch(/policy/)
    expect(pkgs.stdout).not.toMatch(/mock-graph|vitest|typescript|azurite/)
  })

  it('without the mock, demo says what is missing instead of crashing', async () => {
    const result = await run(process.execPath, [join(out, 'dist', 'cli.js'), 'demo'], {
      env: {},
      cwd: out,
    }).catch((e: { code: number; stderr: string }) => e)
    expect(result).toMatchObject({ code: 2 })
    expect((result as { stderr: string }).stderr).toMatch(/needs @tourniquet\/mock-graph/)
  })

  it('the Dockerfile copies that bundle and runs it as a non-root user on Node 24', async () => {
    const dockerfile = await readFile(join(RUNNER, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m)
    expect(dockerfile).toMatch(/deploy --prod --no-optional \/out/)
    expect(dockerfile).toMatch(/^USER node$/m)
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
    const argv = JSON.parse(cmd ?? '[]') as string[]
    expect(argv[0]).toBe('node')
    expect(argv.slice(-2)).toEqual(['dist/cli.js', 'run'])
    // The garbage-collector flags of the CMD are ones this Node accepts: the bundle starts with them.
    const flags = argv.slice(1, -2)
    expect(flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=50'])
    const { stdout } = await run(process.execPath, [...flags, join(out, 'dist', 'cli.js'), '--help'], {
      env: {},
      cwd: out,
    })
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })
})
