import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ACTIONS, evaluate, type Policy, parsePolicy, type Signals, type UserSignals } from '../src/index.js'

const NOW = new Date('2026-01-15T12:00:00Z')
const TYPES = [
  'leakedCredentials',
  'unfamiliarFeatures',
  'impossibleTravel',
  'passwordSpray',
  'anonymizedIPAddress',
]
const SOURCES = ['IdentityProtection', 'MicrosoftCloudAppSecurity', 'activeDirectory']
const GROUP = '2b7e0000-0000-4000-a000-000000000001'

const detection = fc.record({
  id: fc.uuid(),
  riskEventType: fc.constantFrom(...TYPES),
  source: fc.constantFrom(...SOURCES),
  detectedDateTime: fc
    .integer({ min: 0, max: 48 })
    .map((h) => new Date(NOW.getTime() - h * 3_600_000).toISOString()),
})

const userArb: fc.Arbitrary<UserSignals> = fc.record({
  userId: fc.uuid(),
  userPrincipalName: fc.emailAddress(),
  risk: fc.record({
    level: fc.constantFrom('low', 'medium', 'high'),
    state: fc.constantFrom('atRisk', 'confirmedCompromised', 'dismissed', 'remediated'),
  }),
  detections: fc.array(detection, { maxLength: 4 }),
  directory: fc.option(
    fc.record({
      accountEnabled: fc.boolean(),
      onPremisesSyncEnabled: fc.boolean(),
      userType: fc.constantFrom('Member', 'Guest'),
    }),
    { nil: undefined },
  ),
  defender: fc.option(
    fc.record({
      identityAccountId: fc.uuid(),
      accounts: fc.constant([
        {
          provider: 'ActiveDirectory',
          identifier: 'ad',
          actions: ['disable', 'enable', 'forcePasswordReset'],
        },
      ]),
    }),
    { nil: undefined },
  ),
})

const ruleArb = fc.record({
  riskLevel: fc.option(fc.subarray(['low', 'medium', 'high'], { minLength: 1 }), { nil: undefined }),
  anyOf: fc.option(fc.subarray(TYPES, { minLength: 1 }), { nil: undefined }),
  minDistinctSignals: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  then: fc.subarray([...ACTIONS], { minLength: 1 }),
})

const policyArb = fc
  .record({
    rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
    match: fc.constantFrom('first', 'all'),
    maxActionsPerRun: fc.integer({ min: 0, max: 40 }),
    maxDisable: fc.integer({ min: 0, max: 10 }),
  })
  .map(({ rules, match, maxActionsPerRun, maxDisable }) => ({
    version: 1,
    lookback: 'PT24H',
    match,
    exclude: { users: [], groups: [GROUP] },
    limits: { maxActionsPerRun, maxPerAction: { disable: maxDisable } },
    rules: rules.map((r, i) => ({
      name: `rule-${i}`,
      when: {
        ...(r.riskLevel ? { riskLevel: r.riskLevel } : {}),
        ...(r.anyOf ? { detections: { anyOf: r.anyOf } } : {}),
        ...(r.minDistinctSignals ? { minDistinctSignals: r.minDistinctSignals } : {}),
      },
      then: r.then,
    })),
  }))
  .map((input): Policy => parsePolicy(JSON.stringify(input), 'generated.json'))

const scenario = fc
  .tuple(
    policyArb,
    fc.uniqueArray(userArb, { selector: (u) => u.userId, maxLength: 25 }),
    fc.array(fc.nat(), { maxLength: 25 }),
  )
  .map(([policy, users, picks]) => {
    const excluded = users.filter((_, i) => picks.includes(i)).map((u) => u.userId)
    const signals: Signals = { users, groupMembers: { [GROUP]: excluded } }
    return { policy, signals, excluded: new Set(excluded) }
  })

describe('evaluation properties', () => {
  it('never plans an action for an excluded user', () => {
    fc.assert(
      fc.property(scenario, ({ policy, signals, excluded }) => {
        const plan = evaluate(policy, signals, NOW)
        expect(plan.steps.filter((s) => excluded.has(s.userId))).toEqual([])
        expect(plan.users.filter((u) => excluded.has(u.userId)).flatMap((u) => u.steps)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('never exceeds its limits: a plan over a limit is refused whole', () => {
    fc.assert(
      fc.property(scenario, ({ policy, signals }) => {
        const plan = evaluate(policy, signals, NOW)
        expect(plan.steps.length).toBeLessThanOrEqual(policy.limits.maxActionsPerRun)
        expect(plan.steps.filter((s) => s.action === 'disable').length).toBeLessThanOrEqual(
          policy.limits.maxPerAction.disable ?? Number.POSITIVE_INFINITY,
        )
        if (plan.refused) expect(plan.steps).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('is deterministic, and independent of the order of users and detections', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), ({ policy, signals }, seed) => {
        const a = evaluate(policy, signals, NOW)
        expect(evaluate(policy, signals, NOW)).toEqual(a)
        const shuffle = <T>(xs: T[]): T[] => {
          const out = [...xs]
          let s = seed
          for (let i = out.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff
            const j = s % (i + 1)
            ;[out[i], out[j]] = [out[j] as T, out[i] as T]
          }
          return out
        }
        const shuffled: Signals = {
          ...signals,
          users: shuffle(signals.users).map((u) => ({ ...u, detections: shuffle(u.detections) })),
        }
        expect(evaluate(policy, shuffled, NOW)).toEqual(a)
      }),
      { numRuns: 200 },
    )
  })

  it('every step has a route and every skip a reason; no user gets the same call twice', () => {
    fc.assert(
      fc.property(scenario, ({ policy, signals }) => {
        const plan = evaluate(policy, signals, NOW)
        for (const u of plan.users) {
          const calls = u.steps.map((s) => JSON.stringify(s.route))
          expect(new Set(calls).size).toBe(calls.length)
        }
        for (const s of plan.skips) expect(s.detail.length).toBeGreaterThan(0)
      }),
      { numRuns: 200 },
    )
  })
})
