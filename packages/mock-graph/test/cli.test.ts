import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { remediationTokenForm } from '../src/index.js'

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js')

describe('mock-graph serve (the CLI)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-mock-cli-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('serves a scenario over HTTPS and writes the CA and a runner env file, printing no credential', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--scenario', 'leaked-credentials', '--port', '0', '--out', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 15_000)
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('settings for a runner')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    try {
      const url = /at (https:\/\/localhost:\d+)/.exec(out)?.[1] ?? ''
      expect(url).not.toBe('')
      const env = Object.fromEntries(
        (await readFile(join(dir, 'mock.env'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => l.split('=', 2) as [string, string]),
      )
      expect(env).toMatchObject({
        AZURE_AUTHORITY_HOST: url,
        TOURNIQUET_GRAPH_URL: url,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      })
      expect(out).not.toContain(env.AZURE_CLIENT_SECRET)
      const agent = new Agent({ connect: { ca: await readFile(join(dir, 'ca.pem'), 'utf8') } })
      const res = await request(`${url}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: remediationTokenForm(),
      })
      expect(res.statusCode).toBe(200)
      await res.body.dump()
      await agent.close()
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.on('exit', r))
    }
  })

  it('refuses an unknown scenario with exit 2 and the list of names', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--scenario', 'nope'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const code = await new Promise((r) => child.on('exit', r))
    expect(code).toBe(2)
    expect(err).toMatch(/--scenario: unknown 'nope'; expected one of demo, leaked-credentials/)
  })
})
