/**
 * Tenants to test against: a generator (deterministic from a seed, any size) and hand-written named
 * scenarios. Every scenario also registers the apps tests authenticate as.
 */
import type { MockApp, MockDetection, MockIdentityAccount, MockRiskyUser, MockUser } from './model.js'
import { guid, pick, type Random, seeded } from './random.js'
import { Tenant } from './tenant.js'
import { OTHER_TENANT_ID, seedWorkloadIdentities, WORKLOAD_ROLES } from './workloads.js'

export const DEFAULT_TENANT_ID = '72f988bf-0000-4000-a000-000000000001'
export const DOMAIN = 'contoso.example'

/** The app the demo and most tests use: every permission the remediation job can need. */
export const REMEDIATION_APP_ID = 'a11c0000-0000-4000-a000-00000000c11e'
export const REMEDIATION_APP_SECRET = 'mock-secret-value-not-a-real-credential'
export const FULL_ROLES = [
  'IdentityRiskEvent.Read.All',
  'IdentityRiskyUser.Read.All',
  'IdentityRiskyUser.ReadWrite.All',
  'User.Read.All',
  'User.RevokeSessions.All',
  'User.EnableDisableAccount.All',
  'User-PasswordProfile.ReadWrite.All',
  'GroupMember.ReadBasic.All',
  'SecurityIdentitiesAccount.Read.All',
  'SecurityIdentitiesActions.ReadWrite.All',
]
/** An app with every permission the user and the workload-identity actions need. */
export const WORKLOAD_APP_ID = 'a11c0000-0000-4000-a000-0000000000f0'
export const WORKLOAD_APP_SECRET = 'mock-workload-secret-not-a-real-credential'
/** An app with read permissions only, for 403 tests. */
export const READER_APP_ID = 'a11c0000-0000-4000-a000-0000000000ad'
export const READER_APP_SECRET = 'mock-reader-secret-not-a-real-credential'
/** An app whose only secret has expired (AADSTS7000222). */
export const EXPIRED_APP_ID = 'a11c0000-0000-4000-a000-0000000000e7'
export const EXPIRED_APP_SECRET = 'mock-expired-secret-not-a-real-credential'

export const BREAK_GLASS_GROUP_ID = 'b4ea0000-0000-4000-a000-00000000b4ea'

const EVENT_TYPES = [
  'unlikelyTravel',
  'anonymizedIPAddress',
  'maliciousIPAddress',
  'unfamiliarFeatures',
  'leakedCredentials',
  'passwordSpray',
  'impossibleTravel',
  'newCountry',
  'anomalousToken',
  'suspiciousBrowser',
  'investigationsThreatIntelligence',
]
const SOURCES = ['IdentityProtection', 'MicrosoftCloudAppSecurity', 'activeDirectory']
const TIMING = ['realtime', 'nearRealtime', 'offline']
const CITIES: Array<[string, string, string]> = [
  ['Seattle', 'Washington', 'US'],
  ['Lagos', 'Lagos', 'NG'],
  ['Sao Paulo', 'Sao Paulo', 'BR'],
  ['Moscow', 'Moscow', 'RU'],
  ['Amsterdam', 'North Holland', 'NL'],
]

export function registerApps(tenant: Tenant, now: number): void {
  const app = (a: Omit<MockApp, 'certificates' | 'directoryRoles'> & Partial<MockApp>): void => {
    tenant.apps.set(a.clientId, { certificates: [], directoryRoles: [], ...a })
  }
  app({
    clientId: REMEDIATION_APP_ID,
    displayName: 'tourniquet-remediation',
    secrets: [{ value: REMEDIATION_APP_SECRET, expiresAt: now + 365 * 86_400_000 }],
    roles: [...FULL_ROLES],
    directoryRoles: ['User Administrator', 'Privileged Authentication Administrator'],
  })
  app({
    clientId: READER_APP_ID,
    displayName: 'tourniquet-reader',
    secrets: [{ value: READER_APP_SECRET, expiresAt: now + 365 * 86_400_000 }],
    roles: [
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyUser.Read.All',
      'User.Read.All',
      'GroupMember.ReadBasic.All',
      'SecurityIdentitiesAccount.Read.All',
    ],
  })
  app({
    clientId: WORKLOAD_APP_ID,
    displayName: 'tourniquet-workload',
    secrets: [{ value: WORKLOAD_APP_SECRET, expiresAt: now + 365 * 86_400_000 }],
    roles: [...FULL_ROLES, ...WORKLOAD_ROLES],
    directoryRoles: ['User Administrator', 'Privileged Authentication Administrator'],
  })
  app({
    clientId: EXPIRED_APP_ID,
    displayName: 'tourniquet-expired',
    secrets: [{ value: EXPIRED_APP_SECRET, expiresAt: now - 86_400_000 }],
    roles: [...FULL_ROLES],
  })
}

export interface UserSpec {
  name: string
  kind?: 'cloud' | 'synced' | 'guest'
  admin?: boolean
  enabled?: boolean
  risk?: { level: string; state?: string; detail?: string }
  detections?: Array<{ type: string; level?: string; source?: string; hoursAgo?: number; timing?: string }>
  mdiActions?: string[]
  /**
   * The UPN Identity Protection holds for the user when it differs from the directory's: null (the
   * property is nullable), or an old UPN that lags a rename.
   */
  riskUpn?: string | null
}

/** Adds one user with its risky-user record, detections and (for synced users) Defender for Identity account. */
export function addUserSpec(tenant: Tenant, random: Random, spec: UserSpec, now: number): MockUser {
  const id = guid(random)
  const kind = spec.kind ?? 'cloud'
  const upn = kind === 'guest' ? `${spec.name}_partner.example#EXT#@${DOMAIN}` : `${spec.name}@${DOMAIN}`
  const sid =
    kind === 'synced' ? `S-1-5-21-1004336348-1177238915-682003330-${1000 + tenant.users.size}` : null
  const user = tenant.addUser({
    id,
    userPrincipalName: upn,
    displayName: spec.name,
    accountEnabled: spec.enabled ?? true,
    onPremisesSyncEnabled: kind === 'synced' ? true : null,
    onPremisesSecurityIdentifier: sid,
    userType: kind === 'guest' ? 'Guest' : 'Member',
    isAdmin: spec.admin ?? false,
    signInSessionsValidFromDateTime: new Date(now - 30 * 86_400_000).toISOString(),
    lastPasswordChangeDateTime: new Date(now - 60 * 86_400_000).toISOString(),
    passwordResets: 0,
    forceChangePasswordNextSignIn: false,
  })
  const iso = (hoursAgo: number): string => new Date(now - hoursAgo * 3_600_000).toISOString()
  if (spec.risk) {
    const r: MockRiskyUser = {
      id,
      userPrincipalName: spec.riskUpn === undefined ? upn : spec.riskUpn,
      userDisplayName: spec.name,
      riskLevel: spec.risk.level,
      riskState: spec.risk.state ?? 'atRisk',
      riskDetail: spec.risk.detail ?? 'none',
      riskLastUpdatedDateTime: iso(1),
      isDeleted: false,
      processingUntil: 0,
      history: [],
    }
    tenant.riskyUsers.set(id, r)
  }
  for (const d of spec.detections ?? []) {
    const [city, state, country] = pick(random, CITIES)
    const detection: MockDetection = {
      id: guid(random),
      requestId: guid(random),
      correlationId: guid(random),
      riskEventType: d.type,
      riskLevel: d.level ?? spec.risk?.level ?? 'medium',
      riskState: 'atRisk',
      riskDetail: 'none',
      source: d.source ?? 'IdentityProtection',
      detectionTimingType: d.timing ?? 'realtime',
      activity: 'signin',
      tokenIssuerType: 'AzureAD',
      ipAddress: `203.0.113.${Math.floor(random() * 254) + 1}`,
      location: { city, state, countryOrRegion: country, geoCoordinates: null },
      activityDateTime: iso(d.hoursAgo ?? 2),
      detectedDateTime: iso(d.hoursAgo ?? 2),
      lastUpdatedDateTime: iso(d.hoursAgo ?? 2),
      userId: id,
      userDisplayName: spec.name,
      userPrincipalName: spec.riskUpn === undefined ? upn : spec.riskUpn,
      additionalInfo: JSON.stringify([{ Key: 'userAgent', Value: 'Mozilla/5.0' }]),
    }
    tenant.detections.push(detection)
  }
  if (kind === 'synced' && sid !== null) {
    const identity: MockIdentityAccount = {
      id: guid(random),
      displayName: spec.name,
      domain: 'corp.contoso.local',
      onPremisesSecurityIdentifier: sid,
      cloudSecurityIdentifier: `S-1-12-1-${Math.floor(random() * 1e9)}`,
      isEnabled: spec.enabled ?? true,
      accounts: [
        {
          provider: 'ActiveDirectory',
          identifier: guid(random),
          // Empty, as in every docs example (CONTRACT.md "mdi-actions-list"); a spec can fill it.
          actions: spec.mdiActions ?? [],
        },
        { provider: 'EntraID', identifier: id, actions: [] },
      ],
      userId: id,
    }
    tenant.identityAccounts.set(identity.id, identity)
  }
  return user
}

export interface GenerateOptions {
  seed?: number
  /** Number of risky users. */
  riskyUsers: number
  /** Share of risky users at high risk (the rest medium/low). */
  highShare?: number
  detectionsPerUser?: [min: number, max: number]
  now?: number
  tenantId?: string
  /**
   * Risky service principals (workload identities), seeded after the users from a stream of their
   * own (a tenant with them has the same users as one without): nine in ten are this tenant's apps
   * (an application object here with an old secret), one in ten another tenant's multi-tenant app.
   * At high risk in the same share as users (`highShare`).
   */
  servicePrincipals?: number
  /** Detections per service principal, each naming it (default one or two). */
  detectionsPerServicePrincipal?: [min: number, max: number]
}

/**
 * Every tenant has its emergency access account (the example policy excludes it by UPN, and a run
 * refuses to act when an excluded UPN does not resolve). Added last and not at risk, so a seeded
 * tenant's other users are unchanged.
 */
function addBreakGlassAccount(tenant: Tenant, now: number, members: string[]): void {
  const upn = `breakglass@${DOMAIN}`
  if ([...tenant.users.values()].some((u) => u.userPrincipalName === upn)) return
  // A stream of its own: tests that add users with the scenario's seed must not draw its id.
  members.push(addUserSpec(tenant, seeded(0xb4ea), { name: 'breakglass', admin: true }, now).id)
}

/**
 * A realistic tenant of any size, the same for the same seed: mostly cloud members, a fifth synced
 * from AD (with Defender for Identity accounts), a few guests, admins and disabled accounts, one to
 * three detections each, and a break-glass group holding the first admin.
 */
export function generateTenant(options: GenerateOptions): Tenant {
  const now = options.now ?? Date.now()
  const random = seeded(options.seed ?? 1)
  const tenant = new Tenant(options.tenantId ?? DEFAULT_TENANT_ID, [DOMAIN], () => Date.now())
  registerApps(tenant, now)
  const [minD, maxD] = options.detectionsPerUser ?? [1, 3]
  const breakGlass: string[] = []
  for (let i = 0; i < options.riskyUsers; i++) {
    const roll = random()
    const kind: UserSpec['kind'] = roll < 0.05 ? 'guest' : roll < 0.25 ? 'synced' : 'cloud'
    const admin = kind !== 'guest' && random() < 0.03
    const level = random() < (options.highShare ?? 0.5) ? 'high' : random() < 0.6 ? 'medium' : 'low'
    const n = minD + Math.floor(random() * (maxD - minD + 1))
    const detections = Array.from({ length: n }, () => ({
      type: pick(random, EVENT_TYPES),
      level,
      source: pick(random, SOURCES),
      timing: pick(random, TIMING),
      hoursAgo: Math.floor(random() * 48),
    }))
    const user = addUserSpec(
      tenant,
      random,
      {
        name: `user${String(i).padStart(6, '0')}`,
        kind,
        admin,
        enabled: random() > 0.02,
        // Every 50th user's risk records carry no UPN: the property is nullable, and a client
        // must not need it (derived from the index, so the seeded stream is unchanged).
        ...(i % 50 === 49 ? { riskUpn: null } : {}),
        risk: { level },
        detections,
      },
      now,
    )
    if (admin && breakGlass.length === 0) breakGlass.push(user.id)
  }
  addBreakGlassAccount(tenant, now, breakGlass)
  tenant.groups.set(BREAK_GLASS_GROUP_ID, {
    id: BREAK_GLASS_GROUP_ID,
    displayName: 'break-glass',
    members: breakGlass,
  })
  if ((options.servicePrincipals ?? 0) > 0) generateServicePrincipals(tenant, options, now)
  return tenant
}

const SP_EVENT_TYPES = [
  'leakedCredentials',
  'suspiciousSignins',
  'anomalousServicePrincipalActivity',
  'investigationsThreatIntelligence',
]

/** The risky service principals of `generateTenant` (see GenerateOptions.servicePrincipals). */
function generateServicePrincipals(tenant: Tenant, options: GenerateOptions, now: number): void {
  const random = seeded(((options.seed ?? 1) ^ 0x5b1e5b1e) >>> 0)
  const [minD, maxD] = options.detectionsPerServicePrincipal ?? [1, 2]
  for (let i = 0; i < (options.servicePrincipals ?? 0); i++) {
    const name = `workload${String(i).padStart(5, '0')}`
    const spId = guid(random)
    const appId = guid(random)
    const ours = random() < 0.9
    const created = now - 200 * 86_400_000
    if (ours) {
      const appObjectId = guid(random)
      tenant.applications.set(appObjectId, {
        id: appObjectId,
        appId,
        displayName: name,
        passwordCredentials: [
          {
            keyId: guid(random),
            displayName: 'deploy',
            hint: 'Gen',
            startDateTime: new Date(created).toISOString(),
            endDateTime: new Date(created + 365 * 86_400_000).toISOString(),
            secretText: `Gen~mock-secret-not-real-${i}`,
          },
        ],
        keyCredentials: [],
        owners: [],
      })
    }
    tenant.servicePrincipals.set(spId, {
      id: spId,
      appId,
      displayName: name,
      appOwnerOrganizationId: ours ? tenant.tenantId : OTHER_TENANT_ID,
      servicePrincipalType: 'Application',
      accountEnabled: true,
      passwordCredentials: [],
      keyCredentials: [],
      owners: [],
    })
    const level = random() < (options.highShare ?? 0.5) ? 'high' : 'medium'
    const n = minD + Math.floor(random() * (maxD - minD + 1))
    for (let k = 0; k < n; k++)
      tenant.detectServicePrincipal(spId, {
        type: pick(random, SP_EVENT_TYPES),
        level,
        detectedAt: now - Math.floor(random() * 47) * 3_600_000 - 3_600_000,
      })
  }
}

export const SCENARIO_NAMES = [
  'demo',
  'leaked-credentials',
  'password-spray',
  'impossible-travel',
  'break-glass-at-risk',
  'synced-user-at-risk',
  'guest-at-risk',
  'workload-identities',
  'empty',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

const NAMED: Record<ScenarioName, (now: number) => UserSpec[]> = {
  empty: () => [],
  // Users as in the demo; the service principals are seeded by namedScenario.
  'workload-identities': (now) => NAMED.demo(now),
  'leaked-credentials': () => [
    {
      name: 'adele.vance',
      risk: { level: 'high' },
      detections: [{ type: 'leakedCredentials', source: 'IdentityProtection', timing: 'offline' }],
    },
  ],
  'password-spray': () =>
    Array.from({ length: 12 }, (_, i) => ({
      name: `spray.victim${i}`,
      risk: { level: i < 4 ? 'high' : 'medium' },
      detections: [
        { type: 'passwordSpray', timing: 'offline' },
        ...(i < 4 ? [{ type: 'unfamiliarFeatures' }] : []),
      ],
    })),
  'impossible-travel': () => [
    {
      name: 'megan.bowen',
      risk: { level: 'high' },
      detections: [
        { type: 'impossibleTravel' },
        { type: 'anonymizedIPAddress', source: 'MicrosoftCloudAppSecurity' },
      ],
    },
  ],
  'break-glass-at-risk': () => [
    {
      name: 'breakglass',
      admin: true,
      risk: { level: 'high' },
      detections: [{ type: 'unfamiliarFeatures' }, { type: 'newCountry' }],
    },
  ],
  'synced-user-at-risk': () => [
    {
      name: 'alex.wilber',
      kind: 'synced',
      risk: { level: 'high' },
      detections: [{ type: 'leakedCredentials', timing: 'offline' }, { type: 'maliciousIPAddress' }],
    },
  ],
  'guest-at-risk': () => [
    {
      name: 'vendor.contact',
      kind: 'guest',
      risk: { level: 'high' },
      detections: [{ type: 'anonymizedIPAddress' }, { type: 'unlikelyTravel' }],
    },
  ],
  demo: (now) => [
    ...NAMED['leaked-credentials'](now),
    ...NAMED['impossible-travel'](now),
    ...NAMED['synced-user-at-risk'](now),
    ...NAMED['guest-at-risk'](now),
    ...NAMED['break-glass-at-risk'](now),
    { name: 'lynne.robbins', risk: { level: 'medium' }, detections: [{ type: 'unfamiliarFeatures' }] },
    { name: 'old.alarm', risk: { level: 'high' }, detections: [{ type: 'newCountry', hoursAgo: 24 * 10 }] },
    {
      name: 'already.handled',
      risk: { level: 'high', state: 'remediated', detail: 'userPerformedSecuredPasswordReset' },
      detections: [{ type: 'unfamiliarFeatures', hoursAgo: 30 }],
    },
  ],
}

/** A hand-written scenario by name; break-glass accounts land in the break-glass group. */
export function namedScenario(
  name: ScenarioName,
  options: { seed?: number; now?: number; tenantId?: string } = {},
): Tenant {
  const now = options.now ?? Date.now()
  const random = seeded(options.seed ?? 7)
  const tenant = new Tenant(options.tenantId ?? DEFAULT_TENANT_ID, [DOMAIN], () => Date.now())
  registerApps(tenant, now)
  const members: string[] = []
  for (const spec of NAMED[name](now)) {
    const user = addUserSpec(tenant, random, spec, now)
    if (spec.name === 'breakglass') members.push(user.id)
  }
  addBreakGlassAccount(tenant, now, members)
  if (name === 'workload-identities') seedWorkloadIdentities(tenant, now, WORKLOAD_APP_ID)
  // Nested on purpose: exclusion must follow transitive membership.
  const nested = '0e57ed00-0000-4000-a000-0000000e57ed'
  tenant.groups.set(nested, { id: nested, displayName: 'break-glass-accounts', members })
  tenant.groups.set(BREAK_GLASS_GROUP_ID, {
    id: BREAK_GLASS_GROUP_ID,
    displayName: 'break-glass',
    members: [nested],
  })
  return tenant
}

/** The form of a client-credentials token request as the remediation app (for tests and benchmarks). */
export function remediationTokenForm(scope = 'https://graph.microsoft.com/.default'): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: REMEDIATION_APP_ID,
    client_secret: REMEDIATION_APP_SECRET,
    scope,
  }).toString()
}
