import { describe, expect, it } from 'vitest'
import { evaluate } from '../src/index.js'
import { actions, ago, NOW, plan, policy, rule, user } from './signals.js'

describe('conditions', () => {
  it('riskLevel', () => {
    const p = policy(rule('{ riskLevel: [high] }', '[revokeSessions]'))
    expect(
      actions(plan(p, [user({ id: 'a' }), user({ id: 'b', risk: { level: 'medium', state: 'atRisk' } })])),
    ).toEqual(['a:revokeSessions'])
  })
  it('riskState defaults to atRisk and confirmedCompromised', () => {
    const p = policy(rule('{}', '[revokeSessions]'))
    const users = ['atRisk', 'confirmedCompromised', 'remediated', 'dismissed', 'confirmedSafe'].map(
      (state, i) => user({ id: `u${i}`, risk: { level: 'high', state } }),
    )
    expect(actions(plan(p, users))).toEqual(['u0:revokeSessions', 'u1:revokeSessions'])
    const explicit = policy(rule('{ riskState: [remediated] }', '[revokeSessions]'))
    expect(actions(plan(explicit, users))).toEqual(['u2:revokeSessions'])
  })
  it('detections anyOf / allOf / none', () => {
    const two = user({
      id: 'two',
      detections: [
        { id: 'd1', riskEventType: 'leakedCredentials', detectedDateTime: ago(1) },
        { id: 'd2', riskEventType: 'unfamiliarFeatures', detectedDateTime: ago(2) },
      ],
    })
    const one = user({ id: 'one' })
    expect(
      actions(plan(policy(rule('{ detections: { anyOf: [unfamiliarFeatures] } }', '[disable]')), [two, one])),
    ).toEqual(['two:disable'])
    expect(
      actions(
        plan(
          policy(rule('{ detections: { allOf: [leakedCredentials, unfamiliarFeatures] } }', '[disable]')),
          [two, one],
        ),
      ),
    ).toEqual(['two:disable'])
    expect(
      actions(plan(policy(rule('{ detections: { none: [unfamiliarFeatures] } }', '[disable]')), [two, one])),
    ).toEqual(['one:disable'])
  })
  it('only detections inside the lookback count', () => {
    const old = user({
      id: 'old',
      detections: [{ id: 'x', riskEventType: 'leakedCredentials', detectedDateTime: ago(30) }],
    })
    expect(
      actions(plan(policy(rule('{ detections: { anyOf: [leakedCredentials] } }', '[disable]')), [old])),
    ).toEqual([])
  })
  it('minDistinctSignals counts distinct event types; minDistinctSources distinct sources', () => {
    const same = user({
      id: 'same',
      detections: [
        { id: 'a', riskEventType: 'x', source: 'IdentityProtection', detectedDateTime: ago(1) },
        { id: 'b', riskEventType: 'x', source: 'MicrosoftCloudAppSecurity', detectedDateTime: ago(1) },
      ],
    })
    const diff = user({
      id: 'diff',
      detections: [
        { id: 'c', riskEventType: 'x', source: 'IdentityProtection', detectedDateTime: ago(1) },
        { id: 'd', riskEventType: 'y', source: 'IdentityProtection', detectedDateTime: ago(1) },
      ],
    })
    expect(actions(plan(policy(rule('{ minDistinctSignals: 2 }', '[disable]')), [same, diff]))).toEqual([
      'diff:disable',
    ])
    expect(actions(plan(policy(rule('{ minDistinctSources: 2 }', '[disable]')), [same, diff]))).toEqual([
      'same:disable',
    ])
  })
  it('sources anyOf / none (case-insensitive)', () => {
    const mcas = user({
      id: 'm',
      detections: [
        { id: 'a', riskEventType: 'x', source: 'MicrosoftCloudAppSecurity', detectedDateTime: ago(1) },
      ],
    })
    expect(
      actions(
        plan(policy(rule('{ sources: { anyOf: [microsoftcloudappsecurity] } }', '[disable]')), [
          mcas,
          user(),
        ]),
      ),
    ).toEqual(['m:disable'])
    expect(
      actions(
        plan(policy(rule('{ sources: { none: [MicrosoftCloudAppSecurity] } }', '[disable]')), [mcas, user()]),
      ),
    ).toEqual(['u1:disable'])
  })
  it('detectedWithin looks at the newest detection', () => {
    const fresh = user({ id: 'fresh' })
    const stale = user({
      id: 'stale',
      detections: [{ id: 's', riskEventType: 'x', detectedDateTime: ago(8) }],
    })
    expect(
      actions(plan(policy(rule('{ detectedWithin: PT6H }', '[revokeSessions]')), [fresh, stale])),
    ).toEqual(['fresh:revokeSessions'])
  })
  it('userType and synced; unknown directory facts never match them', () => {
    const guest = user({
      id: 'g',
      directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Guest' },
    })
    const synced = user({
      id: 's',
      directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
    })
    const unknown = user({ id: 'x', directory: undefined })
    expect(
      actions(plan(policy(rule('{ userType: [guest] }', '[disable]')), [guest, synced, unknown, user()])),
    ).toEqual(['g:disable'])
    expect(
      actions(
        plan(policy(rule('{ synced: true }', '[confirmCompromised]')), [guest, synced, unknown, user()]),
      ),
    ).toEqual(['s:confirmCompromised'])
  })
  it("match: first uses the first matching rule; match: all merges every matching rule's actions", () => {
    const rules =
      rule('{ riskLevel: [high] }', '[revokeSessions]', 'a') +
      rule('{ detections: { anyOf: [leakedCredentials] } }', '[revokeSessions, disable]', 'b')
    expect(actions(plan(policy(rules), [user()]))).toEqual(['u1:revokeSessions'])
    const all = plan(policy(rules, 'match: all\n'), [user()])
    expect(actions(all)).toEqual(['u1:revokeSessions', 'u1:disable'])
    expect(all.users[0]?.rules).toEqual(['a', 'b'])
  })
})

describe('routing by source of authority', () => {
  const cloud = user({ id: 'cloud' })
  const synced = user({
    id: 'synced',
    directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
    defender: {
      identityAccountId: 'mdi-1',
      accounts: [
        { provider: 'ActiveDirectory', identifier: 'ad-1', actions: ['Disable', 'forcePasswordReset'] },
        { provider: 'EntraID', identifier: 'e', actions: [] },
      ],
    },
  })
  const guest = user({
    id: 'guest',
    directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Guest' },
  })
  const all = policy(
    rule('{}', '[confirmCompromised, revokeSessions, requireSignInAgain, forcePasswordReset, disable]'),
  )
  const p = plan(all, [cloud, synced, guest])
  const stepsOf = (id: string) => p.steps.filter((s) => s.userId === id).map((s) => [s.action, s.route])
  const skipsOf = (id: string) => p.skips.filter((s) => s.userId === id).map((s) => [s.action, s.reason])

  it('cloud users: Entra endpoints', () => {
    expect(stepsOf('cloud')).toEqual([
      ['confirmCompromised', { kind: 'identityProtection', call: 'confirmCompromised' }],
      ['revokeSessions', { kind: 'entra', call: 'revokeSignInSessions' }],
      ['forcePasswordReset', { kind: 'entra', call: 'resetPassword' }],
      ['disable', { kind: 'entra', call: 'disable' }],
    ])
    expect(skipsOf('cloud')).toEqual([['requireSignInAgain', 'duplicate']])
  })
  it('synced users: disable and password reset in AD through Defender for Identity', () => {
    expect(stepsOf('synced')).toContainEqual([
      'disable',
      {
        kind: 'defenderForIdentity',
        action: 'disable',
        identityAccountId: 'mdi-1',
        accountId: 'ad-1',
        identityProvider: 'activeDirectory',
      },
    ])
    expect(stepsOf('synced')).toContainEqual([
      'forcePasswordReset',
      {
        kind: 'defenderForIdentity',
        action: 'forcePasswordReset',
        identityAccountId: 'mdi-1',
        accountId: 'ad-1',
        identityProvider: 'activeDirectory',
      },
    ])
    expect(stepsOf('synced')).toContainEqual([
      'revokeSessions',
      { kind: 'entra', call: 'revokeSignInSessions' },
    ])
  })
  it('guests: no revoke, no password reset; disable in this tenant', () => {
    expect(skipsOf('guest')).toEqual([
      ['revokeSessions', 'guest'],
      ['requireSignInAgain', 'guest'],
      ['forcePasswordReset', 'guest'],
    ])
    expect(stepsOf('guest').map((s) => s[0])).toEqual(['confirmCompromised', 'disable'])
  })
  it('synced users without a Defender account, or without the action allowed, are skipped with the reason', () => {
    const noMdi = user({
      id: 'n',
      directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
    })
    const noEnable = {
      ...synced,
      userId: 'e',
      risk: synced.risk,
      directory: { accountEnabled: false, onPremisesSyncEnabled: true, userType: 'Member' },
    }
    const q = plan(policy(rule('{}', '[disable, enable]')), [noMdi, noEnable])
    expect(q.skips.map((s) => [s.userId, s.action, s.reason])).toEqual([
      ['e', 'disable', 'alreadyDisabled'],
      ['e', 'enable', 'noRoute'],
      ['n', 'disable', 'noDefenderAccount'],
      ['n', 'enable', 'alreadyEnabled'],
    ])
  })
  it('an empty Defender for Identity actions list (as every docs example shows) does not block the route', () => {
    const empty = user({
      id: 'x',
      directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
      defender: {
        identityAccountId: 'mdi-x',
        accounts: [{ provider: 'activeDirectory', identifier: 'ad-x', actions: [] }],
      },
    })
    const q = plan(policy(rule('{}', '[disable, forcePasswordReset]')), [empty])
    expect(q.steps.map((s) => [s.action, s.route.kind])).toEqual([
      ['disable', 'defenderForIdentity'],
      ['forcePasswordReset', 'defenderForIdentity'],
    ])
    expect(q.skips).toEqual([])
  })
  it('a cloud without Defender for Identity turns its routes into skips with the reason; Entra routes stay', () => {
    const signals = {
      users: [user({ id: 'cloud' }), synced],
      unavailable: { defenderForIdentity: 'the usgov cloud does not offer' },
    }
    const q = evaluate(all, signals, NOW)
    expect(q.steps.filter((s) => s.route.kind === 'defenderForIdentity')).toEqual([])
    expect(q.steps.filter((s) => s.userId === 'cloud').map((s) => s.action)).toContain('disable')
    const skip = q.skips.find((s) => s.userId === 'synced' && s.action === 'disable')
    expect(skip).toMatchObject({ reason: 'noRoute' })
    expect(skip?.detail).toMatch(/Defender for Identity, which the usgov cloud does not offer/)
  })
  it('says why no Defender for Identity identity is known when the lookup was ambiguous', () => {
    const ambiguous = user({
      id: 'amb',
      directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
      defenderNote: '2 Defender for Identity identities carry its SID',
    })
    const q = plan(policy(rule('{}', '[disable]')), [ambiguous])
    expect(q.skips[0]).toMatchObject({ reason: 'noDefenderAccount' })
    expect(q.skips[0]?.detail).toMatch(/2 Defender for Identity identities carry its SID/)
  })
  it('already-applied states are skips, not steps', () => {
    const done = user({
      risk: { level: 'high', state: 'confirmedCompromised' },
      directory: { accountEnabled: false, onPremisesSyncEnabled: false, userType: 'Member' },
    })
    const q = plan(policy(rule('{}', '[confirmCompromised, disable]')), [done])
    expect(q.steps).toEqual([])
    expect(q.skips.map((s) => s.reason)).toEqual(['alreadyConfirmed', 'alreadyDisabled'])
  })
  it('without directory facts, only Identity Protection actions have a route', () => {
    const q = plan(policy(rule('{}', '[confirmCompromised, disable]')), [user({ directory: undefined })])
    expect(actions(q)).toEqual(['u1:confirmCompromised'])
    expect(q.skips.map((s) => s.reason)).toEqual(['noDirectoryFacts'])
  })
})

describe('guardrails', () => {
  it('excludes users by UPN or id, and by exclusion-group membership', () => {
    const g = '2b7e0000-0000-4000-a000-000000000001'
    const b = 'b0000000-0000-4000-a000-00000000000b'
    const p = policy(
      rule('{}', '[disable]'),
      `exclude:\n  users: [A@contoso.example, ${b.toUpperCase()}]\n  groups: [${g}]\n`,
    )
    const q = plan(p, [user({ id: 'a' }), user({ id: b }), user({ id: 'c' }), user({ id: 'd' })], {
      groupMembers: { [g]: ['c'] },
    })
    expect(actions(q)).toEqual(['d:disable'])
    expect(q.skips.map((s) => [s.userId, s.reason])).toEqual([
      ['a', 'excluded'],
      [b, 'excluded'],
      ['c', 'excluded'],
    ])
  })
  it('refuses the whole run when an exclusion group could not be read', () => {
    const p = policy(rule('{}', '[disable]'), 'exclude:\n  groups: [2b7e0000-0000-4000-a000-000000000001]\n')
    const q = plan(p, [user()])
    expect(q.refused?.limit).toBe('exclude.groups')
    expect(q.steps).toEqual([])
  })
  it('refuses, not truncates, a plan over maxActionsPerRun', () => {
    const p = policy(rule('{}', '[revokeSessions, disable]'), 'limits:\n  maxActionsPerRun: 3\n')
    const q = plan(p, [user({ id: 'a' }), user({ id: 'b' })])
    expect(q.refused).toMatchObject({ limit: 'limits.maxActionsPerRun' })
    expect(q.refused?.reason).toMatch(/4 actions, more than limits\.maxActionsPerRun \(3\)/)
    expect(q.steps).toEqual([])
    expect(q.wanted).toEqual({ revokeSessions: 2, disable: 2 })
  })
  it('refuses a plan over maxPerAction', () => {
    const p = policy(rule('{}', '[revokeSessions, disable]'), 'limits:\n  maxPerAction: { disable: 1 }\n')
    expect(plan(p, [user({ id: 'a' }), user({ id: 'b' })]).refused?.limit).toBe('limits.maxPerAction.disable')
    expect(plan(p, [user({ id: 'a' })]).refused).toBeUndefined()
  })
})

describe('plan contents', () => {
  it('records the justification and a stable evidence key per user', () => {
    const q = plan(policy(rule('{}', '[disable]')), [user()])
    expect(q.users[0]?.justification).toMatchObject({
      riskLevel: 'high',
      riskState: 'atRisk',
      distinctSignals: 1,
      distinctSources: 1,
    })
    expect(q.users[0]?.justification.detections.map((d) => d.id)).toEqual(['u1-d1'])
    expect(q.steps[0]?.evidenceKey).toMatch(/^[0-9a-f]{16}$/)
    const newEvidence = plan(policy(rule('{}', '[disable]')), [
      user({
        detections: [...user().detections, { id: 'new', riskEventType: 'x', detectedDateTime: ago(0) }],
      }),
    ])
    expect(newEvidence.steps[0]?.evidenceKey).not.toBe(q.steps[0]?.evidenceKey)
  })
  it('ignores the detection Identity Protection adds when an admin confirms compromise: it is not new evidence', () => {
    const p = policy(rule('{}', '[revokeSessions]'))
    const before = plan(p, [user()])
    const confirmed = user({
      risk: { level: 'high', state: 'confirmedCompromised' },
      detections: [
        ...user().detections,
        { id: 'admin', riskEventType: 'adminConfirmedUserCompromised', detectedDateTime: ago(0) },
      ],
    })
    const after = plan(p, [confirmed])
    expect(after.steps[0]?.evidenceKey).toBe(before.steps[0]?.evidenceKey)
    expect(after.users[0]?.justification.distinctSignals).toBe(1)
  })
  it('counts risky users that matched no rule', () => {
    const q = plan(policy(rule('{ riskLevel: [low] }', '[disable]')), [user(), user({ id: 'x' })])
    expect(q.unmatched).toBe(2)
  })
})
