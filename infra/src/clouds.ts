/**
 * What differs per national cloud for the deployment: the login host (the federated credential's
 * issuer), the token exchange audience, storage and registry suffixes. Which Graph APIs a cloud
 * offers, and whether the policy fits it, is the policy package's (`cloudGaps`, `permissionsIn`).
 *
 * Sources: MicrosoftDocs/entra-docs docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md
 * (issuer `<login host>/<tenant>/v2.0`, audience per cloud); Azure SDK for JS identity's
 * `audienceByAuthorityHost` (the same audiences by login host).
 */
import { API_NAMES, cloudGaps, type Policy } from '@tourniquet/policy'
import { type Settings, SettingsError } from './settings.js'

export interface CloudEndpoints {
  /** Microsoft Entra login host: the federated credential's issuer is `<login>/<tenant>/v2.0`. */
  login: string
  federatedAudience: string
  blobSuffix: string
  /** Azure Container Registry login servers end with this. */
  registrySuffix: string
}

export const CLOUDS: Record<Settings['cloud'], CloudEndpoints> = {
  global: {
    login: 'https://login.microsoftonline.com',
    federatedAudience: 'api://AzureADTokenExchange',
    blobSuffix: 'blob.core.windows.net',
    registrySuffix: 'azurecr.io',
  },
  usgov: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
  },
  usgovdod: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
  },
  china: {
    login: 'https://login.chinacloudapi.cn',
    federatedAudience: 'api://AzureADTokenExchangeChina',
    blobSuffix: 'blob.core.chinacloudapi.cn',
    registrySuffix: 'azurecr.cn',
  },
}

/**
 * The Graph APIs the policy cannot do without that `cloud` does not offer, described for a person;
 * empty when the policy can run there. The facts and the rule are the policy package's
 * (`cloudGaps`), the same the runner checks before its first request.
 */
export function missingApis(policy: Policy, cloud: Settings['cloud']): string[] {
  return [...new Set(cloudGaps(policy, cloud).map((gap) => `${API_NAMES[gap.api]}, needed for ${gap.why}`))]
}

/** Fails the preview, naming tourniquet:cloud, when the policy needs a Graph API the cloud lacks. */
export function assertCloudFits(policy: Policy, cloud: Settings['cloud']): void {
  const missing = missingApis(policy, cloud)
  if (missing.length === 0) return
  throw new SettingsError([
    {
      key: 'cloud',
      message: `Microsoft Graph in the ${cloud} cloud does not offer ${missing.join('; ')}; deploy to a cloud that does, or drop those actions from the policy`,
    },
  ])
}
