/**
 * Microsoft Graph routes of the fake tenant. Each checks the permission CONTRACT.md names
 * (403 Authorization_RequestDenied otherwise), validates its input as the service does, applies
 * the state transition, and answers in the documented shape, quirks included.
 */
import { badRequest, graphError, HttpFailure, json, noContent, notFound } from './http.js'
import type { TokenClaims } from './identity.js'
import type {
  MockApplication,
  MockIdentityAccount,
  MockKeyCredential,
  MockPasswordCredential,
  MockRiskyServicePrincipal,
  MockRiskyUser,
  MockServicePrincipal,
  MockServicePrincipalDetection,
  MockUser,
} from './model.js'
import { evaluate, FilterSyntaxError, parseFilter } from './odata.js'
import type { Tenant } from './tenant.js'

export interface GraphContext {
  tenant: Tenant
  claims: TokenClaims
  /** Origin + version prefix, e.g. https://127.0.0.1:8443/v1.0 */
  base: string
  /** Replaces the origin of nextLinks (the forged-nextLink fault). */
  nextLinkOrigin: string | undefined
  /** Refuse filters on properties no docs page lists as filterable (MockGraphOptions.strictFilters). */
  strictFilters: boolean
  /** The largest `$top` the risky service principals' list takes (MockGraphOptions.riskyServicePrincipalsMaxTop). */
  riskyServicePrincipalsMaxTop: number
  /** The reported quirk: riskyUsers' last page carries a nextLink that answers 400 (FaultOptions). */
  riskyUsersLastPage400: boolean
  /** Fault: every page's nextLink is the page's own URL (FaultOptions.selfNextLink). */
  selfNextLink: boolean
  /** Fault: collections never end; past the last item come empty pages (FaultOptions.endlessPages). */
  endlessPages: boolean
}

type Route = {
  method: string
  pattern: RegExp
  run: (ctx: GraphContext, m: string[], url: URL, body: unknown) => Response
}

// Each entry: any one of the alternatives, where an alternative is a set of roles all required.
// Exactly the application permissions each operation's include file in microsoft-graph-docs-contrib
// lists (api-reference/v1.0/includes/permissions/<operation>-permissions.md): least privileged
// plus "higher privileged", nothing more, so a test fails when the client asks for more than it
// needs or the docs allow (CONTRACT.md "permissions").
const PERMS = {
  // riskdetection-list: IdentityRiskEvent.Read.All; higher: not available.
  readDetections: [['IdentityRiskEvent.Read.All']],
  // riskyuser-list, riskyuser-get, riskyuser-list-history: IdentityRiskyUser.Read.All; higher: not
  // available. ReadWrite.All is not listed, so an app that acts also holds Read.All to read.
  readRiskyUsers: [['IdentityRiskyUser.Read.All']],
  // riskyuser-confirmcompromised, -dismiss, -confirmsafe: IdentityRiskyUser.ReadWrite.All only.
  writeRiskyUsers: [['IdentityRiskyUser.ReadWrite.All']],
  // user-get: User.Read.All; higher: User.ReadWrite.All, Directory.Read.All, Directory.ReadWrite.All.
  readUsers: [['User.Read.All'], ['User.ReadWrite.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']],
  // user-revokesigninsessions (719af549): User.RevokeSessions.All; higher: not available.
  revoke: [['User.RevokeSessions.All']],
  // user-get.md "Permissions for specific scenarios": accountEnabled needs
  // User.EnableDisableAccount.All + User.Read.All; user-update's higher: User.ReadWrite.All,
  // Directory.ReadWrite.All.
  enableDisable: [
    ['User.EnableDisableAccount.All', 'User.Read.All'],
    ['User.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  // user-get.md "Permissions for specific scenarios": passwordProfile needs
  // User-PasswordProfile.ReadWrite.All; higher as for user-update.
  password: [['User-PasswordProfile.ReadWrite.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
  // group-list-transitivemembers (dc80b68f): GroupMember.ReadBasic.All; higher: the six below.
  groupMembers: [
    ['GroupMember.ReadBasic.All'],
    ['Directory.Read.All'],
    ['Group.Read.All'],
    ['Group.ReadBasic.All'],
    ['Group.ReadWrite.All'],
    ['GroupMember.Read.All'],
    ['GroupMember.ReadWrite.All'],
  ],
  // identityprotectionroot-list-riskyserviceprincipals, riskyserviceprincipal-get:
  // IdentityRiskyServicePrincipal.Read.All, with ReadWrite.All listed beside it.
  readRiskyServicePrincipals: [
    ['IdentityRiskyServicePrincipal.Read.All'],
    ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  ],
  // riskyserviceprincipal-confirmcompromised, -dismiss: IdentityRiskyServicePrincipal.ReadWrite.All only.
  writeRiskyServicePrincipals: [['IdentityRiskyServicePrincipal.ReadWrite.All']],
  // serviceprincipal-get: Application.Read.All; higher: Application.ReadWrite.OwnedBy (owned
  // objects only), Application.ReadWrite.All, Directory.Read.All.
  readServicePrincipals: [
    ['Application.Read.All'],
    ['Application.ReadWrite.OwnedBy'],
    ['Application.ReadWrite.All'],
    ['Directory.Read.All'],
  ],
  // application-get: Application.Read.All; higher: Application.ReadWrite.OwnedBy, Application.ReadWrite.All.
  readApplications: [
    ['Application.Read.All'],
    ['Application.ReadWrite.OwnedBy'],
    ['Application.ReadWrite.All'],
  ],
  // serviceprincipal-update, -removepassword, application-removepassword (and the application
  // update): Application.ReadWrite.OwnedBy for objects the caller owns; Application.ReadWrite.All,
  // Directory.ReadWrite.All for any.
  writeApps: [['Application.ReadWrite.All'], ['Directory.ReadWrite.All']],
  // security-identitycontainer-list-identityaccounts, security-identityaccounts-get.
  readIdentities: [['SecurityIdentitiesAccount.Read.All']],
  // security-identityaccounts-invokeaction.
  identityActions: [['SecurityIdentitiesActions.ReadWrite.All']],
} as const

function requirePerm(ctx: GraphContext, alternatives: ReadonlyArray<ReadonlyArray<string>>): void {
  if (alternatives.some((all) => all.every((r) => ctx.claims.roles.includes(r)))) return
  throw new HttpFailure(
    graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  )
}

function requireDirectoryRole(ctx: GraphContext, target: MockUser, roles: string[]): void {
  const app = ctx.tenant.apps.get(ctx.claims.appid)
  const held = app?.directoryRoles ?? []
  const needed = target.isAdmin ? ['Privileged Authentication Administrator', 'Global Administrator'] : roles
  if (!needed.some((r) => held.includes(r))) {
    throw new HttpFailure(
      graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
    )
  }
}

/**
 * A write to an application or service principal: Application.ReadWrite.OwnedBy reaches only the
 * objects the calling app owns (CONTRACT.md "app-owned-by"); any object needs ReadWrite.All.
 */
function requireAppWrite(ctx: GraphContext, target: { owners: string[] }): void {
  if (ctx.claims.roles.includes('Application.ReadWrite.OwnedBy') && target.owners.includes(ctx.claims.appid))
    return
  requirePerm(ctx, PERMS.writeApps)
}

/** An object read: OwnedBy alone reads only what the app owns. */
function requireAppRead(
  ctx: GraphContext,
  alternatives: ReadonlyArray<ReadonlyArray<string>>,
  target: { owners: string[] },
): void {
  const others = alternatives.filter((a) => !(a.length === 1 && a[0] === 'Application.ReadWrite.OwnedBy'))
  if (ctx.claims.roles.includes('Application.ReadWrite.OwnedBy') && target.owners.includes(ctx.claims.appid))
    return
  requirePerm(ctx, others)
}

/**
 * Server-driven paging: a page after the first may hold fewer items than $top while more follow
 * (MDC concepts/paging.md: keep following @odata.nextLink until there is none; the page size is
 * the server's to choose). Deterministic: 0 to 2 fewer, by offset.
 */
const pageSize = (offset: number, top: number): number => (offset === 0 || top < 3 ? top : top - (offset % 3))

/** How many pages this mock serves for a list of `items` read at `$top` (at least one: an empty list is a page). */
export function pageCount(items: number, top: number): number {
  let pages = 1
  for (let offset = pageSize(0, top); offset < items; offset += pageSize(offset, top)) pages++
  return pages
}

function paged<T>(
  ctx: GraphContext,
  url: URL,
  all: T[],
  project: (t: T) => unknown,
  defaultTop: number,
  maxTop: number,
  lastPageQuirk = false,
): Response {
  const topRaw = url.searchParams.get('$top')
  const top = topRaw === null ? defaultTop : Number(topRaw)
  if (!Number.isInteger(top) || top < 1 || top > maxTop)
    throw badRequest(`Invalid page size specified: '${topRaw}'. Must be between 1 and ${maxTop}.`)
  const token = url.searchParams.get('$skiptoken')
  let offset = 0
  if (token === 'end') throw badRequest('The $skiptoken is not valid for this request.', 'BadRequest')
  if (token !== null) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
    if (!decoded) throw badRequest('Invalid $skiptoken', 'Directory_PageTokenNotFound')
    offset = Number(decoded[1])
  }
  const size = pageSize(offset, top)
  const value = all.slice(offset, offset + size).map(project)
  const body: Record<string, unknown> = { '@odata.context': `${ctx.base}/$metadata`, value }
  const origin = ctx.nextLinkOrigin ? new URL(ctx.nextLinkOrigin).origin : url.origin
  if (ctx.selfNextLink) {
    body['@odata.nextLink'] = `${origin}${url.pathname}${url.search}`
    return json(200, body)
  }
  if (offset + size < all.length || lastPageQuirk || ctx.endlessPages) {
    // Keep the caller's query as sent (Graph writes `$skiptoken`, not `%24skiptoken`).
    const kept = url.search
      .slice(1)
      .split('&')
      .filter((p) => p !== '' && !/^(\$|%24)skiptoken=/i.test(p))
    const more = offset + size < all.length || ctx.endlessPages
    kept.push(`$skiptoken=${more ? Buffer.from(`o${offset + size}`).toString('base64url') : 'end'}`)
    body['@odata.nextLink'] = `${origin}${url.pathname}?${kept.join('&')}`
  }
  return json(200, body)
}

function filtered<T extends object>(
  url: URL,
  items: Iterable<T>,
  view: (t: T) => Record<string, unknown> = (t) => t as Record<string, unknown>,
): T[] {
  const text = url.searchParams.get('$filter')
  if (text === null) return [...items]
  let node: ReturnType<typeof parseFilter>
  try {
    node = parseFilter(text)
  } catch (e) {
    throw badRequest(
      `Invalid filter clause: ${e instanceof FilterSyntaxError ? e.message : 'syntax error'}`,
      'BadRequest',
    )
  }
  return [...items].filter((i) => evaluate(node, view(i)))
}

function select(url: URL, entity: Record<string, unknown>): Record<string, unknown> {
  const s = url.searchParams.get('$select')
  if (s === null) return entity
  const keys = new Set(['id', ...s.split(',').map((k) => k.trim())])
  return Object.fromEntries(Object.entries(entity).filter(([k]) => keys.has(k)))
}

const riskyUserView = (tenant: Tenant) => (r: MockRiskyUser) => ({
  id: r.id,
  isDeleted: r.isDeleted,
  isProcessing: tenant.isProcessing(r),
  riskLastUpdatedDateTime: r.riskLastUpdatedDateTime,
  riskLevel: r.riskLevel,
  riskState: r.riskState,
  riskDetail: r.riskDetail,
  userDisplayName: r.userDisplayName,
  userPrincipalName: r.userPrincipalName,
})

const riskyServicePrincipalView = (tenant: Tenant) => (r: MockRiskyServicePrincipal) => {
  const sp = tenant.servicePrincipals.get(r.id)
  return {
    id: r.id,
    appId: sp?.appId ?? null,
    displayName: sp?.displayName ?? null,
    isEnabled: sp?.accountEnabled ?? null,
    isProcessing: tenant.isProcessing(r),
    riskLastUpdatedDateTime: r.riskLastUpdatedDateTime,
    riskLevel: r.riskLevel,
    riskState: r.riskState,
    // "Events in tenants without this license will be returned hidden" (resources/riskyserviceprincipal.md).
    riskDetail: tenant.features.workloadIdentitiesPremium ? r.riskDetail : 'hidden',
    servicePrincipalType: sp?.servicePrincipalType ?? null,
  }
}

/**
 * Without Workload ID Premium, detections are still served with limited information (the GA docs
 * PR, microsoft-graph-docs #19361): the mock hides their riskDetail, as the resource page does for
 * risky service principals.
 */
const spDetectionView = (tenant: Tenant) => (d: MockServicePrincipalDetection) => ({
  '@odata.type': '#microsoft.graph.servicePrincipalRiskDetection',
  ...d,
  riskDetail: tenant.features.workloadIdentitiesPremium ? d.riskDetail : 'hidden',
})

const passwordView = (c: MockPasswordCredential) => ({
  customKeyIdentifier: null,
  displayName: c.displayName,
  endDateTime: c.endDateTime,
  hint: c.hint,
  keyId: c.keyId,
  // Only addPassword returns the secret (resources/passwordcredential.md).
  secretText: null,
  startDateTime: c.startDateTime,
})

/** `key` only on a `$select=keyCredentials` read of one object (resources/keycredential.md). */
const keyView = (c: MockKeyCredential, withKey: boolean) => ({
  customKeyIdentifier: null,
  displayName: c.displayName,
  endDateTime: c.endDateTime,
  key: withKey ? c.key : null,
  keyId: c.keyId,
  startDateTime: c.startDateTime,
  type: c.type,
  usage: c.usage,
})

function keysSelected(url: URL): boolean {
  return (url.searchParams.get('$select') ?? '')
    .split(',')
    .map((k) => k.trim())
    .includes('keyCredentials')
}

const servicePrincipalView = (sp: MockServicePrincipal, url: URL) => ({
  id: sp.id,
  accountEnabled: sp.accountEnabled,
  appId: sp.appId,
  appDisplayName: sp.displayName,
  appOwnerOrganizationId: sp.appOwnerOrganizationId,
  displayName: sp.displayName,
  servicePrincipalType: sp.servicePrincipalType,
  passwordCredentials: sp.passwordCredentials.map(passwordView),
  keyCredentials: sp.keyCredentials.map((k) => keyView(k, keysSelected(url))),
})

const applicationView = (app: MockApplication, url: URL) => ({
  id: app.id,
  appId: app.appId,
  displayName: app.displayName,
  passwordCredentials: app.passwordCredentials.map(passwordView),
  keyCredentials: app.keyCredentials.map((k) => keyView(k, keysSelected(url))),
})

/** `{id}` or `(appId='{appId}')` as the service principal and application pages address objects. */
function byIdOrAppId<T>(
  segment: string,
  byId: (id: string) => T | undefined,
  byAppId: (appId: string) => T | undefined,
): T {
  const key = decodeURIComponent(segment)
  const m = /^\(appId='((?:[^']|'')*)'\)$/.exec(key)
  const found = m ? byAppId((m[1] ?? '').replaceAll("''", "'")) : byId(key.replace(/^\//, ''))
  if (!found) throw notFound(m ? (m[1] ?? '') : key.replace(/^\//, ''))
  return found
}

function servicePrincipalIds(body: unknown, max: number | undefined): string[] {
  const ids = (body as { servicePrincipalIds?: unknown } | undefined)?.servicePrincipalIds
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string') || ids.length === 0)
    throw badRequest(
      "The request body must contain 'servicePrincipalIds': a non-empty array of strings.",
      'BadRequest',
    )
  if (max !== undefined && ids.length > max)
    throw badRequest(
      `The maximum count of service principals in one call is ${max}; the request had ${ids.length}.`,
      'BadRequest',
    )
  return ids as string[]
}

/**
 * A PATCH of keyCredentials: every entry must name a keyId and carry its `key` (the certificate
 * data), for the keys kept as for new ones; a key must not change its data under the same keyId.
 */
function keyCredentialsPatch(value: unknown, current: MockKeyCredential[]): MockKeyCredential[] {
  if (!Array.isArray(value)) throw badRequest("Invalid value for property 'keyCredentials'.")
  return value.map((entry, i) => {
    const e = (entry ?? {}) as Partial<Record<keyof MockKeyCredential, unknown>>
    if (typeof e.keyId !== 'string' || typeof e.key !== 'string' || e.key === '')
      throw badRequest(
        `keyCredentials[${i}]: a key credential needs its keyId and key (the certificate data).`,
      )
    const existing = current.find((k) => k.keyId.toLowerCase() === (e.keyId as string).toLowerCase())
    if (existing && existing.key !== e.key)
      throw badRequest(`keyCredentials[${i}]: the key data of ${e.keyId} does not match the existing key.`)
    return {
      keyId: e.keyId,
      key: e.key,
      displayName: typeof e.displayName === 'string' ? e.displayName : (existing?.displayName ?? ''),
      type: typeof e.type === 'string' ? e.type : (existing?.type ?? 'AsymmetricX509Cert'),
      usage: typeof e.usage === 'string' ? e.usage : (existing?.usage ?? 'Verify'),
      startDateTime: typeof e.startDateTime === 'string' ? e.startDateTime : (existing?.startDateTime ?? ''),
      endDateTime: typeof e.endDateTime === 'string' ? e.endDateTime : (existing?.endDateTime ?? ''),
    }
  })
}

function keyIdOf(body: unknown): string {
  const keyId = (body as { keyId?: unknown } | undefined)?.keyId
  if (typeof keyId !== 'string' || keyId === '')
    throw badRequest("The request body must contain 'keyId'.", 'BadRequest')
  return keyId
}

const userView = (u: MockUser) => ({
  id: u.id,
  userPrincipalName: u.userPrincipalName,
  displayName: u.displayName,
  accountEnabled: u.accountEnabled,
  onPremisesSyncEnabled: u.onPremisesSyncEnabled,
  onPremisesSecurityIdentifier: u.onPremisesSecurityIdentifier,
  userType: u.userType,
  signInSessionsValidFromDateTime: u.signInSessionsValidFromDateTime,
  lastPasswordChangeDateTime: u.lastPasswordChangeDateTime,
})

const identityView = (a: MockIdentityAccount) => ({
  id: a.id,
  displayName: a.displayName,
  domain: a.domain,
  onPremisesSecurityIdentifier: a.onPremisesSecurityIdentifier,
  cloudSecurityIdentifier: a.cloudSecurityIdentifier,
  isEnabled: a.isEnabled,
  accounts: a.accounts.map((x) => ({
    provider: x.provider,
    identifier: x.identifier,
    actions: [...x.actions],
  })),
})

function userOr404(ctx: GraphContext, key: string): MockUser {
  const user = ctx.tenant.userByIdOrUpn(decodeURIComponent(key))
  if (!user) throw notFound(decodeURIComponent(key))
  return user
}

function userIds(body: unknown): string[] {
  const ids = (body as { userIds?: unknown } | undefined)?.userIds
  if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string') || ids.length === 0) {
    throw badRequest("The request body must contain 'userIds': a non-empty array of strings.", 'BadRequest')
  }
  if (ids.length > 60)
    throw badRequest(
      `The maximum count of users in one call is 60; the request had ${ids.length}.`,
      'BadRequest',
    )
  return ids as string[]
}

const STRONG = (p: string): boolean =>
  p.length >= 8 &&
  p.length <= 256 &&
  [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length >= 3

// The invokeAction page's provider matrix (MDC api/security-identityaccounts-invokeaction.md): Entra ID actions are out of scope.
const ACTION_PROVIDERS: Record<string, string[]> = {
  disable: ['activeDirectory', 'okta'],
  enable: ['activeDirectory', 'okta'],
  forcePasswordReset: ['activeDirectory'],
  revokeAllSessions: ['okta'],
}

const SYNCED_ERROR =
  'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.'

/**
 * Last-updated filters are used in the wild but listed on no docs page (CONTRACT.md
 * "last-updated-filters"): with `strictFilters`, the mock is a service that refuses them, which the
 * client must survive.
 */
function refuseUndocumentedFilter(ctx: GraphContext, url: URL, property: string): void {
  const filter = url.searchParams.get('$filter') ?? ''
  if (ctx.strictFilters && new RegExp(`\\b${property}\\b`, 'i').test(filter))
    throw badRequest(
      `Invalid filter clause: filtering on property '${property}' is not supported.`,
      'BadRequest',
    )
}

/**
 * The one operator list Microsoft published for `riskyUser.riskLastUpdatedDateTime` is eq, gt, lt
 * (CONTRACT.md "last-updated-operators"): the mock is a service that enforces it, so a client that
 * sends `ge` finds out here and not in a tenant.
 */
function refuseUnlistedOperator(url: URL): void {
  const filter = url.searchParams.get('$filter') ?? ''
  const op = /\briskLastUpdatedDateTime\s+(ge|le|ne)\b/i.exec(filter)?.[1]
  if (op)
    throw badRequest(
      `Invalid filter clause: operator '${op}' is not supported on riskLastUpdatedDateTime.`,
      'BadRequest',
    )
}

export const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskDetections$/,
    run: (ctx, _m, url) => {
      requirePerm(ctx, PERMS.readDetections)
      refuseUndocumentedFilter(ctx, url, 'lastUpdatedDateTime')
      return paged(
        ctx,
        url,
        filtered(url, ctx.tenant.detections),
        (d) => select(url, d as unknown as Record<string, unknown>),
        20,
        500,
      )
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskDetections\/([^/]+)$/,
    run: (ctx, m) => {
      requirePerm(ctx, PERMS.readDetections)
      const d = ctx.tenant.detections.find((x) => x.id === m[1])
      if (!d) throw notFound(m[1] ?? '')
      return json(200, d)
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskyUsers$/,
    run: (ctx, _m, url) => {
      requirePerm(ctx, PERMS.readRiskyUsers)
      refuseUndocumentedFilter(ctx, url, 'riskLastUpdatedDateTime')
      refuseUnlistedOperator(url)
      const view = riskyUserView(ctx.tenant)
      return paged(
        ctx,
        url,
        filtered(url, ctx.tenant.riskyUsers.values(), view),
        (r) => select(url, view(r)),
        20,
        500,
        ctx.riskyUsersLastPage400,
      )
    },
  },
  {
    method: 'POST',
    pattern: /^\/identityProtection\/riskyUsers\/(confirmCompromised|dismiss|confirmSafe)$/,
    run: (ctx, m, _url, body) => {
      requirePerm(ctx, PERMS.writeRiskyUsers)
      const ids = userIds(body)
      const kind = m[1] as 'confirmCompromised' | 'dismiss' | 'confirmSafe'
      const unknown = ids.filter((id) => !ctx.tenant.users.has(id) && !ctx.tenant.riskyUsers.has(id))
      if (unknown.length > 0)
        throw badRequest('These requestIds do not exist in your tenant or they are not risky.', 'BadRequest')
      for (const id of ids) ctx.tenant.applyRiskAction(kind, id, ctx.claims.appid)
      return noContent()
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskyUsers\/([^/]+)$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.readRiskyUsers)
      const r = ctx.tenant.riskyUsers.get(decodeURIComponent(m[1] ?? ''))
      if (!r) throw notFound(m[1] ?? '')
      return json(200, select(url, riskyUserView(ctx.tenant)(r)))
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskyUsers\/([^/]+)\/history$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.readRiskyUsers)
      const r = ctx.tenant.riskyUsers.get(decodeURIComponent(m[1] ?? ''))
      if (!r) throw notFound(m[1] ?? '')
      return paged(
        ctx,
        url,
        r.history,
        (h) => ({
          ...h,
          isDeleted: false,
          isProcessing: false,
          userDisplayName: r.userDisplayName,
          userPrincipalName: r.userPrincipalName,
        }),
        20,
        500,
      )
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskyServicePrincipals$/,
    run: (ctx, _m, url) => {
      requirePerm(ctx, PERMS.readRiskyServicePrincipals)
      const view = riskyServicePrincipalView(ctx.tenant)
      // $top is documented without a maximum; the users' 500 is the mock's default (ours).
      return paged(
        ctx,
        url,
        filtered(url, ctx.tenant.riskyServicePrincipals.values(), view),
        (r) => select(url, view(r)),
        20,
        ctx.riskyServicePrincipalsMaxTop,
      )
    },
  },
  {
    method: 'POST',
    pattern: /^\/identityProtection\/riskyServicePrincipals\/(confirmCompromised|dismiss)$/,
    run: (ctx, m, _url, body) => {
      requirePerm(ctx, PERMS.writeRiskyServicePrincipals)
      const kind = m[1] as 'confirmCompromised' | 'dismiss'
      // "You can dismiss up to 60 service principal accounts in one request" (dismiss page); the
      // confirmCompromised page names no limit, so the mock enforces none there.
      const ids = servicePrincipalIds(body, kind === 'dismiss' ? 60 : undefined)
      const unknown = ids.filter((id) => !ctx.tenant.servicePrincipals.has(id))
      if (unknown.length > 0)
        throw badRequest(
          'These servicePrincipalIds do not exist in your tenant or they are not risky.',
          'BadRequest',
        )
      for (const id of ids) ctx.tenant.applyServicePrincipalRiskAction(kind, id, ctx.claims.appid)
      return noContent()
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/riskyServicePrincipals\/([^/]+)$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.readRiskyServicePrincipals)
      const r = ctx.tenant.riskyServicePrincipals.get(decodeURIComponent(m[1] ?? ''))
      if (!r) throw notFound(m[1] ?? '')
      return json(200, select(url, riskyServicePrincipalView(ctx.tenant)(r)))
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/servicePrincipalRiskDetections$/,
    run: (ctx, _m, url) => {
      requirePerm(ctx, PERMS.readDetections)
      const view = spDetectionView(ctx.tenant)
      return paged(
        ctx,
        url,
        filtered(url, ctx.tenant.servicePrincipalDetections, view),
        (d) => select(url, view(d)),
        20,
        500,
      )
    },
  },
  {
    method: 'GET',
    pattern: /^\/identityProtection\/servicePrincipalRiskDetections\/([^/]+)$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.readDetections)
      const d = ctx.tenant.servicePrincipalDetections.find((x) => x.id === decodeURIComponent(m[1] ?? ''))
      if (!d) throw notFound(m[1] ?? '')
      return json(200, select(url, spDetectionView(ctx.tenant)(d)))
    },
  },
  {
    method: 'GET',
    pattern: /^\/servicePrincipals(\/[^/]+|\(appId='[^/]*'\))$/,
    run: (ctx, m, url) => {
      const sp = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.servicePrincipals.get(id),
        (appId) => ctx.tenant.servicePrincipalByAppId(appId),
      )
      requireAppRead(ctx, PERMS.readServicePrincipals, sp)
      return json(200, select(url, servicePrincipalView(sp, url)))
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/servicePrincipals(\/[^/]+|\(appId='[^/]*'\))$/,
    run: (ctx, m, _url, body) => {
      const sp = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.servicePrincipals.get(id),
        (appId) => ctx.tenant.servicePrincipalByAppId(appId),
      )
      requireAppWrite(ctx, sp)
      if (typeof body !== 'object' || body === null)
        throw badRequest('The request body is not a JSON object.')
      const patch = body as {
        accountEnabled?: unknown
        keyCredentials?: unknown
        passwordCredentials?: unknown
      }
      // "Using PATCH to set passwordCredential is not supported" (serviceprincipal-update.md).
      if (patch.passwordCredentials !== undefined)
        throw badRequest(
          'Updating passwordCredentials with PATCH is not supported; use addPassword or removePassword.',
        )
      if (patch.accountEnabled !== undefined && typeof patch.accountEnabled !== 'boolean')
        throw badRequest("Invalid value for property 'accountEnabled'.")
      const keys =
        patch.keyCredentials === undefined
          ? undefined
          : keyCredentialsPatch(patch.keyCredentials, sp.keyCredentials)
      if (typeof patch.accountEnabled === 'boolean')
        ctx.tenant.setServicePrincipalEnabled(sp, patch.accountEnabled, ctx.claims.appid)
      if (keys) ctx.tenant.setKeyCredentials(sp, 'sp', keys, ctx.claims.appid)
      return noContent()
    },
  },
  {
    method: 'POST',
    pattern: /^\/servicePrincipals(\/[^/]+|\(appId='[^/]*'\))\/removePassword$/,
    run: (ctx, m, _url, body) => {
      const sp = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.servicePrincipals.get(id),
        (appId) => ctx.tenant.servicePrincipalByAppId(appId),
      )
      requireAppWrite(ctx, sp)
      const keyId = keyIdOf(body)
      if (!ctx.tenant.removePassword(sp, 'sp', keyId, ctx.claims.appid))
        throw badRequest(`No password credential with keyId ${keyId} was found on the service principal.`)
      return noContent()
    },
  },
  {
    method: 'GET',
    pattern: /^\/applications(\/[^/]+|\(appId='[^/]*'\))$/,
    run: (ctx, m, url) => {
      const app = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.applications.get(id),
        (appId) => ctx.tenant.applicationByAppId(appId),
      )
      requireAppRead(ctx, PERMS.readApplications, app)
      return json(200, select(url, applicationView(app, url)))
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/applications(\/[^/]+|\(appId='[^/]*'\))$/,
    run: (ctx, m, _url, body) => {
      const app = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.applications.get(id),
        (appId) => ctx.tenant.applicationByAppId(appId),
      )
      requireAppWrite(ctx, app)
      if (typeof body !== 'object' || body === null)
        throw badRequest('The request body is not a JSON object.')
      const patch = body as { keyCredentials?: unknown; passwordCredentials?: unknown }
      if (patch.passwordCredentials !== undefined)
        throw badRequest(
          'Updating passwordCredentials with PATCH is not supported; use addPassword or removePassword.',
        )
      if (patch.keyCredentials !== undefined)
        ctx.tenant.setKeyCredentials(
          app,
          'app',
          keyCredentialsPatch(patch.keyCredentials, app.keyCredentials),
          ctx.claims.appid,
        )
      return noContent()
    },
  },
  {
    method: 'POST',
    pattern: /^\/applications(\/[^/]+|\(appId='[^/]*'\))\/removePassword$/,
    run: (ctx, m, _url, body) => {
      const app = byIdOrAppId(
        m[1] ?? '',
        (id) => ctx.tenant.applications.get(id),
        (appId) => ctx.tenant.applicationByAppId(appId),
      )
      requireAppWrite(ctx, app)
      const keyId = keyIdOf(body)
      if (!ctx.tenant.removePassword(app, 'app', keyId, ctx.claims.appid))
        throw badRequest(`No password credential with keyId ${keyId} was found on the application.`)
      return noContent()
    },
  },
  {
    method: 'GET',
    pattern: /^\/users\/([^/]+)$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.readUsers)
      return json(200, select(url, userView(userOr404(ctx, m[1] ?? ''))))
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/users\/([^/]+)$/,
    run: (ctx, m, _url, body) => {
      const user = userOr404(ctx, m[1] ?? '')
      if (typeof body !== 'object' || body === null)
        throw badRequest('The request body is not a JSON object.')
      const patch = body as {
        accountEnabled?: unknown
        passwordProfile?: { password?: unknown; forceChangePasswordNextSignIn?: unknown }
      }
      if (patch.accountEnabled !== undefined) {
        requirePerm(ctx, PERMS.enableDisable)
        if (typeof patch.accountEnabled !== 'boolean')
          throw badRequest("Invalid value for property 'accountEnabled'.")
        if (user.isAdmin) requireDirectoryRole(ctx, user, [])
      }
      if (patch.passwordProfile !== undefined) {
        requirePerm(ctx, PERMS.password)
        requireDirectoryRole(ctx, user, [
          'User Administrator',
          'Privileged Authentication Administrator',
          'Global Administrator',
        ])
        const pw = patch.passwordProfile.password
        if (typeof pw !== 'string' || !STRONG(pw))
          throw badRequest(
            'The specified password does not comply with password complexity requirements. Please provide a different password.',
          )
      }
      if (user.onPremisesSyncEnabled === true) throw badRequest(SYNCED_ERROR)
      if (typeof patch.accountEnabled === 'boolean')
        ctx.tenant.setAccountEnabled(user, patch.accountEnabled, ctx.claims.appid)
      if (typeof patch.passwordProfile?.password === 'string')
        ctx.tenant.passwordsSeen.push(patch.passwordProfile.password)
      if (patch.passwordProfile !== undefined)
        ctx.tenant.resetPassword(
          user,
          patch.passwordProfile.forceChangePasswordNextSignIn === true,
          ctx.claims.appid,
        )
      return noContent()
    },
  },
  {
    method: 'POST',
    pattern: /^\/users\/([^/]+)\/revokeSignInSessions$/,
    run: (ctx, m) => {
      requirePerm(ctx, PERMS.revoke)
      const user = userOr404(ctx, m[1] ?? '')
      ctx.tenant.revokeSignInSessions(user, ctx.claims.appid)
      // Documented as 204; the service answers 200 with a boolean (known issue).
      return json(200, { '@odata.context': `${ctx.base}/$metadata#Edm.Boolean`, value: true })
    },
  },
  {
    method: 'GET',
    pattern: /^\/groups\/([^/]+)\/transitiveMembers$/,
    run: (ctx, m, url) => {
      requirePerm(ctx, PERMS.groupMembers)
      const id = decodeURIComponent(m[1] ?? '')
      if (!ctx.tenant.groups.has(id)) throw notFound(id)
      const members = ctx.tenant.transitiveMembers(id).map((x) =>
        x.kind === 'user'
          ? {
              '@odata.type': '#microsoft.graph.user',
              id: x.user.id,
              userPrincipalName: x.user.userPrincipalName,
              displayName: x.user.displayName,
            }
          : { '@odata.type': '#microsoft.graph.group', id: x.group.id, displayName: x.group.displayName },
      )
      return paged(ctx, url, members, (x) => select(url, x), 100, 999)
    },
  },
  {
    method: 'GET',
    pattern: /^\/security\/identities\/identityAccounts$/,
    run: (ctx, _m, url) => {
      requirePerm(ctx, PERMS.readIdentities)
      return paged(
        ctx,
        url,
        filtered(url, ctx.tenant.identityAccounts.values(), identityView),
        (a) => select(url, identityView(a)),
        100,
        100,
      )
    },
  },
  {
    method: 'GET',
    pattern: /^\/security\/identities\/identityAccounts\/([^/]+)$/,
    run: (ctx, m) => {
      requirePerm(ctx, PERMS.readIdentities)
      const a = ctx.tenant.identityAccounts.get(decodeURIComponent(m[1] ?? ''))
      if (!a) throw notFound(m[1] ?? '')
      // The doc example wraps the single entity in `value`.
      return json(200, {
        '@odata.context': `${ctx.base}/$metadata#security.identityAccounts/$entity`,
        value: identityView(a),
      })
    },
  },
  {
    method: 'POST',
    pattern: /^\/security\/identities\/identityAccounts\/([^/]+)\/invokeAction$/,
    run: (ctx, m, _url, body) => {
      requirePerm(ctx, PERMS.identityActions)
      const identity = ctx.tenant.identityAccounts.get(decodeURIComponent(m[1] ?? ''))
      if (!identity) throw notFound(m[1] ?? '')
      const b = (body ?? {}) as { accountId?: unknown; action?: unknown; identityProvider?: unknown }
      if (
        typeof b.accountId !== 'string' ||
        typeof b.action !== 'string' ||
        typeof b.identityProvider !== 'string'
      ) {
        throw badRequest('accountId, action and identityProvider are required.', 'BadRequest')
      }
      const provider = b.identityProvider
      const action = b.action
      const allowed = ACTION_PROVIDERS[action]
      if (!allowed) throw badRequest(`Action '${action}' is not supported.`, 'BadRequest')
      if (!allowed.includes(provider))
        throw badRequest(
          `Action '${action}' is not supported for identity provider '${provider}'.`,
          'BadRequest',
        )
      const account = identity.accounts.find(
        (a) => a.identifier === b.accountId && a.provider.toLowerCase() === provider.toLowerCase(),
      )
      if (!account)
        throw badRequest(`Account '${b.accountId}' was not found for provider '${provider}'.`, 'BadRequest')
      const correlationId = ctx.tenant.applyIdentityAction(identity, action, ctx.claims.appid)
      return json(200, { value: { accountId: account.identifier, action, provider, correlationId } })
    },
  },
]

/** Which throttling scope a path falls in (the mock enforces both budgets). */
export function scopeOf(method: string, path: string): 'identityProtection' | 'directoryWrite' | undefined {
  if (path.startsWith('/identityProtection/')) return 'identityProtection'
  if (
    method !== 'GET' &&
    (path.startsWith('/users/') || path.startsWith('/servicePrincipals') || path.startsWith('/applications'))
  )
    return 'directoryWrite'
  return undefined
}

export function runRoute(ctx: GraphContext, method: string, path: string, url: URL, body: unknown): Response {
  for (const route of ROUTES) {
    if (route.method !== method) continue
    const m = route.pattern.exec(path)
    if (m) {
      try {
        return route.run(ctx, m as unknown as string[], url, body)
      } catch (e) {
        if (e instanceof HttpFailure) return e.response
        throw e
      }
    }
  }
  const known = ROUTES.some((r) => r.pattern.test(path))
  return known
    ? graphError(405, 'Request_BadRequest', `The HTTP method '${method}' is not allowed for this resource.`)
    : graphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/')[1] ?? ''}'.`)
}
