// The servicePrincipals section: schema, evaluator, permissions, through the package's public API.
import { describe, expect, it } from 'vitest'
import {
  apiNeeds,
  BLAST_RADIUS,
  evaluateServicePrincipals,
  isPolicyError,
  parsePolicy,
  permissionReport,
  policyJsonSchema,
  requiredPermissions,
  type ServicePrincipalSignals,
  type WorkloadCollection,
  type WorkloadSignals,
  workloadPermissions,
  workloadSignals,
} from '../src/index.js'

const NOW = new Date('2026-12-04T12:00:00Z')
const TENANT = '72f988bf-0000-4000-a000-000000000001'
const USER_RULES = 'rules:\n  - name: u\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\n'
const policy = (section: string) =>
  parsePolicy(`version: 1\nlookback: PT24H\n${USER_RULES}servicePrincipals:\n${section}`)
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString()

function sp(overrides: Partial<ServicePrincipalSignals> = {}): ServicePrincipalSignals {
  return {
    servicePrincipalId: 'sp-1',
    appId: 'app-1',
    displayName: 'contoso-build',
    risk: { level: 'high', state: 'atRisk' },
    detections: [
      { id: 'd1', riskEventType: 'leakedCredentials', detectedDateTime: hoursAgo(1), keyIds: ['k-named'] },
    ],
    directory: {
      accountEnabled: true,
      servicePrincipalType: 'Application',
      appOwnerOrganizationId: TENANT,
      credentials: [{ kind: 'password', keyId: 'sp-old', startDateTime: hoursAgo(500) }],
    },
    application: {
      objectId: 'app-object-1',
      credentials: [
        { kind: 'password', keyId: 'k-old', startDateTime: hoursAgo(900), hint: 'Abc' },
        { kind: 'password', keyId: 'k-new', startDateTime: hoursAgo(2), hint: 'Xyz' },
        { kind: 'key', keyId: 'k-named', startDateTime: hoursAgo(900) },
      ],
    },
    ...overrides,
  }
}
const signals = (
  principals: ServicePrincipalSignals[],
  extra: Partial<WorkloadSignals> = {},
): WorkloadSignals => ({
  tenantId: TENANT,
  self: { servicePrincipalId: 'sp-self', appId: 'app-self' },
  servicePrincipals: principals,
  exclusions: {},
  ...extra,
})

describe('servicePrincipals section: schema', () => {
  it('leaves user policies as they are: no section, an empty service principal plan, the same permissions', () => {
    const users = parsePolicy(`version: 1\nlookback: PT24H\n${USER_RULES}`)
    expect(users.servicePrincipals).toBeUndefined()
    expect(evaluateServicePrincipals(users, signals([sp()]), NOW)).toMatchObject({
      steps: [],
      principals: [],
      refused: undefined,
    })
    expect(workloadPermissions(users)).toEqual([])
    expect(apiNeeds(users).map((n) => n.api)).not.toContain('workloadIdentityProtection')
  })

  it('names the field and the expected values for a bad action, owner or exclusion', () => {
    const bad = (section: string): string => {
      try {
        policy(section)
        return 'parsed'
      } catch (e) {
        expect(isPolicyError(e)).toBe(true)
        return (e as Error).message
      }
    }
    expect(bad('  rules:\n    - name: a\n      when: {}\n      then: [revokeSessions]\n')).toMatch(
      /servicePrincipals\.rules\[0\]\.then\[0\].*unknown service principal action 'revokeSessions'; expected one of confirmCompromised, dismissRisk, disable, enable, removeCredentials/,
    )
    expect(bad('  rules:\n    - name: a\n      when: { appOwner: [mine] }\n      then: [disable]\n')).toMatch(
      /appOwner\[0\].*expected one of thisTenant, otherTenant/,
    )
    expect(
      bad(
        '  exclude: { servicePrincipals: [payroll] }\n  rules:\n    - name: a\n      when: {}\n      then: [disable]\n',
      ),
    ).toMatch(/exclude\.servicePrincipals\[0\].*object id or appId \(GUID\)/)
    expect(
      bad(
        '  rules:\n    - name: a\n      when: {}\n      then: [disable]\n      removeCredentials: { which: all }\n',
      ),
    ).toMatch(/removeCredentials.*'then' has no removeCredentials/)
  })

  it('is in the JSON Schema, with removeCredentials described as not undoable', () => {
    const text = JSON.stringify(policyJsonSchema())
    expect(text).toContain('"servicePrincipals"')
    expect(text).toMatch(/NOT UNDOABLE/)
  })
})

describe('evaluateServicePrincipals', () => {
  it('plans confirm, disable and the removal of credentials added within the lookback, waiting for approval', () => {
    const plan = evaluateServicePrincipals(
      policy(
        '  rules:\n    - name: leaked\n      when: { detections: { anyOf: [leakedCredentials] } }\n      then: [confirmCompromised, disable, removeCredentials]\n',
      ),
      signals([sp()]),
      NOW,
    )
    expect(
      plan.steps.map((s) => [s.subject, s.action, s.route.kind, s.undoable, s.approval !== undefined]),
    ).toEqual([
      ['servicePrincipal', 'confirmCompromised', 'workloadIdentityProtection', true, false],
      ['servicePrincipal', 'disable', 'servicePrincipal', true, false],
      ['servicePrincipal', 'removeCredentials', 'application', false, true],
    ])
    expect(plan.steps[2]?.route).toEqual({
      kind: 'application',
      call: 'removeCredentials',
      objectId: 'app-object-1',
      credentials: [{ kind: 'password', keyId: 'k-new', hint: 'Xyz' }],
    })
    // The service principal's own old password is outside the window: a skip, not a step.
    expect(plan.skips.map((s) => s.reason)).toEqual(['noCredentials'])
    expect(plan.steps[0]?.evidence).toEqual(['d1'])
  })

  it("selects 'all' or the keyIds the detections name", () => {
    const run = (which: string) =>
      evaluateServicePrincipals(
        policy(
          `  approvals: { require: [] }\n  rules:\n    - name: r\n      when: {}\n      then: [removeCredentials]\n      removeCredentials: { which: ${which}, from: [application] }\n`,
        ),
        signals([sp()]),
        NOW,
      ).steps.flatMap((s) =>
        s.route.call === 'removeCredentials' ? s.route.credentials.map((c) => c.keyId) : [],
      )
    expect(run('all')).toEqual(['k-old', 'k-new', 'k-named'])
    expect(run('namedByDetections')).toEqual(['k-named'])
  })

  it('lifts the default approval when approvals.require is empty', () => {
    const plan = evaluateServicePrincipals(
      policy(
        '  approvals: { require: [] }\n  rules:\n    - name: r\n      when: {}\n      then: [removeCredentials]\n',
      ),
      signals([sp()]),
      NOW,
    )
    expect(plan.steps.map((s) => s.approval)).toEqual([undefined])
  })

  it('matches on servicePrincipalType and appOwner (a rule for other tenants does not touch ours)', () => {
    const section =
      '  rules:\n    - name: foreign\n      when: { appOwner: [otherTenant], servicePrincipalType: [Application] }\n      then: [disable]\n'
    const other = sp({
      servicePrincipalId: 'sp-2',
      appId: 'app-2',
      directory: {
        accountEnabled: true,
        servicePrincipalType: 'Application',
        appOwnerOrganizationId: 'another-tenant',
        credentials: [],
      },
      application: undefined,
    })
    const plan = evaluateServicePrincipals(policy(section), signals([sp(), other]), NOW)
    expect(plan.principals.map((p) => [p.servicePrincipalId, p.justification.appOwner])).toEqual([
      ['sp-2', 'otherTenant'],
    ])
    expect(plan.unmatched).toBe(1)
  })

  it('skips what it cannot route: no directory facts, no application object here', () => {
    const plan = evaluateServicePrincipals(
      policy(
        '  rules:\n    - name: r\n      when: {}\n      then: [disable, removeCredentials]\n      removeCredentials: { which: all, from: [application] }\n',
      ),
      signals([
        sp({ directory: undefined }),
        sp({ servicePrincipalId: 'sp-3', appId: 'app-3', application: undefined }),
      ]),
      NOW,
    )
    expect(plan.skips.map((s) => [s.servicePrincipalId, s.action, s.reason])).toEqual([
      ['sp-1', 'disable', 'noDirectoryFacts'],
      ['sp-1', 'removeCredentials', 'noDirectoryFacts'],
      ['sp-3', 'removeCredentials', 'noApplication'],
    ])
    expect(plan.steps.map((s) => [s.servicePrincipalId, s.action])).toEqual([['sp-3', 'disable']])
  })

  it("never touches Tourniquet's own service principal, by object id or by appId", () => {
    const section = '  rules:\n    - name: r\n      when: {}\n      then: [disable]\n'
    const plan = evaluateServicePrincipals(
      policy(section),
      signals([
        sp({ servicePrincipalId: 'sp-self', appId: 'x' }),
        sp({ servicePrincipalId: 'sp-9', appId: 'app-self' }),
      ]),
      NOW,
    )
    expect(plan.steps).toEqual([])
    expect(plan.skips.map((s) => s.reason)).toEqual(['self', 'self'])
  })

  it('refuses the run when an exclusion is unresolved, and caps steps per action and per run', () => {
    const excl = 'e8c1d000-0000-4000-a000-0000000a00e8'
    const section = `  exclude: { servicePrincipals: [${excl}] }\n  limits: { maxActionsPerRun: 3, maxPerAction: { disable: 1 } }\n  rules:\n    - name: r\n      when: {}\n      then: [disable]\n`
    expect(
      evaluateServicePrincipals(policy(section), signals([sp()], { exclusions: {} }), NOW).refused?.limit,
    ).toBe('servicePrincipals.exclude.servicePrincipals')
    const two = [sp(), sp({ servicePrincipalId: 'sp-2', appId: 'app-2' })]
    const capped = evaluateServicePrincipals(
      policy(section),
      signals(two, { exclusions: { [excl]: 'sp-x' } }),
      NOW,
    )
    expect(capped.refused?.limit).toBe('servicePrincipals.limits.maxPerAction.disable')
    expect(capped.steps).toEqual([])
    expect(capped.wanted).toEqual({ disable: 2 })
  })

  it('does not count its own confirmation as evidence: the evidence key is stable across runs', () => {
    const section = '  rules:\n    - name: r\n      when: {}\n      then: [confirmCompromised]\n'
    const before = evaluateServicePrincipals(policy(section), signals([sp()]), NOW)
    const after = evaluateServicePrincipals(
      policy(section),
      signals([
        sp({
          risk: { level: 'high', state: 'confirmedCompromised' },
          detections: [
            ...sp().detections,
            {
              id: 'admin',
              riskEventType: 'adminConfirmedServicePrincipalCompromised',
              detectedDateTime: hoursAgo(0.5),
            },
          ],
        }),
      ]),
      NOW,
    )
    expect(after.principals[0]?.evidenceKey).toBe(before.principals[0]?.evidenceKey)
    expect(after.skips.map((s) => s.reason)).toEqual(['alreadyConfirmed'])
  })
})

describe('workload permissions', () => {
  it('adds exactly the reads and the least-privileged permission of each action used, with a blast radius', () => {
    const p = policy('  rules:\n    - name: r\n      when: {}\n      then: [dismissRisk]\n')
    expect(workloadPermissions(p).map((w) => w.permission)).toEqual([
      'Application.Read.All',
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyServicePrincipal.Read.All',
      'IdentityRiskyServicePrincipal.ReadWrite.All',
    ])
    const full = policy('  rules:\n    - name: r\n      when: {}\n      then: [disable, removeCredentials]\n')
    const write = workloadPermissions(full).find((w) => w.permission === 'Application.ReadWrite.All')
    expect(write?.reasons).toEqual([
      "servicePrincipals rule 'r': disable",
      "servicePrincipals rule 'r': removeCredentials",
    ])
    expect(write?.blastRadius).toMatch(/any app registration/)
    expect(requiredPermissions(full)).toEqual(
      expect.arrayContaining([
        'Application.ReadWrite.All',
        'User.RevokeSessions.All',
        'IdentityRiskyUser.Read.All',
      ]),
    )
    expect(requiredPermissions(full)).not.toContain('IdentityRiskyServicePrincipal.ReadWrite.All')
    for (const w of workloadPermissions(full)) expect(BLAST_RADIUS[w.permission]).toBeTruthy()
    expect(permissionReport(full).reasons['Application.Read.All']).toHaveLength(1)
  })

  it('needs the workload Identity Protection API, so a China deployment is caught before any request', () => {
    expect(
      apiNeeds(policy('  rules:\n    - name: r\n      when: {}\n      then: [disable]\n')),
    ).toContainEqual({
      api: 'workloadIdentityProtection',
      why: 'reading risky service principals and their detections (servicePrincipals rules)',
      otherRoute: false,
    })
  })
})

type SpAnswer = WorkloadCollection['servicePrincipals'] extends ReadonlyMap<string, infer V> ? V : never
type AppAnswer = WorkloadCollection['applications'] extends ReadonlyMap<string, infer V> ? V : never

describe('workloadSignals', () => {
  it("builds the evaluator's signals from Graph's answers: detections per principal, credentials, no app object for a 404", () => {
    const signals = workloadSignals({
      tenantId: TENANT,
      self: { appId: 'app-self' },
      risky: [
        { id: 'sp-1', appId: 'app-1', displayName: 'contoso-build', riskLevel: 'high', riskState: 'atRisk' },
        { id: 'sp-2', appId: 'app-2', riskLevel: 'medium', riskState: 'atRisk' },
      ],
      detections: [
        {
          id: 'd1',
          servicePrincipalId: 'SP-1',
          riskEventType: 'leakedCredentials',
          detectedDateTime: hoursAgo(1),
          keyIds: ['k-new'],
        },
      ],
      servicePrincipals: new Map<string, SpAnswer>([
        [
          'sp-1',
          {
            accountEnabled: true,
            servicePrincipalType: 'Application',
            appOwnerOrganizationId: TENANT,
            passwordCredentials: [],
            keyCredentials: [],
          },
        ],
        ['sp-2', new Error('403')],
      ]),
      applications: new Map<string, AppAnswer>([
        [
          'app-1',
          {
            id: 'app-object-1',
            passwordCredentials: [{ keyId: 'k-new', hint: 'Xyz', startDateTime: hoursAgo(2) }],
            keyCredentials: [{ keyId: 'k-cert', startDateTime: hoursAgo(2) }],
          },
        ],
        ['app-2', new Error('404')],
      ]),
    })
    expect(
      signals.servicePrincipals.map((s) => [
        s.servicePrincipalId,
        s.detections.length,
        s.directory?.accountEnabled,
      ]),
    ).toEqual([
      ['sp-1', 1, true],
      ['sp-2', 0, undefined],
    ])
    expect(signals.servicePrincipals[0]?.application?.credentials).toEqual([
      { kind: 'password', keyId: 'k-new', hint: 'Xyz', displayName: undefined, startDateTime: hoursAgo(2) },
      { kind: 'key', keyId: 'k-cert', displayName: undefined, startDateTime: hoursAgo(2) },
    ])
    expect(signals.servicePrincipals[1]?.application).toBeUndefined()
    const plan = evaluateServicePrincipals(
      policy(
        '  approvals: { require: [] }\n  rules:\n    - name: r\n      when: {}\n      then: [disable, removeCredentials]\n      removeCredentials: { which: namedByDetections, from: [application] }\n',
      ),
      signals,
      NOW,
    )
    expect(plan.steps.map((s) => [s.servicePrincipalId, s.action])).toEqual([
      ['sp-1', 'disable'],
      ['sp-1', 'removeCredentials'],
    ])
    expect(plan.skips.map((s) => [s.servicePrincipalId, s.reason])).toEqual([
      ['sp-2', 'noDirectoryFacts'],
      ['sp-2', 'noDirectoryFacts'],
    ])
  })
})
