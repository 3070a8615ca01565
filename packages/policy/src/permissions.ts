/**
 * The exact Microsoft Graph application permissions a policy needs: its reads, plus what each
 * action can route to for the kinds of users its rules can match. infra grants exactly these.
 */
import type { Action } from './actions.js'
import type { Policy, Rule } from './schema.js'
import { workloadPermissions } from './servicePrincipals/permissions.js'

export interface PermissionReport {
  /** Graph application permissions (app roles), sorted. */
  permissions: string[]
  /** Why each permission is there. */
  reasons: Record<string, string[]>
  /** Entra directory roles the app's service principal needs on top (app-only password resets, admin targets). */
  directoryRoles: string[]
}

type Kind = 'cloud' | 'synced' | 'guest'

function kindsOf(rule: Rule): Kind[] {
  const types = rule.when.userType ?? ['member', 'guest']
  const kinds: Kind[] = []
  if (types.includes('member')) {
    if (rule.when.synced !== true) kinds.push('cloud')
    if (rule.when.synced !== false) kinds.push('synced')
  }
  // A guest is a cloud object in this tenant; `synced: true` rules out guests.
  if (types.includes('guest') && rule.when.synced !== true) kinds.push('guest')
  return kinds
}

function actionPermissions(action: Action, kind: Kind): string[] {
  switch (action) {
    case 'confirmCompromised':
    case 'dismissRisk':
    case 'confirmSafe':
      return ['IdentityRiskyUser.ReadWrite.All']
    case 'revokeSessions':
    case 'requireSignInAgain':
      return kind === 'guest' ? [] : ['User.RevokeSessions.All']
    case 'disable':
    case 'enable':
      return kind === 'synced'
        ? ['SecurityIdentitiesAccount.Read.All', 'SecurityIdentitiesActions.ReadWrite.All']
        : ['User.EnableDisableAccount.All']
    case 'forcePasswordReset':
      if (kind === 'guest') return []
      return kind === 'synced'
        ? ['SecurityIdentitiesAccount.Read.All', 'SecurityIdentitiesActions.ReadWrite.All']
        : ['User-PasswordProfile.ReadWrite.All']
  }
}

export function permissionReport(policy: Policy): PermissionReport {
  const reasons = new Map<string, Set<string>>()
  const add = (perm: string, why: string): void => {
    const set = reasons.get(perm) ?? new Set<string>()
    set.add(why)
    reasons.set(perm, set)
  }
  add('IdentityRiskEvent.Read.All', 'read risk detections in the lookback window')
  add('IdentityRiskyUser.Read.All', 'read risky users')
  add('User.Read.All', 'read directory facts (accountEnabled, sync state, user type) of risky users')
  if (policy.exclude.groups.length > 0)
    add('GroupMember.ReadBasic.All', 'read the transitive members (ids) of exclusion groups')
  const roles = new Set<string>()
  for (const rule of policy.rules) {
    for (const kind of kindsOf(rule)) {
      for (const action of rule.then) {
        for (const perm of actionPermissions(action, kind))
          add(perm, `rule '${rule.name}': ${action} (${kind} users)`)
        if (action === 'forcePasswordReset' && kind === 'cloud') roles.add('User Administrator')
      }
    }
  }
  // Workload identities: only with a servicePrincipals section, so user policies keep their set.
  for (const w of workloadPermissions(policy)) for (const why of w.reasons) add(w.permission, why)
  // No "ReadWrite includes Read" shortcut: the riskyUser list, get and history pages list
  // IdentityRiskyUser.Read.All with no higher-privileged alternative, so a policy that acts on
  // risky users holds both.
  const permissions = [...reasons.keys()].sort()
  return {
    permissions,
    reasons: Object.fromEntries(permissions.map((p) => [p, [...(reasons.get(p) ?? [])]])),
    directoryRoles: [...roles].sort(),
  }
}

/** The exact Graph application permissions the policy's reads and actions need. */
export function requiredPermissions(policy: Policy): string[] {
  return permissionReport(policy).permissions
}

/** The Graph API families a policy can call, as national clouds offer them. */
export type PolicyApi =
  | 'identityProtection'
  | 'workloadIdentityProtection'
  | 'directory'
  | 'defenderForIdentity'

export interface ApiNeed {
  api: PolicyApi
  /** What in the policy needs it. */
  why: string
  /**
   * Whether the same rule and action also reach users by another route (cloud users through Entra):
   * without the API those users are still acted on and the others are skipped with the reason.
   */
  otherRoute: boolean
}

/**
 * Which APIs the policy needs, so a cloud that lacks one is caught before any request: Identity
 * Protection and the directory for every run's reads; Defender for Identity for each rule whose
 * actions route synced users through it.
 */
export function apiNeeds(policy: Policy): ApiNeed[] {
  const needs: ApiNeed[] = [
    { api: 'identityProtection', why: 'reading risky users and risk detections', otherRoute: false },
    { api: 'directory', why: 'reading directory facts of risky users', otherRoute: false },
  ]
  if (policy.servicePrincipals)
    needs.push({
      api: 'workloadIdentityProtection',
      why: 'reading risky service principals and their detections (servicePrincipals rules)',
      otherRoute: false,
    })
  for (const rule of policy.rules) {
    const kinds = kindsOf(rule)
    for (const action of rule.then) {
      if (!kinds.includes('synced')) continue
      if (!actionPermissions(action, 'synced').includes('SecurityIdentitiesActions.ReadWrite.All')) continue
      needs.push({
        api: 'defenderForIdentity',
        why: `rule '${rule.name}': ${action} of users synced from on-premises AD`,
        otherRoute: kinds.some((k) => k !== 'synced' && actionPermissions(action, k).length > 0),
      })
    }
  }
  return needs
}
