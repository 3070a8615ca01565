/**
 * Decisions that must not go wrong without any fault (issue #16 items 1 and 2): exclusions match the
 * directory object, and aging evidence is not new evidence.
 */
import type { GraphClient } from '@tourniquet/core'
import {
  addUserSpec,
  DEFAULT_TENANT_ID,
  DOMAIN,
  registerApps,
  seeded,
  Tenant,
  type UserSpec,
} from '@tourniquet/mock-graph'
import { type DetectionSignal, evaluate, parsePolicy, type Signals } from '@tourniquet/policy'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { consultLedger } from '../src/engine/resume.js'
import { ledgerEntry } from '../src/ledger/ledger.js'
import { InProcessTenant, MemoryLedger } from './support/tenant.js'

function tenantOf(specs: UserSpec[]): Tenant {
  const now = Date.now()
  const tenant = new Tenant(DEFAULT_TENANT_ID, [DOMAIN], () => Date.now())
  registerApps(tenant, now)
  const random = seeded(16)
  for (const spec of specs) addUserSpec(tenant, random, spec, now)
  return tenant
}

const actionsOf = (t: InProcessTenant, kind: string) => t.mock.tenant.actions.filter((a) => a.kind === kind)

/** The client, except that the directory facts of `userId` cannot be read (a $batch item that failed). */
function withoutFactsOf(client: GraphClient, userId: string): GraphClient {
  const users = new Proxy(client.users, {
    get(target, p, receiver) {
      if (p !== 'getEach') return Reflect.get(target, p, receiver)
      return async function* (...args: Parameters<GraphClient['users']['getEach']>) {
        for await (const [id, fact] of target.getEach(...args))
          yield [id, id === userId ? new Error('503 Service Unavailable') : fact] as const
      }
    },
  })
  return new Proxy(client, { get: (target, p, r) => (p === 'users' ? users : Reflect.get(target, p, r)) })
}

describe('exclusions by identity', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  const policy = (exclude: string) => `version: 1
lookback: PT48H
exclude:
  users: [${exclude}]
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [confirmCompromised]
`

  it('a renamed break-glass account listed by its current UPN is excluded even when its directory facts cannot be read', async () => {
    const tenant = tenantOf([
      // Identity Protection still holds the UPN from before the rename.
      { name: 'breakglass', risk: { level: 'high' }, riskUpn: `old-breakglass@${DOMAIN}` },
      { name: 'ann', risk: { level: 'high' } },
    ])
    t = await InProcessTenant.start({ tenant }, policy(`breakglass@${DOMAIN}`))
    const bg = [...tenant.users.values()].find((u) => u.userPrincipalName === `breakglass@${DOMAIN}`)
    const client = withoutFactsOf(t.client, bg?.id as string)
    const r = await t.run('apply', { ledger: new MemoryLedger(), client })
    const confirmed = actionsOf(t, 'confirmCompromised').map((a) => a.userId)
    expect(confirmed).not.toContain(bg?.id)
    expect(confirmed).toHaveLength(1)
    const skip = r.lines.find((l) => l.event === 'step' && l.userId === bg?.id)
    expect(skip).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/excluded/),
      userPrincipalName: `breakglass@${DOMAIN}`,
    })
  })

  it('an excluded UPN that does not resolve refuses the run (exit 3), as an unreadable exclusion group does', async () => {
    t = await InProcessTenant.start(
      { tenant: tenantOf([{ name: 'ann', risk: { level: 'high' } }]) },
      policy(`nobody@${DOMAIN}`),
    )
    const r = await t.run('apply', { ledger: new MemoryLedger() })
    expect(r.exitCode).toBe(3)
    expect(actionsOf(t, 'confirmCompromised')).toEqual([])
    expect(r.lines.find((l) => l.event === 'refused')).toMatchObject({
      limit: 'exclude.users',
      reason: expect.stringContaining(`nobody@${DOMAIN}`),
    })
  })
})

describe('aging evidence is not new evidence', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('a detection leaving the lookback does not make the revoke run again; a new detection does', async () => {
    const tenant = tenantOf([
      {
        name: 'ann',
        risk: { level: 'high' },
        detections: [
          { type: 'unlikelyTravel', hoursAgo: 40 },
          { type: 'anonymizedIPAddress', hoursAgo: 2 },
        ],
      },
    ])
    // Graph's clock moves with ours: detections age out by Graph's clock (its Date header).
    let offset = 0
    t = await InProcessTenant.start(
      { tenant, now: () => Date.now() + offset },
      `version: 1
lookback: PT48H
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [revokeSessions]
`,
    )
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    expect(actionsOf(t, 'revokeSignInSessions')).toHaveLength(1)
    // Ten hours later the 40-hour-old detection is outside the 48-hour lookback.
    offset = 10 * 3_600_000
    const later = new Date(Date.now() + offset)
    const second = await t.run('apply', { ledger, now: () => later })
    expect(actionsOf(t, 'revokeSignInSessions')).toHaveLength(1)
    expect(second.lines.find((l) => l.event === 'step')).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/already done/),
    })
    const user = [...tenant.users.values()][0]
    addUserSpec(
      tenant,
      seeded(17),
      { name: 'ann-again', detections: [{ type: 'passwordSpray', hoursAgo: 1 }] },
      Date.now() + offset,
    )
    // The new detection belongs to ann: move it over. It is published now (by Graph's clock).
    const fresh = tenant.detections.at(-1)
    if (fresh && user) fresh.userId = user.id
    if (fresh) fresh.lastUpdatedDateTime = new Date(Date.now() + offset).toISOString()
    await t.run('apply', { ledger, now: () => later })
    expect(actionsOf(t, 'revokeSignInSessions')).toHaveLength(2)
  })
})

describe('the ledger decides by the detections acted on', () => {
  const step = (evidence: string[], evidenceKey: string) => ({
    userId: 'u1',
    userPrincipalName: `u1@${DOMAIN}`,
    rule: 'high',
    action: 'disable' as const,
    route: { kind: 'entra' as const, call: 'disable' as const },
    evidenceKey,
    evidence,
  })

  it('an intent that a later line settled under another key is not interrupted again', () => {
    // Run 1 crashed after the intent for {d1, d2}; run 2 (d1 aged out) resumed it and recorded it.
    const entries = [
      ledgerEntry('r1', step(['d1', 'd2'], 'k12'), 'intent'),
      ledgerEntry('r2', step(['d2'], 'k2'), 'done', 'succeeded'),
    ]
    // Run 3: d2 is still there, under yet another key (a detection the rule ignores came and went).
    const view = consultLedger([step(['d2'], 'k2x')], entries)
    expect(view.interrupted).toEqual([])
    expect(view.done.map((d) => d.entry.runId)).toEqual(['r2'])
  })

  it('a failed attempt acted on nothing: the step is tried again', () => {
    const entries = [ledgerEntry('r1', step(['d1'], 'k1'), 'done', 'failed')]
    expect(consultLedger([step([], 'k0')], entries).todo).toHaveLength(1)
  })

  it('a new detection makes the step new; the ones acted on do not', () => {
    const entries = [ledgerEntry('r1', step(['d1', 'd2'], 'k12'), 'done', 'succeeded')]
    expect(consultLedger([step(['d2', 'd3'], 'k23')], entries).todo).toHaveLength(1)
    expect(consultLedger([step(['d1'], 'k1')], entries).done).toHaveLength(1)
  })
})

describe('property: removing detections never creates a new step', () => {
  const POLICY = parsePolicy(
    `version: 1
lookback: PT48H
match: all
rules:
  - name: any-high
    when: { riskLevel: [high] }
    then: [confirmCompromised, revokeSessions]
  - name: travel
    when: { detections: { anyOf: [unlikelyTravel] } }
    then: [revokeSessions, forcePasswordReset]
`,
    'policy.yaml',
  )
  const NOW = new Date('2026-12-01T12:00:00Z')
  const TYPES = ['unlikelyTravel', 'anonymizedIPAddress', 'passwordSpray']

  const signalsOf = (level: string, detections: DetectionSignal[]): Signals => ({
    users: [
      {
        userId: 'u1',
        userPrincipalName: `u1@${DOMAIN}`,
        risk: { level, state: 'atRisk', detail: 'none' },
        detections,
        directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
      },
    ],
    groupMembers: {},
  })

  const detection = fc.record({
    id: fc.uuid(),
    riskEventType: fc.constantFrom(...TYPES),
    hoursAgo: fc.integer({ min: 0, max: 47 }),
  })

  it('every step of a plan on a subset of the detections is already done once the full plan was acted on', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(detection, { selector: (d) => d.id, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.constantFrom('high', 'medium'),
        (all, keep, level) => {
          const signals = (ds: typeof all): Signals =>
            signalsOf(
              level,
              ds.map((d) => ({
                id: d.id,
                riskEventType: d.riskEventType,
                riskLevel: 'high',
                source: 'IdentityProtection',
                detectionTimingType: 'realtime',
                detectedDateTime: new Date(NOW.getTime() - d.hoursAgo * 3_600_000).toISOString(),
              })),
            )
          const first = evaluate(POLICY, signals(all), NOW)
          const ledger = first.steps.map((s) => ledgerEntry('r1', s, 'done', 'succeeded'))
          const fewer = evaluate(POLICY, signals(all.filter((_, i) => keep[i])), NOW)
          const view = consultLedger(fewer.steps, ledger)
          // The policy has no `none` condition, so fewer detections can only match fewer rules.
          expect(view.todo).toEqual([])
        },
      ),
      { seed: 16, numRuns: 300 },
    )
  })
})
