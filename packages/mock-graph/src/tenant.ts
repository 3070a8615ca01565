import { randomUUID } from 'node:crypto'
import type {
  MockAction,
  MockApp,
  MockDetection,
  MockGroup,
  MockHistoryItem,
  MockIdentityAccount,
  MockRiskyUser,
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
  /**
   * What the tenant has switched on: Identity Protection's APIs need an Entra ID P2 licence (MDC
   * riskyuser-list.md), Defender for Identity's need its sensor deployed. Off, they answer 403 with
   * the error CONTRACT.md "licence" describes.
   */
  readonly features = { entraIdP2: true, defenderForIdentity: true }
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

  isProcessing(r: MockRiskyUser): boolean {
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
      const key = `${a.kind}|${a.userId}`
      const entry = counts.get(key) ?? { userId: a.userId, kind: a.kind, count: 0 }
      entry.count++
      counts.set(key, entry)
    }
    return [...counts.values()].filter((e) => e.count > 1)
  }

  actionsOf(kind: MockAction['kind']): MockAction[] {
    return this.actions.filter((a) => a.kind === kind)
  }
}
