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
import { type Settings, SettingsError } from './settings.js'

export type GraphApi = 'identityProtection' | 'defenderForIdentity'

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
    apis: { identityProtection: true, defenderForIdentity: true },
  },
  usgov: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
    apis: { identityProtection: true, defenderForIdentity: false },
  },
  usgovdod: {
    login: 'https://login.microsoftonline.us',
    federatedAudience: 'api://AzureADTokenExchangeUSGov',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    registrySuffix: 'azurecr.us',
    apis: { identityProtection: true, defenderForIdentity: false },
  },
  china: {
    login: 'https://login.chinacloudapi.cn',
    federatedAudience: 'api://AzureADTokenExchangeChina',
    blobSuffix: 'blob.core.chinacloudapi.cn',
    registrySuffix: 'azurecr.cn',
    apis: { identityProtection: false, defenderForIdentity: false },
  },
}

const API_OF_PERMISSION: Array<[RegExp, GraphApi, string]> = [
  [/^IdentityRisk/, 'identityProtection', 'Entra ID Protection (riskDetections, riskyUsers)'],
  [/^SecurityIdentities/, 'defenderForIdentity', 'Defender for Identity (identityAccounts, invokeAction)'],
]

/**
 * The Graph APIs the policy's permissions need that `cloud` does not offer, described for a person;
 * empty when the cloud offers all of them.
 */
export function missingApis(cloud: Settings['cloud'], permissions: readonly string[]): string[] {
  const missing = new Set<string>()
  for (const permission of permissions) {
    for (const [pattern, api, label] of API_OF_PERMISSION) {
      if (pattern.test(permission) && !CLOUDS[cloud].apis[api])
        missing.add(`${label}, needed for ${permission}`)
    }
  }
  return [...missing]
}

/** Fails the preview, naming tourniquet:cloud, when the policy needs a Graph API the cloud lacks. */
export function assertCloudOffers(cloud: Settings['cloud'], permissions: readonly string[]): void {
  const missing = missingApis(cloud, permissions)
  if (missing.length === 0) return
  throw new SettingsError([
    {
      key: 'cloud',
      message: `Microsoft Graph in the ${cloud} cloud does not offer ${missing.join('; ')}; deploy to a cloud that does, or drop those actions from the policy`,
    },
  ])
}
