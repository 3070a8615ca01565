/**
 * Decisions no other test pinned, found by mutation testing (issue #16 item 12, `pnpm mutation`):
 * each test here kills mutants that survived the rest of the suite, through the public API only.
 * The evidence-key basis is left to the evidence rework (issue #16 item 2).
 */
import { describe, expect, it } from 'vitest'
import {
  type Action,
  apiNeeds,
  parsePolicy,
  permissionReport,
  requiredPermissions,
  resolveRoute,
  type UserSignals,
} from '../src/index.js'
import { actions, ago, plan, policy, rule, user } from './signals.js'

const detection = (id: string, riskEventType: string, source: string | undefined, hoursAgo = 1) => ({
  id,
  riskEventType,
  source,
  detectedDateTime: ago(hoursAgo),
})

const matchesAlone = (when: string, u: UserSignals): boolean =>
  plan(policy(rule(when, '[revokeSessions]')), [u]).steps.length === 1

describe('conditions: anyOf is any, none is none of', () => {
  const leakedOnly = user({ detections: [detection('d1', 'leakedCredentials', 'IdentityProtection')] })

  it('detections.anyOf matches when one of several listed types is present', () => {
    expect(
      matchesAlone('{ detections: { anyOf: [leakedCredentials, unfamiliarFeatures] } }', leakedOnly),
    ).toBe(true)
  })
  it('detections.none refuses when one of several listed types is present', () => {
    expect(
      matchesAlone('{ detections: { none: [leakedCredentials, unfamiliarFeatures] } }', leakedOnly),
    ).toBe(false)
  })
  it('sources.anyOf matches when one of several listed sources is present (case-insensitive)', () => {
    expect(
      matchesAlone('{ sources: { anyOf: [identityprotection, MicrosoftCloudAppSecurity] } }', leakedOnly),
    ).toBe(true)
  })
  it('sources.none refuses when one of several listed sources is present', () => {
    expect(
      matchesAlone('{ sources: { none: [IdentityProtection, MicrosoftCloudAppSecurity] } }', leakedOnly),
    ).toBe(false)
  })
  it('minDistinctSources counts sources, and a detection without a source is none', () => {
    const noSource = user({ detections: [detection('d1', 'leakedCredentials', undefined)] })
    expect(matchesAlone('{ minDistinctSources: 1 }', noSource)).toBe(false)
    expect(matchesAlone('{ minDistinctSources: 2 }', leakedOnly)).toBe(false)
    expect(matchesAlone('{ minDistinctSources: 1 }', leakedOnly)).toBe(true)
  })
  it('detectedWithin includes a detection exactly at its edge', () => {
    expect(matchesAlone('{ detectedWithin: PT1H }', leakedOnly)).toBe(true)
    expect(matchesAlone('{ detectedWithin: PT59M }', leakedOnly)).toBe(false)
  })
  it('the lookback includes a detection exactly at its start', () => {
    const edge = user({ detections: [detection('d1', 'leakedCredentials', 'IdentityProtection', 24)] })
    expect(matchesAlone('{ detections: { anyOf: [leakedCredentials] } }', edge)).toBe(true)
  })
  it('a detection dated after now is not evidence (a skewed clock or a forged record)', () => {
    const future = user({ detections: [detection('d1', 'leakedCredentials', 'IdentityProtection', -1)] })
    expect(matchesAlone('{ detections: { anyOf: [leakedCredentials] } }', future)).toBe(false)
  })
  it('the justification counts two sources as two', () => {
    const u = user({
      detections: [
        detection('d1', 'leakedCredentials', 'IdentityProtection'),
        detection('d2', 'unfamiliarFeatures', 'MicrosoftCloudAppSecurity'),
      ],
    })
    expect(plan(policy(rule('{}', '[revokeSessions]')), [u]).users[0]?.justification.distinctSources).toBe(2)
  })
  it('the justification counts distinct signals and sources; no source is not a source', () => {
    const u = user({
      detections: [
        detection('d1', 'leakedCredentials', 'IdentityProtection'),
        detection('d2', 'unfamiliarFeatures', undefined),
        detection('d3', 'unfamiliarFeatures', 'identityProtection'),
      ],
    })
    const j = plan(policy(rule('{}', '[revokeSessions]')), [u]).users[0]?.justification
    expect(j).toMatchObject({ distinctSignals: 2, distinctSources: 1 })
  })
})

describe('match: all applies only the rules that matched, each action once', () => {
  it('a rule that did not match adds nothing', () => {
    const p = policy(
      rule('{ riskLevel: [high] }', '[revokeSessions]', 'high') +
        rule('{ riskLevel: [low] }', '[disable]', 'low'),
      'match: all\n',
    )
    const r = plan(p, [user()])
    expect(actions(r)).toEqual(['u1:revokeSessions'])
    expect(r.users[0]?.rules).toEqual(['high'])
  })
  it('the same action in two matching rules is one step, not a duplicate skip', () => {
    const p = policy(
      rule('{}', '[revokeSessions]', 'a') + rule('{}', '[revokeSessions, disable]', 'b'),
      'match: all\n',
    )
    const r = plan(p, [user()])
    expect(r.steps.map((s) => `${s.rule}:${s.action}`)).toEqual(['a:revokeSessions', 'b:disable'])
    expect(r.skips).toEqual([])
  })
})

describe('routes and "already done" of the Identity Protection actions and enable', () => {
  const cases: Array<[Action, string, string, string]> = [
    ['dismissRisk', 'dismissed', 'alreadyDismissed', 'dismiss'],
    ['confirmSafe', 'confirmedSafe', 'alreadySafe', 'confirmSafe'],
    ['confirmCompromised', 'confirmedCompromised', 'alreadyConfirmed', 'confirmCompromised'],
  ]
  for (const [action, doneState, skip, call] of cases) {
    it(`${action}: routed to Identity Protection's ${call}, skipped as ${skip} once ${doneState}`, () => {
      expect(resolveRoute(action, user())).toEqual({ route: { kind: 'identityProtection', call } })
      // No directory facts needed: Identity Protection acts on the risky user itself.
      expect(resolveRoute(action, user({ directory: undefined }))).toEqual({
        route: { kind: 'identityProtection', call },
      })
      const done = resolveRoute(action, user({ risk: { level: 'high', state: doneState } }))
      expect(done).toMatchObject({ skip })
      expect('detail' in done && done.detail).toMatch(/^the (risk|user) is already /)
    })
  }
  it('enable: Entra for a cloud user, Defender for Identity for a synced one, skipped when enabled', () => {
    const disabled = { accountEnabled: false, onPremisesSyncEnabled: false, userType: 'Member' }
    expect(resolveRoute('enable', user({ directory: disabled }))).toEqual({
      route: { kind: 'entra', call: 'enable' },
    })
    expect(resolveRoute('enable', user())).toMatchObject({ skip: 'alreadyEnabled' })
    const synced = user({
      directory: { ...disabled, onPremisesSyncEnabled: true },
      defender: {
        identityAccountId: 'ia-1',
        accounts: [{ provider: 'activeDirectory', identifier: 'ad-1', actions: [] }],
      },
    })
    expect(resolveRoute('enable', synced)).toEqual({
      route: {
        kind: 'defenderForIdentity',
        action: 'enable',
        identityAccountId: 'ia-1',
        accountId: 'ad-1',
        identityProvider: 'activeDirectory',
      },
    })
  })
  it('an action the switch does not know is a programming error, not a silent no-op', () => {
    expect(() => resolveRoute('bogus' as Action, user())).toThrow(/unhandled action bogus/)
  })
})

describe('Defender for Identity: only the Active Directory account is acted on', () => {
  const synced = (
    accounts: Array<{ provider: string; identifier: string; actions: string[] }>,
    note?: string,
  ) =>
    user({
      directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
      ...(accounts.length > 0 ? { defender: { identityAccountId: 'ia-1', accounts } } : {}),
      ...(note === undefined ? {} : { defenderNote: note }),
    })

  it('picks the Active Directory account among others, never the first one listed', () => {
    const r = resolveRoute(
      'disable',
      synced([
        { provider: 'entraId', identifier: 'entra-1', actions: [] },
        { provider: 'ActiveDirectory', identifier: 'ad-1', actions: [] },
      ]),
    )
    expect(r).toMatchObject({ route: { accountId: 'ad-1', identityProvider: 'activeDirectory' } })
  })
  it('an identity without an Active Directory account is no route', () => {
    expect(
      resolveRoute('disable', synced([{ provider: 'entraId', identifier: 'entra-1', actions: [] }])),
    ).toEqual({
      skip: 'noRoute',
      detail: 'the Defender for Identity identity has no Active Directory account',
    })
  })
  it('an account whose action list names other actions only is no route, and says which', () => {
    const r = resolveRoute(
      'disable',
      synced([
        { provider: 'activeDirectory', identifier: 'ad-1', actions: ['enable', 'forcePasswordReset'] },
      ]),
    )
    expect(r).toEqual({
      skip: 'noRoute',
      detail:
        "Defender for Identity lists the actions enable, forcePasswordReset for this Active Directory account, not 'disable'",
    })
  })
  it("no identity found: the default reason, or the lookup's own", () => {
    expect(resolveRoute('disable', synced([]))).toEqual({
      skip: 'noDefenderAccount',
      detail:
        'synced user: disable must happen in Active Directory, and no Defender for Identity account was found',
    })
    expect(resolveRoute('disable', synced([], 'two identities carry this SID'))).toMatchObject({
      detail: 'synced user: disable must happen in Active Directory, and two identities carry this SID',
    })
  })
})

describe('exclusions and guardrails say exactly why', () => {
  const G1 = '2b7e0000-0000-4000-a000-00000000000a'
  const G2 = '2b7e0000-0000-4000-a000-00000000000b'
  it('a user in two exclusion groups is named by the first group in sorted order', () => {
    const p = policy(rule('{}', '[disable]'), `exclude:\n  groups: [${G2}, ${G1}]\n`)
    const r = plan(p, [user()], { groupMembers: { [G2]: ['u1'], [G1]: ['u1'] } })
    expect(r.skips).toEqual([
      expect.objectContaining({ reason: 'excluded', rule: 'r', detail: `member of exclusion group ${G1}` }),
    ])
  })
  it('a user listed by UPN is skipped as listed', () => {
    const r = plan(policy(rule('{}', '[disable]'), 'exclude:\n  users: [u1@contoso.example]\n'), [user()])
    expect(r.skips[0]).toMatchObject({ reason: 'excluded', detail: 'listed in exclude.users' })
  })
  it('unknown exclusion groups refuse the run, naming them in sorted order', () => {
    const p = policy(rule('{}', '[disable]'), `exclude:\n  groups: [${G2}, ${G1}]\n`)
    expect(plan(p, [user()]).refused).toEqual({
      limit: 'exclude.groups',
      reason: `the members of exclusion group(s) ${G1}, ${G2} are unknown, so nobody can be acted on safely`,
    })
  })
  it('maxActionsPerRun: exactly the limit runs, one more is refused', () => {
    const users = [user({ id: 'a' }), user({ id: 'b' })]
    expect(
      plan(policy(rule('{}', '[disable]'), 'limits:\n  maxActionsPerRun: 2\n'), users).refused,
    ).toBeUndefined()
    expect(
      plan(policy(rule('{}', '[disable]'), 'limits:\n  maxActionsPerRun: 1\n'), users).refused?.limit,
    ).toBe('limits.maxActionsPerRun')
  })
  it('maxPerAction names the action, the count and the limit', () => {
    const users = [user({ id: 'a' }), user({ id: 'b' })]
    const r = plan(policy(rule('{}', '[disable]'), 'limits:\n  maxPerAction:\n    disable: 1\n'), users)
    expect(r.refused).toEqual({
      limit: 'limits.maxPerAction.disable',
      reason: 'the plan has 2 disable actions, more than limits.maxPerAction.disable (1)',
    })
  })
  it('users are planned in object-id order whatever order the signals came in', () => {
    const r = plan(policy(rule('{}', '[disable]')), [user({ id: 'c' }), user({ id: 'a' }), user({ id: 'b' })])
    expect(actions(r)).toEqual(['a:disable', 'b:disable', 'c:disable'])
    // Enough users for the sort to merge runs, not only insert: a fixed shuffle of 100 ids.
    const ids = Array.from({ length: 100 }, (_, i) => `u${String((i * 37) % 100).padStart(3, '0')}`)
    const many = plan(
      policy(rule('{}', '[disable]'), 'limits:\n  maxActionsPerRun: 1000\n'),
      ids.map((id) => user({ id })),
    )
    expect(many.steps.map((s) => s.userId)).toEqual([...ids].sort())
  })
})

describe('permissions: exactly what each action and kind of user needs', () => {
  const p = (rules: string, extra = '') =>
    parsePolicy(`version: 1\nlookback: PT24H\n${extra}rules:\n${rules}`)
  const READS = ['IdentityRiskEvent.Read.All', 'IdentityRiskyUser.Read.All', 'User.Read.All']

  it('every read is there with its reason', () => {
    const report = permissionReport(
      p(rule('{}', '[dismissRisk]'), `exclude:\n  groups: [2b7e0000-0000-4000-a000-00000000000a]\n`),
    )
    expect(report.reasons['IdentityRiskEvent.Read.All']).toEqual([
      'read risk detections in the lookback window',
    ])
    expect(report.reasons['IdentityRiskyUser.Read.All']).toEqual(['read risky users'])
    expect(report.reasons['User.Read.All']).toEqual([
      'read directory facts (accountEnabled, sync state, user type) of risky users',
    ])
    expect(report.reasons['GroupMember.ReadBasic.All']).toEqual([
      'read the transitive members (ids) of exclusion groups',
    ])
  })
  it('confirmSafe, requireSignInAgain and enable have their permissions', () => {
    expect(requiredPermissions(p(rule('{}', '[confirmSafe]')))).toContain('IdentityRiskyUser.ReadWrite.All')
    expect(requiredPermissions(p(rule('{ synced: false }', '[requireSignInAgain]')))).toContain(
      'User.RevokeSessions.All',
    )
    expect(requiredPermissions(p(rule('{}', '[enable]')))).toEqual(
      [
        ...READS,
        'SecurityIdentitiesAccount.Read.All',
        'SecurityIdentitiesActions.ReadWrite.All',
        'User.EnableDisableAccount.All',
      ].sort(),
    )
  })
  it('a rule without userType covers guests too, and says so', () => {
    expect(
      permissionReport(p(rule('{ synced: false }', '[disable]'))).reasons['User.EnableDisableAccount.All'],
    ).toEqual(["rule 'r': disable (cloud users)", "rule 'r': disable (guest users)"])
  })
  it('guests: revoking sessions and resetting passwords need nothing (no route)', () => {
    expect(
      requiredPermissions(p(rule('{ userType: [guest] }', '[revokeSessions, forcePasswordReset]'))),
    ).toEqual(READS)
  })
  it('the User Administrator role only for password resets of cloud users', () => {
    expect(
      permissionReport(p(rule('{ synced: false }', '[disable, revokeSessions]'))).directoryRoles,
    ).toEqual([])
    expect(permissionReport(p(rule('{ synced: true }', '[forcePasswordReset]'))).directoryRoles).toEqual([])
    expect(permissionReport(p(rule('{ synced: false }', '[forcePasswordReset]'))).directoryRoles).toEqual([
      'User Administrator',
    ])
  })
  it('apiNeeds: the reads, then Defender for Identity per rule, with whether another route exists', () => {
    const needs = apiNeeds(
      p(
        rule('{ synced: true }', '[disable]', 'onprem') +
          rule('{ userType: [member] }', '[disable]', 'members'),
      ),
    )
    expect(needs).toEqual([
      { api: 'identityProtection', why: 'reading risky users and risk detections', otherRoute: false },
      { api: 'directory', why: 'reading directory facts of risky users', otherRoute: false },
      {
        api: 'defenderForIdentity',
        why: "rule 'onprem': disable of users synced from on-premises AD",
        otherRoute: false,
      },
      {
        api: 'defenderForIdentity',
        why: "rule 'members': disable of users synced from on-premises AD",
        otherRoute: true,
      },
    ])
  })
})
