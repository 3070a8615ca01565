/**
 * What differs per national cloud: the login host (the federated credential's issuer), the token
 * exchange audience, storage and registry suffixes, and which Graph APIs the cloud offers at all.
 *
 * Sources: MicrosoftDocs/entra-docs docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md
 * (issuer `<login host>/<tenant>/v2.0`, audience per cloud); Azure SDK for JS identity's
 * `audienceByAuthorityHost` (the same audiences by login host); microsoft-graph-docs-contrib national-cloud
 * includes on the riskDetection/riskyUser pages (global and US Government, not China) and on the
 * identityAccounts/invokeAction pages (global only). Graph contract, corrections 2 and 3.
 */
import { apiNeeds, type Policy } from '@tourniquet/policy'
import { type Settings, SettingsError } from './settings.js'

export type GraphApi = 'identityProtection' | 'workloadIdentityProtection' | 'defenderForIdentity'

export interface CloudEndpoints {
  /** Microsoft Entra login host: the federated credential's issuer is `<login>/<tenant>/v2.0`. */
  login: string
  federatedAudience: string
  blobSuffix: string
  /** Azure Container Registry login servers end with this. */
  registrySuffix: string
  apis: Record<GraphApi, boolean>
}

export const CLOUDS: Record<Settings['cloud'], CloudEndpoints> = {
  global: {
    login: 'https://login.microsoftonline.com',
    federatedAudience: 'api://AzureADTokenExchange',
    blobSuffix: 'blob.core.windows.net',
    registrySuffix: 'azurecr.io',
    apis: { identityProtection: true, workloadIdentityProtection: true, defenderForIdentity: true },
  },
  usgov: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
    apis: { identityProtection: true, workloadIdentityProtection: true, defenderForIdentity: false },
  },
  usgovdod: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
    apis: { identityProtection: true, workloadIdentityProtection: true, defenderForIdentity: false },
  },
  china: {
    login: 'https://login.chinacloudapi.cn',
    federatedAudience: 'api://AzureADTokenExchangeChina',
    blobSuffix: 'blob.core.chinacloudapi.cn',
    registrySuffix: 'azurecr.cn',
    apis: { identityProtection: false, workloadIdentityProtection: false, defenderForIdentity: false },
  },
}

const API_LABEL: Record<GraphApi, string> = {
  identityProtection: 'Entra ID Protection (riskDetections, riskyUsers)',
  // riskyserviceprincipal-dismiss and the servicePrincipalRiskDetections list carry global-us.md.
  workloadIdentityProtection:
    'Entra ID Protection for workload identities (riskyServicePrincipals, servicePrincipalRiskDetections)',
  defenderForIdentity: 'Defender for Identity (identityAccounts, invokeAction)',
}

/** Graph permissions that only serve an API: dropped where the cloud does not offer it. */
const API_OF_PERMISSION: Array<[RegExp, GraphApi]> = [
  [/^IdentityRiskyServicePrincipal/, 'workloadIdentityProtection'],
  [/^IdentityRisk/, 'identityProtection'],
  [/^SecurityIdentities/, 'defenderForIdentity'],
]

/**
 * The Graph APIs the policy cannot do without that `cloud` does not offer, described for a person;
 * empty when the policy can run there. The rule is the runner's (`apiNeeds`): an API a rule needs
 * only for some users, when the same action reaches others through Entra, is not required (the job
 * skips those users with the reason).
 */
export function missingApis(cloud: Settings['cloud'], policy: Policy): string[] {
  const missing = new Set<string>()
  for (const need of apiNeeds(policy)) {
    if (need.api === 'directory' || need.otherRoute || CLOUDS[cloud].apis[need.api]) continue
    missing.add(`${API_LABEL[need.api]}, needed for ${need.why}`)
  }
  return [...missing]
}

/** The permissions to grant in `cloud`: those of APIs the cloud does not offer are left out. */
export function permissionsIn(cloud: Settings['cloud'], permissions: readonly string[]): string[] {
  return permissions.filter((p) =>
    API_OF_PERMISSION.every(([pattern, api]) => !pattern.test(p) || CLOUDS[cloud].apis[api]),
  )
}

/** Fails the preview, naming tourniquet:cloud, when the policy needs a Graph API the cloud lacks. */
export function assertCloudOffers(cloud: Settings['cloud'], policy: Policy): void {
  const missing = missingApis(cloud, policy)
  if (missing.length === 0) return
  throw new SettingsError([
    {
      key: 'cloud',
      message: `Microsoft Graph in the ${cloud} cloud does not offer ${missing.join('; ')}; deploy to a cloud that does, or drop those actions from the policy`,
    },
  ])
}
