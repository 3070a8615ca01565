/** Shared checks of the fault suite: what the audit says must match what reached the tenant. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MockAction } from '@tourniquet/mock-graph'
import { expect } from 'vitest'
import type { CliResult, Tenant } from '../support/e2e.js'

/** The mock runs 20x faster than Graph; the runner's Identity Protection budget matches, with a margin. */
export const SCALE = 20
export const FAST = { TOURNIQUET_IDENTITY_PROTECTION_RPS: String(SCALE * 0.95) }

export async function widePolicy(t: Tenant): Promise<string> {
  const path = join(t.dir, 'wide.yaml')
  await writeFile(
    path,
    'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high], userType: [member] }\n    then: [confirmCompromised, revokeSessions, disable]\n',
  )
  return path
}

const KIND: Record<string, Array<MockAction['kind']>> = {
  confirmCompromised: ['confirmCompromised'],
  revokeSessions: ['revokeSignInSessions'],
  disable: ['disable', 'mdi:disable'],
}

/** Every action reached the tenant at most once, whatever happened on the wire. */
export function expectNothingTwice(t: Tenant): void {
  for (const kind of [
    'confirmCompromised',
    'revokeSignInSessions',
    'disable',
    'mdi:disable',
    'resetPassword',
    'mdi:forcePasswordReset',
  ] as const) {
    expect(t.mock.duplicates(kind), `${kind} applied twice`).toEqual([])
  }
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
