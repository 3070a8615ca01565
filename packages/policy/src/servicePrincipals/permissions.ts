/**
 * The Graph application permissions a policy's `servicePrincipals` section needs, each with the
 * operation page it comes from and what else it lets the app do (the blast radius `doctor` prints).
 */
import type { Policy } from '../schema.js'
import type { ServicePrincipalAction } from './actions.js'

export interface WorkloadPermission {
  permission: string
  /** What in the section needs it. */
  reasons: string[]
  /** What holding it allows beyond what Tourniquet does with it. */
  blastRadius: string
}

/**
 * What each permission lets an app do, beyond Tourniquet's use of it. Application.ReadWrite.OwnedBy
 * is the least privileged permission the update and removePassword pages name, but it reaches only
 * apps the caller owns (Microsoft Q&A 2138886): containing any app needs Application.ReadWrite.All.
 */
export const BLAST_RADIUS: Readonly<Record<string, string>> = {
  'IdentityRiskyServicePrincipal.Read.All':
    'reads the risk state of every service principal; changes nothing',
  'IdentityRiskyServicePrincipal.ReadWrite.All':
    "confirms or dismisses the risk of any service principal: a dismiss lowers a compromised app's risk, which risk-based Conditional Access for workload identities then stops blocking",
  'IdentityRiskEvent.Read.All': 'reads every user and service principal risk detection; changes nothing',
  'Application.Read.All':
    'reads every app registration and service principal, with credential metadata (key ids, hints, dates; never secrets)',
  'Application.ReadWrite.All':
    'creates, changes and deletes any app registration and service principal, and can add credentials to them: an app holding it can sign in as any app of the tenant, including more privileged ones. Treat its own credential as Tier 0',
}

/** The least-privileged application permission each action needs (from each operation's page). */
export const SERVICE_PRINCIPAL_ACTION_PERMISSIONS: Readonly<
  Record<ServicePrincipalAction, readonly string[]>
> = {
  // riskyserviceprincipal-confirmcompromised.md, riskyserviceprincipal-dismiss.md
  confirmCompromised: ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  dismissRisk: ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  // serviceprincipal-update.md (OwnedBy reaches owned apps only)
  disable: ['Application.ReadWrite.All'],
  enable: ['Application.ReadWrite.All'],
  // serviceprincipal-removepassword.md, application-removepassword.md, serviceprincipal-update.md (keyCredentials)
  removeCredentials: ['Application.ReadWrite.All'],
}

/** The permissions of the section (empty without one): its reads, then each action's. */
export function workloadPermissions(policy: Policy): WorkloadPermission[] {
  const section = policy.servicePrincipals
  if (!section) return []
  const reasons = new Map<string, Set<string>>()
  const add = (perm: string, why: string): void => {
    const set = reasons.get(perm) ?? new Set<string>()
    set.add(why)
    reasons.set(perm, set)
  }
  // identityprotectionroot-list-riskyserviceprincipals.md, identityprotectionroot-list-serviceprincipalriskdetections.md, serviceprincipal-get.md, application-get.md
  add('IdentityRiskyServicePrincipal.Read.All', 'read risky service principals')
  add('IdentityRiskEvent.Read.All', 'read service principal risk detections in the lookback window')
  add(
    'Application.Read.All',
    'read service principals and app registrations (owner tenant, type, credential metadata)',
  )
  for (const rule of section.rules)
    for (const action of rule.then)
      for (const perm of SERVICE_PRINCIPAL_ACTION_PERMISSIONS[action])
        add(perm, `servicePrincipals rule '${rule.name}': ${action}`)
  return [...reasons.keys()].sort().map((permission) => ({
    permission,
    reasons: [...(reasons.get(permission) ?? [])],
    blastRadius: BLAST_RADIUS[permission] ?? '',
  }))
}
