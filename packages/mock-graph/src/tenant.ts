import { randomUUID } from 'node:crypto'
import type {
  MockAction,
  MockApp,
  MockApplication,
  MockDetection,
  MockGroup,
  MockHistoryItem,
  MockIdentityAccount,
  MockRiskyServicePrincipal,
  MockRiskyUser,
  MockServicePrincipal,
  MockServicePrincipalDetection,
  MockUser,
} from './model.js'

/**
 * The state of one fake tenant and the transitions the real service applies. Handlers read and
 * mutate it only through these methods, and tests inspect it directly.
 */
export class Tenant {
  readonly users = new Map<string, MockUser>()
  readonly riskyUsers = new Map<string, MockRiskyUser>()
  readonly detections: MockDetection[] = []
  readonly groups = new Map<string, MockGroup>()
  readonly identityAccounts = new Map<string, MockIdentityAccount>()
  readonly apps = new Map<string, MockApp>()
  readonly actions: MockAction[] = []
  /** Workload identities: service principals and application registrations, by object id. */
  readonly servicePrincipals = new Map<string, MockServicePrincipal>()
  readonly applications = new Map<string, MockApplication>()
  readonly riskyServicePrincipals = new Map<string, MockRiskyServicePrincipal>()
  readonly servicePrincipalDetections: MockServicePrincipalDetection[] = []
  /**
   * What the tenant has switched on: Identity Protection's APIs need an Entra ID P2 licence (MDC
   * riskyuser-list.md), Defender for Identity's need its sensor deployed. Off, they answer 403 with
   * the error CONTRACT.md "licence" describes.
   */
  readonly features = { entraIdP2: true, defenderForIdentity: true, workloadIdentitiesPremium: true }
  /** Passwords set through passwordProfile, in memory only (never in the log): lets tests prove no output carries one. */
  readonly passwordsSeen: string[] = []

  constructor(
    readonly tenantId: string,
    /** Domains the tenant answers to in token requests, besides its id. */
    readonly domains: string[] = [],
    private readonly now: () => number = Date.now,
    /** How long isProcessing stays true after a write, in ms. */
    readonly processingMs = 2_000,
  ) {}

  addUser(user: MockUser): MockUser {
    this.users.set(user.id, user)
    return user
  }

  userByIdOrUpn(key: string): MockUser | undefined {
    const byId = this.users.get(key)
    if (byId) return byId
    const lower = key.toLowerCase()
    for (const u of this.users.values()) if (u.userPrincipalName.toLowerCase() === lower) return u
    return undefined
  }

  /** Transitive members of a group (nested groups expanded, cycles tolerated), groups included. */
  transitiveMembers(
    groupId: string,
  ): Array<{ kind: 'user'; user: MockUser } | { kind: 'group'; group: MockGroup }> {
    const out: Array<{ kind: 'user'; user: MockUser } | { kind: 'group'; group: MockGroup }> = []
    const seen = new Set<string>([groupId])
    const queue = [...(this.groups.get(groupId)?.members ?? [])]
    while (queue.length > 0) {
      const id = queue.shift() as string
      if (seen.has(id)) continue
      seen.add(id)
      const group = this.groups.get(id)
      if (group) {
        out.push({ kind: 'group', group })
        queue.push(...group.members)
        continue
      }
      const user = this.users.get(id)
      if (user) out.push({ kind: 'user', user })
    }
    return out
  }

  isProcessing(r: MockRiskyUser | MockRiskyServicePrincipal): boolean {
    return r.processingUntil > this.now()
  }

  private record(action: Omit<MockAction, 'at'>): void {
    this.actions.push({ ...action, at: this.now() })
  }

  /** confirmCompromised / dismiss / confirmSafe on one user, as the service applies them. */
  applyRiskAction(
    kind: 'confirmCompromised' | 'dismiss' | 'confirmSafe',
    userId: string,
    appId: string,
  ): void {
    const nowIso = new Date(this.now()).toISOString()
    let r = this.riskyUsers.get(userId)
    const user = this.users.get(userId)
    if (!r) {
      // Confirming a user compromised creates the risky-user record if there was none.
      r = {
        id: userId,
        userPrincipalName: user?.userPrincipalName ?? '',
        userDisplayName: user?.displayName ?? '',
        riskLevel: 'none',
        riskState: 'none',
        riskDetail: 'none',
        riskLastUpdatedDateTime: nowIso,
        isDeleted: false,
        processingUntil: 0,
        history: [],
      }
      this.riskyUsers.set(userId, r)
    }
    const next = {
      confirmCompromised: {
        riskLevel: 'high',
        riskState: 'confirmedCompromised',
        riskDetail: 'adminConfirmedUserCompromised',
      },
      dismiss: { riskLevel: 'none', riskState: 'dismissed', riskDetail: 'adminDismissedAllRiskForUser' },
      confirmSafe: { riskLevel: 'none', riskState: 'confirmedSafe', riskDetail: 'adminConfirmedSigninSafe' },
    }[kind]
    Object.assign(r, next, {
      riskLastUpdatedDateTime: nowIso,
      processingUntil: this.now() + this.processingMs,
    })
    const item: MockHistoryItem = {
      id: randomUUID(),
      userId,
      initiatedBy: appId,
      ...next,
      riskLastUpdatedDateTime: nowIso,
      activity: { riskEventTypes: [], detail: next.riskDetail },
    }
    r.history.push(item)
    if (kind === 'confirmCompromised') {
      // Identity Protection records the admin's confirmation as a detection of its own.
      this.detections.push({
        id: randomUUID(),
        requestId: null,
        correlationId: null,
        riskEventType: 'adminConfirmedUserCompromised',
        riskLevel: 'high',
        riskState: 'confirmedCompromised',
        riskDetail: 'adminConfirmedUserCompromised',
        source: 'IdentityProtection',
        detectionTimingType: 'offline',
        activity: 'user',
        tokenIssuerType: 'AzureAD',
        ipAddress: '',
        location: { city: '', state: '', countryOrRegion: '', geoCoordinates: null },
        activityDateTime: nowIso,
        detectedDateTime: nowIso,
        lastUpdatedDateTime: nowIso,
        userId,
        userDisplayName: r.userDisplayName,
        userPrincipalName: r.userPrincipalName,
        additionalInfo: '[]',
      })
    }
    this.record({ kind, userId, appId })
  }

  /**
   * A detection becomes readable now, as Identity Protection publishes one: `lastUpdatedDateTime`
   * is now, `detectedDateTime` is when it was detected (hours earlier for a late offline one,
   * entra-docs id-protection/concept-risk-detection-types.md), and the user's risk record is raised and its
   * `riskLastUpdatedDateTime` moves. How the service aggregates a user's level is not documented:
   * the mock keeps the highest level of an at-risk user.
   */
  detect(
    userId: string,
    d: { type: string; level: string; timing: 'realtime' | 'offline'; detectedAt: number },
  ): MockDetection {
    const user = this.users.get(userId)
    if (!user) throw new Error(`no user ${userId} in the mock tenant`)
    const nowIso = new Date(this.now()).toISOString()
    const atIso = new Date(d.detectedAt).toISOString()
    const detection: MockDetection = {
      id: randomUUID(),
      requestId: randomUUID(),
      correlationId: randomUUID(),
      riskEventType: d.type,
      riskLevel: d.level,
      riskState: 'atRisk',
      riskDetail: 'none',
      source: 'IdentityProtection',
      detectionTimingType: d.timing,
      activity: 'signin',
      tokenIssuerType: 'AzureAD',
      ipAddress: '203.0.113.7',
      location: { city: '', state: '', countryOrRegion: '', geoCoordinates: null },
      activityDateTime: atIso,
      detectedDateTime: atIso,
      lastUpdatedDateTime: nowIso,
      userId,
      userDisplayName: user.displayName,
      userPrincipalName: user.userPrincipalName,
      additionalInfo: '[]',
    }
    this.detections.push(detection)
    const r = this.riskyUsers.get(userId)
    const rank = (level: string): number => ['none', 'low', 'medium', 'high'].indexOf(level)
    const level = r?.riskState === 'atRisk' && rank(r.riskLevel) > rank(d.level) ? r.riskLevel : d.level
    const risk = {
      riskLevel: level,
      riskState: 'atRisk',
      riskDetail: 'none',
      riskLastUpdatedDateTime: nowIso,
    }
    if (r) Object.assign(r, risk)
    else
      this.riskyUsers.set(userId, {
        id: userId,
        userPrincipalName: user.userPrincipalName,
        userDisplayName: user.displayName,
        ...risk,
        isDeleted: false,
        processingUntil: 0,
        history: [],
      })
    return detection
  }

  revokeSignInSessions(user: MockUser, appId: string): void {
    // Sessions of external (B2B) users are not revoked: 200 and no effect, as the service does.
    if (user.userType === 'Guest') return
    user.signInSessionsValidFromDateTime = new Date(this.now()).toISOString()
    this.record({ kind: 'revokeSignInSessions', userId: user.id, appId })
  }

  setAccountEnabled(user: MockUser, enabled: boolean, appId: string): void {
    if (user.accountEnabled === enabled) return
    user.accountEnabled = enabled
    this.record({ kind: enabled ? 'enable' : 'disable', userId: user.id, appId })
  }

  resetPassword(user: MockUser, forceChange: boolean, appId: string): void {
    user.passwordResets++
    user.forceChangePasswordNextSignIn = forceChange
    // A password change also ends every session, as in Entra.
    user.lastPasswordChangeDateTime = new Date(this.now()).toISOString()
    user.signInSessionsValidFromDateTime = user.lastPasswordChangeDateTime
    this.record({ kind: 'resetPassword', userId: user.id, appId })
  }

  /** A Defender for Identity action; returns the correlation id the service hands back. */
  applyIdentityAction(identity: MockIdentityAccount, action: string, appId: string): string {
    const correlationId = randomUUID()
    const user = this.users.get(identity.userId)
    if (action === 'disable') {
      identity.isEnabled = false
      // The AD change reaches Entra with the next sync; the mock applies it at once.
      if (user) user.accountEnabled = false
    } else if (action === 'enable') {
      identity.isEnabled = true
      if (user) user.accountEnabled = true
    } else if (action === 'forcePasswordReset' && user) {
      user.forceChangePasswordNextSignIn = true
    } else if (action === 'revokeAllSessions' && user) {
      user.signInSessionsValidFromDateTime = new Date(this.now()).toISOString()
    }
    this.record({ kind: `mdi:${action}`, userId: identity.userId, appId, correlationId })
    return correlationId
  }

  /** Actions applied more than once to a user: `duplicates()` is empty when nothing happened twice (or pass one kind). */
  duplicates(kind?: MockAction['kind']): Array<{ userId: string; kind: MockAction['kind']; count: number }> {
    const counts = new Map<string, { userId: string; kind: MockAction['kind']; count: number }>()
    for (const a of this.actions) {
      if (kind !== undefined && a.kind !== kind) continue
      const key = `${a.kind}|${a.userId}|${a.keyId ?? ''}`
      const entry = counts.get(key) ?? { userId: a.userId, kind: a.kind, count: 0 }
      entry.count++
      counts.set(key, entry)
    }
    return [...counts.values()].filter((e) => e.count > 1)
  }

  servicePrincipalByAppId(appId: string): MockServicePrincipal | undefined {
    const lower = appId.toLowerCase()
    for (const sp of this.servicePrincipals.values()) if (sp.appId.toLowerCase() === lower) return sp
    return undefined
  }

  applicationByAppId(appId: string): MockApplication | undefined {
    const lower = appId.toLowerCase()
    for (const app of this.applications.values()) if (app.appId.toLowerCase() === lower) return app
    return undefined
  }

  /**
   * confirmCompromised / dismiss on one service principal: high / confirmedCompromised /
   * adminConfirmedServicePrincipalCompromised, or none / dismissed /
   * adminDismissedAllRiskForServicePrincipal (the riskDetail values of resources/riskyserviceprincipal.md).
   */
  applyServicePrincipalRiskAction(kind: 'confirmCompromised' | 'dismiss', id: string, appId: string): void {
    const nowIso = new Date(this.now()).toISOString()
    const next =
      kind === 'confirmCompromised'
        ? {
            riskLevel: 'high',
            riskState: 'confirmedCompromised',
            riskDetail: 'adminConfirmedServicePrincipalCompromised',
          }
        : {
            riskLevel: 'none',
            riskState: 'dismissed',
            riskDetail: 'adminDismissedAllRiskForServicePrincipal',
          }
    const r = this.riskyServicePrincipals.get(id) ?? {
      id,
      riskLevel: 'none',
      riskState: 'none',
      riskDetail: 'none',
      riskLastUpdatedDateTime: nowIso,
      processingUntil: 0,
    }
    Object.assign(r, next, {
      riskLastUpdatedDateTime: nowIso,
      processingUntil: this.now() + this.processingMs,
    })
    this.riskyServicePrincipals.set(id, r)
    this.record({ kind: `sp:${kind}`, userId: id, appId })
  }

  /**
   * A service principal detection becomes readable now and raises the principal's risk (the
   * highest level of an at-risk principal, as for users: ours, the aggregation is not documented).
   */
  detectServicePrincipal(
    spId: string,
    d: { type: string; level: string; detectedAt: number; keyIds?: string[] },
  ): MockServicePrincipalDetection {
    const sp = this.servicePrincipals.get(spId)
    if (!sp) throw new Error(`no service principal ${spId} in the mock tenant`)
    const nowIso = new Date(this.now()).toISOString()
    const atIso = new Date(d.detectedAt).toISOString()
    const detection: MockServicePrincipalDetection = {
      id: randomUUID().replaceAll('-', ''),
      requestId: null,
      correlationId: null,
      riskEventType: d.type,
      riskLevel: d.level,
      riskState: 'atRisk',
      riskDetail: 'none',
      source: 'IdentityProtection',
      detectionTimingType: 'offline',
      activity: 'servicePrincipal',
      tokenIssuerType: 'AzureAD',
      ipAddress: null,
      activityDateTime: atIso,
      detectedDateTime: atIso,
      lastUpdatedDateTime: nowIso,
      servicePrincipalId: sp.id,
      servicePrincipalDisplayName: sp.displayName,
      appId: sp.appId,
      keyIds: d.keyIds ?? [],
      additionalInfo: '[{"Key":"alertUrl","Value":null}]',
    }
    this.servicePrincipalDetections.push(detection)
    const rank = (level: string): number => ['none', 'low', 'medium', 'high'].indexOf(level)
    const r = this.riskyServicePrincipals.get(spId)
    const level = r?.riskState === 'atRisk' && rank(r.riskLevel) > rank(d.level) ? r.riskLevel : d.level
    const risk = {
      riskLevel: level,
      riskState: 'atRisk',
      riskDetail: 'none',
      riskLastUpdatedDateTime: nowIso,
    }
    if (r) Object.assign(r, risk)
    else this.riskyServicePrincipals.set(spId, { id: spId, ...risk, processingUntil: 0 })
    return detection
  }

  setServicePrincipalEnabled(sp: MockServicePrincipal, enabled: boolean, appId: string): void {
    if (sp.accountEnabled === enabled) return
    sp.accountEnabled = enabled
    this.record({ kind: enabled ? 'sp:enable' : 'sp:disable', userId: sp.id, appId })
  }

  /** Removes one password credential; false when the object has none with that keyId. */
  removePassword(
    owner: MockServicePrincipal | MockApplication,
    kind: 'sp' | 'app',
    keyId: string,
    appId: string,
  ): boolean {
    const i = owner.passwordCredentials.findIndex((c) => c.keyId.toLowerCase() === keyId.toLowerCase())
    if (i < 0) return false
    owner.passwordCredentials.splice(i, 1)
    this.record({ kind: `${kind}:removePassword`, userId: owner.id, appId, keyId })
    return true
  }

  /** Replaces the key credentials with the ones kept; records each key that left. */
  setKeyCredentials(
    owner: MockServicePrincipal | MockApplication,
    kind: 'sp' | 'app',
    kept: MockServicePrincipal['keyCredentials'],
    appId: string,
  ): void {
    const keptIds = new Set(kept.map((k) => k.keyId.toLowerCase()))
    for (const k of owner.keyCredentials)
      if (!keptIds.has(k.keyId.toLowerCase()))
        this.record({ kind: `${kind}:removeKey`, userId: owner.id, appId, keyId: k.keyId })
    owner.keyCredentials = kept
  }

  actionsOf(kind: MockAction['kind']): MockAction[] {
    return this.actions.filter((a) => a.kind === kind)
  }
}
