/**
 * Incremental runs (issue #14, decision 015): a run that reads only what changed since the last one
 * plans exactly what a full collection would over the same tenant history, late offline detections
 * included, and costs at most 3 Identity Protection requests when nothing changed.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { generateTenant, type MockGraph, seeded, type Tenant } from '@tourniquet/mock-graph'
import type { Plan } from '@tourniquet/policy'
import { afterEach, describe, expect, it } from 'vitest'
import { evidenceLocation } from '../src/evidence/store.js'
import { InProcessTenant, MemoryLedger } from './support/tenant.js'

const HOUR = 3_600_000

/** High risk: revoke sessions; medium risk with a detection in the last hour: a password reset. */
const POLICY = `version: 1
lookback: PT48H
limits:
  maxActionsPerRun: 100000
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [revokeSessions]
  - name: fresh-medium
    when: { riskLevel: [medium], detectedWithin: PT1H }
    then: [forcePasswordReset]
`

const stepsOf = (plan: Plan | undefined): string[] =>
  (plan?.steps ?? []).map((s) => `${s.userId}|${s.action}|${s.evidence.join(',')}`).sort()

const summaryOf = (lines: Array<Record<string, unknown>>) => lines.find((l) => l.event === 'summary') ?? {}
const planLine = (lines: Array<Record<string, unknown>>) => lines.find((l) => l.event === 'plan') ?? {}

describe('incremental runs', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  /** The same tenant read in full, with its own (throwaway) evidence state, in plan mode: it changes nothing. */
  async function fullPlan(at: Date): Promise<Plan | undefined> {
    const tenant = t as InProcessTenant
    const config = {
      ...tenant.config,
      ledger: `${tenant.dir}/full-${at.getTime()}.jsonl`,
      collection: { ...tenant.config.collection, mode: 'full' as const },
    }
    return (await tenant.run('plan', { config, ledger: new MemoryLedger(), now: () => at })).plan
  }

  it('plans the same steps as a full collection over a tenant history, late offline detections included', async () => {
    const tenant = generateTenant({ riskyUsers: 60, seed: 7, now: Date.now() - 3 * HOUR })
    t = await InProcessTenant.start({ tenant }, POLICY)
    const mock = t.mock as MockGraph
    const ledger = new MemoryLedger()
    const ids = [...tenant.users.keys()]
    const quiet = ids.filter((id) => !tenant.riskyUsers.has(id))
    // Users with no risk yet: the directory knows them, Identity Protection does not.
    const newcomers = Array.from({ length: 4 }, (_, i) =>
      addPlainUser(tenant, `newcomer${i}`, quiet.length + i),
    )
    const stale = ids.filter((id) => tenant.riskyUsers.get(id)?.riskLevel === 'medium')
    const events: Array<(now: number) => void> = [
      // A real-time detection raises a new user at once.
      (now) =>
        tenant.detect(newcomers[0] as string, {
          type: 'anonymizedIPAddress',
          level: 'high',
          timing: 'realtime',
          detectedAt: now - 6 * 60_000,
        }),
      // An offline detection readable 20 hours late, with its old detectedDateTime: a
      // watermark on detectedDateTime would never see it.
      (now) =>
        tenant.detect(newcomers[1] as string, {
          type: 'leakedCredentials',
          level: 'high',
          timing: 'offline',
          detectedAt: now - 20 * HOUR,
        }),
      // A fresh detection on a stale medium user makes the fresh-medium rule match.
      (now) =>
        tenant.detect(stale[0] as string, {
          type: 'unfamiliarFeatures',
          level: 'medium',
          timing: 'realtime',
          detectedAt: now - 5 * 60_000,
        }),
      // A low detection on a user the policy does not read yet, later raised to high: the
      // first detection must still be part of its evidence.
      (now) =>
        tenant.detect(newcomers[2] as string, {
          type: 'unlikelyTravel',
          level: 'low',
          timing: 'offline',
          detectedAt: now - 30 * HOUR,
        }),
      (now) =>
        tenant.detect(newcomers[2] as string, {
          type: 'passwordSpray',
          level: 'high',
          timing: 'realtime',
          detectedAt: now - 60_000,
        }),
      // Detected before the lookback and published now: neither collection may use it.
      (now) =>
        tenant.detect(newcomers[3] as string, {
          type: 'leakedCredentials',
          level: 'medium',
          timing: 'offline',
          detectedAt: now - 50 * HOUR,
        }),
      // An administrator dismisses a stale user's risk elsewhere: it leaves both plans.
      () => tenant.applyRiskAction('dismiss', stale[1] as string, 'someone-else'),
    ]
    const first = await t.run('apply', { ledger })
    expect(planLine(first.lines)).toMatchObject({
      collection: 'full',
      collectionReason: 'no evidence state yet',
    })
    for (const event of events) {
      event(Date.now())
      const at = new Date()
      const expected = stepsOf(await fullPlan(at))
      const run = await t.run('apply', { ledger, now: () => at })
      expect(planLine(run.lines)).toMatchObject({ collection: 'incremental' })
      expect(stepsOf(run.plan)).toEqual(expected)
    }
    // Every newcomer the policy admits was acted on once, the one detected before the lookback not at all.
    const revoked = mock.tenant.actionsOf('revokeSignInSessions').map((a) => a.userId)
    expect(revoked).toEqual(expect.arrayContaining(newcomers.slice(0, 3)))
    expect(revoked).not.toContain(newcomers[3])
    expect(mock.tenant.duplicates()).toEqual([])
  })

  it('costs at most 3 Identity Protection requests and no directory write when nothing changed, over 10,000 stale users', async () => {
    const tenant = generateTenant({ riskyUsers: 10_000, seed: 3, now: Date.now() - 3 * HOUR, highShare: 0 })
    t = await InProcessTenant.start({ tenant }, POLICY)
    const ledger = new MemoryLedger()
    const first = await t.run('apply', { ledger })
    expect(summaryOf(first.lines)).toMatchObject({ collection: 'full' })
    expect(summaryOf(first.lines).identityProtectionRequests).toBeGreaterThan(20)
    const before = t.mock.log.length
    const second = await t.run('apply', { ledger })
    const summary = summaryOf(second.lines)
    expect(summary).toMatchObject({ collection: 'incremental', exitCode: 0 })
    expect(summary.identityProtectionRequests).toBeLessThanOrEqual(3)
    const requests = t.mock.log.slice(before)
    expect(requests.filter((r) => r.path.startsWith('/v1.0/identityProtection/'))).toHaveLength(
      summary.identityProtectionRequests as number,
    )
    expect(
      requests.filter((r) => r.method !== 'GET' && r.path !== '/v1.0/$batch' && !r.path.endsWith('/token')),
    ).toEqual([])
    // Only the users whose signals changed are written about: none.
    expect(second.lines.filter((l) => l.event === 'step')).toEqual([])
  }, 120_000)

  it('between its reads of the risky users (watch), a quiet run reads only the detections; a new detection reads both', async () => {
    const tenant = generateTenant({ riskyUsers: 60, seed: 11, now: Date.now() - 3 * HOUR })
    t = await InProcessTenant.start({ tenant }, POLICY)
    const mock = t.mock as MockGraph
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    // Answered requests only: a 429 retried under load is the same read.
    const lists = (from: number) =>
      mock.log
        .slice(from)
        .filter(
          (r) =>
            r.status === 200 &&
            r.method === 'GET' &&
            /^\/v1\.0\/identityProtection\/(riskyUsers|riskDetections)$/.test(r.path),
        )
        .map((r) => r.path.split('/').pop())
    // Nothing changed: one request, the detections' list.
    let before = mock.log.length
    const quiet = await t.run('apply', { ledger, riskyUsers: 'onNewDetections' })
    expect(planLine(quiet.lines)).toMatchObject({ collection: 'incremental' })
    expect(lists(before)).toEqual(['riskDetections'])
    // A new detection raises a user: the same run reads the users and plans as a full collection would.
    const newcomer = addPlainUser(tenant, 'raised', 90)
    tenant.detect(newcomer, {
      type: 'passwordSpray',
      level: 'high',
      timing: 'realtime',
      detectedAt: Date.now() - 60_000,
    })
    const at = new Date()
    const expected = stepsOf(await fullPlan(at))
    before = mock.log.length
    const busy = await t.run('apply', { ledger, riskyUsers: 'onNewDetections', now: () => at })
    expect(lists(before).slice(0, 2)).toEqual(['riskDetections', 'riskyUsers'])
    expect(stepsOf(busy.plan)).toEqual(expected)
    expect(mock.tenant.actionsOf('revokeSignInSessions').map((a) => a.userId)).toContain(newcomer)
    // A risk change with no detection (dismissed elsewhere) waits for the next run that reads the
    // users; the skipped runs kept the users' watermark, so that read still covers it.
    const high = [...tenant.riskyUsers.values()].find(
      (u) => u.riskLevel === 'high' && u.riskState === 'atRisk',
    )
    const dismissed = high?.id as string
    tenant.applyRiskAction('dismiss', dismissed, 'someone-else')
    before = mock.log.length
    await t.run('apply', { ledger, riskyUsers: 'onNewDetections' })
    expect(lists(before)).toEqual(['riskDetections'])
    const later = new Date()
    const afterDismiss = stepsOf(await fullPlan(later))
    before = mock.log.length
    const both = await t.run('apply', { ledger, now: () => later })
    expect(lists(before)).toEqual(['riskDetections', 'riskyUsers'])
    expect(stepsOf(both.plan)).toEqual(afterDismiss)
    expect(stepsOf(both.plan).some((step) => step.startsWith(dismissed))).toBe(false)
    expect(mock.tenant.duplicates()).toEqual([])
  })

  it('falls back to the full collection, and says so, when the service refuses a last-updated filter', async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 5 })
    t = await InProcessTenant.start({ tenant, strictFilters: true }, POLICY)
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    const second = await t.run('apply', { ledger })
    expect(summaryOf(second.lines)).toMatchObject({
      collection: 'full',
      collectionReason: expect.stringMatching(/^fallback: the service refused a last-updated filter/),
    })
    expect(second.lines).toContainEqual(
      expect.objectContaining({
        event: 'warning',
        message: expect.stringMatching(/lastUpdated|riskLastUpdatedDateTime/),
      }),
    )
    // The next run does not ask again until the next reconciliation: one refused request, not one a run.
    const before = t.mock.log.length
    const third = await t.run('apply', { ledger })
    expect(summaryOf(third.lines).collectionReason).toMatch(
      /refused a last-updated filter at .*tried again at the next reconciliation/,
    )
    expect(t.mock.log.slice(before).filter((r) => r.status === 400)).toEqual([])
    expect(stepsOf(third.plan)).toEqual(stepsOf(second.plan))
  })

  it('collects in full when the policy changed, when the state is unusable, and at the reconciliation interval', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 10, seed: 9 }) }, POLICY)
    const ledger = new MemoryLedger()
    const reasonOf = async (options: Parameters<InProcessTenant['run']>[1] = {}) =>
      planLine((await (t as InProcessTenant).run('apply', { ledger, ...options })).lines).collectionReason
    expect(await reasonOf()).toBe('no evidence state yet')
    expect(await reasonOf()).toBeUndefined()
    await writeFile(`${t.dir}/policy.yaml`, POLICY.replace('PT48H', 'PT72H'))
    expect(await reasonOf()).toBe('the policy changed')
    expect(await reasonOf()).toBeUndefined()
    const inTwoDays = new Date(Date.now() + 25 * HOUR)
    expect(await reasonOf({ now: () => inTwoDays })).toMatch(
      /^reconciliation: the last full collection was at/,
    )
    const state = evidenceLocation(t.config.ledger)
    await writeFile(state, (await readFile(state, 'utf8')).replace('"version":4', '"version":"one"'))
    const broken = await t.run('apply', { ledger })
    expect(planLine(broken.lines).collectionReason).toBe('no evidence state yet')
    expect(broken.err.text).toMatch(
      /the evidence state cannot be used \(.*evidence\.json: version: .*\); collecting in full/,
    )
    expect(await reasonOf()).toBeUndefined()
  })
})

/** A directory user with no risk at all (Identity Protection has no record of them yet). */
function addPlainUser(tenant: Tenant, name: string, n: number): string {
  const random = seeded(1000 + n)
  const id = `0000${n.toString(16).padStart(4, '0')}-${Math.floor(random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}-4000-a000-000000000000`
  tenant.addUser({
    id,
    userPrincipalName: `${name}@contoso.example`,
    displayName: name,
    accountEnabled: true,
    onPremisesSyncEnabled: null,
    onPremisesSecurityIdentifier: null,
    userType: 'Member',
    isAdmin: false,
    signInSessionsValidFromDateTime: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    lastPasswordChangeDateTime: new Date(Date.now() - 60 * 86_400_000).toISOString(),
    passwordResets: 0,
    forceChangePasswordNextSignIn: false,
  })
  return id
}
