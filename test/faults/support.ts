/** Shared checks of the fault suite: what the audit says must match what reached the tenant. */
import { join } from 'node:path'
import type { MockAction } from '@tourniquet/mock-graph'
import { type FaultOptions, generateTenant } from '@tourniquet/mock-graph'
import { expect } from 'vitest'
import { type CliResult, runCli, Tenant, widePolicy } from '../support/e2e.js'

export { widePolicy }

/** The mock runs 20x faster than Graph; the runner's Identity Protection budget matches, with a margin. */
export const SCALE = 20
export const FAST = {
  TOURNIQUET_IDENTITY_PROTECTION_RPS: String(SCALE * 0.95),
  TOURNIQUET_DIRECTORY_WRITE_RPS: String(20 * SCALE),
}

const KIND: Record<string, Array<MockAction['kind']>> = {
  confirmCompromised: ['confirmCompromised'],
  revokeSessions: ['revokeSignInSessions'],
  disable: ['disable', 'mdi:disable'],
  forcePasswordReset: ['resetPassword', 'mdi:forcePasswordReset'],
}

/** Every action reached the tenant at most once, whatever happened on the wire. */
export function expectNothingTwice(t: Tenant): void {
  expect(t.mock.duplicates(), 'an action reached the tenant twice').toEqual([])
}

/**
 * Each step of the run ends in exactly one terminal status, and a step the audit calls succeeded
 * did reach the tenant.
 */
export function expectOneTerminalStatusEach(t: Tenant, r: CliResult): void {
  const steps = r.steps.filter((s) => s.action !== null && s.route !== null)
  const seen = new Map<string, string>()
  for (const s of steps) {
    const key = `${s.userId}|${s.action}`
    expect(seen.has(key), `two records for ${key}: ${seen.get(key)} and ${s.status}`).toBe(false)
    seen.set(key, String(s.status))
    expect(['succeeded', 'failed', 'skipped', 'unverified']).toContain(s.status)
  }
  for (const s of steps.filter((x) => x.status === 'succeeded')) {
    const kinds = KIND[String(s.action)] ?? []
    const reached = t.mock.tenant.actions.some((a) => a.userId === s.userId && kinds.includes(a.kind))
    expect(reached, `${s.userPrincipalName} ${s.action} is 'succeeded' but never reached the tenant`).toBe(
      true,
    )
  }
  const failed = steps.some((s) => s.status === 'failed')
  expect(r.code, `exit code with${failed ? '' : 'out'} failed steps`).toBe(failed ? 1 : 0)
}

/** No output stream or file of a run carries the client secret, a bearer token or a generated password. */
export async function expectNoSecrets(t: Tenant, runs: CliResult[]): Promise<void> {
  const { readdir, readFile } = await import('node:fs/promises')
  const files = await Promise.all(
    (await readdir(t.dir)).filter((f) => !f.endsWith('.pem')).map((f) => readFile(join(t.dir, f), 'utf8')),
  )
  const secrets = [t.env().AZURE_CLIENT_SECRET ?? '', ...t.mock.tenant.passwordsSeen].filter(
    (x) => x.length > 0,
  )
  for (const text of [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files]) {
    for (const secret of secrets)
      expect(text.includes(secret), 'a secret or password reached an output').toBe(false)
    expect(text, 'a bearer token reached an output').not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/)
  }
}

/**
 * One fault scenario: an apply against the faulty tenant (checked), then a clean apply and a dry run
 * that must find nothing left to do, and no secret in any output. Backoffs and Retry-After waits are
 * real seconds, not scaled with the mock.
 */
export interface ScenarioOptions {
  /** Whether the faults must show in the mock's log (default true; latency alone leaves no mark). */
  faultsLogged?: boolean
}

export async function faultScenario(
  users: number,
  faults: FaultOptions & { seed: number },
  { faultsLogged = true }: ScenarioOptions = {},
): Promise<void> {
  const t = await Tenant.start({
    tenant: generateTenant({ riskyUsers: users, seed: faults.seed, highShare: 0.7 }),
    timeScale: SCALE,
    faults,
  })
  try {
    const env = t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t) })
    const faulty = await runCli(['run', '--apply'], env)
    expect(faulty.summary?.event).toBe('summary')
    // The faults did happen, and the run still acted.
    if (faultsLogged) expect(t.mock.log.filter((l) => l.fault !== undefined).length).toBeGreaterThan(1)
    expect(t.mock.tenant.actions.length).toBeGreaterThan(0)
    expect(faulty.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    expectOneTerminalStatusEach(t, faulty)
    expectNothingTwice(t)

    t.mock.setFaults(undefined)
    const clean = await runCli(['run', '--apply'], env)
    expect(clean.code).toBe(0)
    expectNothingTwice(t)
    const after = await runCli(['run'], env)
    expect(
      after.steps.filter((s) => s.status === 'planned'),
      'work left after a clean rerun',
    ).toEqual([])
    await expectNoSecrets(t, [faulty, clean, after])
  } finally {
    await t.stop()
  }
}
