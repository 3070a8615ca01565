/**
 * The approver's sign-in for blob trails: the Azure CLI's account, never the remediation app. A fake
 * `az` on PATH stands in for the CLI (no request leaves this machine).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { azureCliCredential } from '../src/approvals/signIn.js'
import { loadTrailConfig } from '../src/env.js'

describe('approver sign-in (Azure CLI)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-az-'))
  })
  afterEach(async () => {
    vi.unstubAllEnvs()
    await rm(dir, { recursive: true, force: true })
  })
  /** A fake `az` that records its arguments and prints `output` (exit `code`). */
  async function fakeAz(output: string, code = 0): Promise<string> {
    const calls = join(dir, 'calls')
    await writeFile(join(dir, 'out.json'), output)
    await writeFile(
      join(dir, 'az'),
      `#!/bin/sh\necho "$@" >> '${calls}'\ncat '${join(dir, 'out.json')}'\nexit ${code}\n`,
    )
    await chmod(join(dir, 'az'), 0o755)
    vi.stubEnv('PATH', `${dir}:${process.env.PATH ?? ''}`)
    return calls
  }

  it('asks the CLI for a Storage token in the configured tenant, and keeps it until it nears expiry', async () => {
    const expires = Math.floor(Date.now() / 1000) + 3_600
    const calls = await fakeAz(
      JSON.stringify({ accessToken: 'eyJ.approver.token', expires_on: expires, tokenType: 'Bearer' }),
    )
    const credential = azureCliCredential('72f988bf-0000-4000-a000-000000000001')
    expect(await credential.getToken('https://storage.azure.com/.default')).toEqual({
      token: 'eyJ.approver.token',
      expiresOnTimestamp: expires * 1000,
    })
    await credential.getToken('https://storage.azure.com/.default')
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual([
      'account get-access-token --resource https://storage.azure.com --output json --tenant 72f988bf-0000-4000-a000-000000000001',
    ])
  })
  it('a CLI that is not signed in, or answers no token, is an error saying to az login that never quotes its output', async () => {
    await fakeAz('{"accessToken": "eyJhbGciOi-partial-secret"', 1)
    await expect(azureCliCredential(undefined).getToken('x')).rejects.toMatchObject({
      code: 'TQ_RUNNER_APPROVER_SIGN_IN',
      message: expect.stringMatching(/run `az login` as yourself/),
    })
    await fakeAz('not json, but eyJhbGciOi-partial-secret')
    const error = await azureCliCredential(undefined)
      .getToken('x')
      .catch((e: Error) => e)
    expect((error as Error).message).toMatch(/not a token/)
    expect((error as Error).message).not.toContain('eyJhbGciOi')
  })
  it('without the CLI, says to install it', async () => {
    vi.stubEnv('PATH', dir)
    await expect(azureCliCredential(undefined).getToken('x')).rejects.toThrow(
      /Azure CLI \(az\) is not installed/,
    )
  })
  it('the trail commands read their settings without any app credential', () => {
    expect(loadTrailConfig({}, { TOURNIQUET_LEDGER: '/var/tq/ledger.jsonl' })).toEqual({
      ledger: '/var/tq/ledger.jsonl',
      decisions: undefined,
      policyPath: 'policy.yaml',
      tenantId: undefined,
    })
    expect(() => loadTrailConfig({}, { TOURNIQUET_LEDGER: 'http://storage.example/c/ledger.jsonl' })).toThrow(
      /TOURNIQUET_LEDGER/,
    )
  })
})
