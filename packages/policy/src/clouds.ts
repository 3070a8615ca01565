/**
 * Which Graph API families each national cloud offers, and whether a policy fits a cloud: the one
 * table the runner (before any request) and infra (before `pulumi up` grants anything) both read.
 *
 * Sources, each API page's national-cloud include in microsoft-graph-docs-contrib:
 * riskDetection, riskyUser and their actions carry `global-us.md` (global and US Government, not
 * China/21Vianet), https://learn.microsoft.com/en-us/graph/api/riskyuser-confirmcompromised;
 * riskyServicePrincipal and servicePrincipalRiskDetection carry the same include,
 * https://learn.microsoft.com/en-us/graph/api/riskyserviceprincipal-dismiss; the v1.0
 * identityAccounts pages carry `global-only.md`,
 * https://learn.microsoft.com/en-us/graph/api/security-identityaccounts-invokeaction. Users and
 * groups are in every cloud, https://learn.microsoft.com/en-us/graph/deployments.
 */
import { apiNeeds, type PolicyApi } from './permissions.js'
import type { Policy } from './schema.js'

export const CLOUD_NAMES = ['global', 'usgov', 'usgovdod', 'china'] as const
export type CloudName = (typeof CLOUD_NAMES)[number]

/** Where each API family is offered. */
export const API_AVAILABILITY: Readonly<Record<PolicyApi, readonly CloudName[]>> = {
  identityProtection: ['global', 'usgov', 'usgovdod'],
  workloadIdentityProtection: ['global', 'usgov', 'usgovdod'],
  defenderForIdentity: ['global'],
  directory: ['global', 'usgov', 'usgovdod', 'china'],
}

/** Each API family as a person reads it in a message. */
export const API_NAMES: Readonly<Record<PolicyApi, string>> = {
  identityProtection: 'Entra ID Protection (riskDetections, riskyUsers)',
  workloadIdentityProtection:
    'Entra ID Protection for workload identities (riskyServicePrincipals, servicePrincipalRiskDetections)',
  defenderForIdentity: 'Defender for Identity (security/identities/identityAccounts, invokeAction)',
  directory: 'the directory (users, groups)',
}

export function apiAvailable(api: PolicyApi, cloud: CloudName): boolean {
  return API_AVAILABILITY[api].includes(cloud)
}

/** An API the policy cannot do without that the cloud does not offer. */
export interface CloudGap {
  api: PolicyApi
  /** What in the policy needs it. */
  why: string
}

/**
 * What keeps `policy` from running in `cloud`, in the order `apiNeeds` lists it; empty when it fits.
 * An API a rule needs only for some users, when the same action reaches the others through Entra,
 * is no gap: those users are skipped with the reason.
 */
export function cloudGaps(policy: Policy, cloud: CloudName): CloudGap[] {
  return apiNeeds(policy)
    .filter((need) => !need.otherRoute && !apiAvailable(need.api, cloud))
    .map(({ api, why }) => ({ api, why }))
}

/** Graph permissions that serve one API family only: not granted where the cloud lacks it. */
const API_OF_PERMISSION: ReadonlyArray<readonly [RegExp, PolicyApi]> = [
  [/^IdentityRiskyServicePrincipal/, 'workloadIdentityProtection'],
  [/^IdentityRisk/, 'identityProtection'],
  [/^SecurityIdentities/, 'defenderForIdentity'],
]

/** The permissions that mean something in `cloud`: those of APIs it does not offer are left out. */
export function permissionsIn(permissions: readonly string[], cloud: CloudName): string[] {
  return permissions.filter((p) => {
    const api = API_OF_PERMISSION.find(([pattern]) => pattern.test(p))?.[1]
    return api === undefined || apiAvailable(api, cloud)
  })
}
