/**
 * What each national cloud offers, as the service behaves there. The mock keeps its own copy of
 * these facts (it never imports the client it tests); each row names its source, and CONTRACT.md
 * lists them.
 */
export const MOCK_CLOUDS = ['global', 'usgov', 'usgovdod', 'china'] as const
export type MockCloud = (typeof MOCK_CLOUDS)[number]

/** The Graph resource tokens are issued for (MDC concepts/deployments.md). */
export const GRAPH_RESOURCE: Readonly<Record<MockCloud, string>> = {
  global: 'https://graph.microsoft.com',
  usgov: 'https://graph.microsoft.us',
  usgovdod: 'https://dod-graph.microsoft.us',
  china: 'https://microsoftgraph.chinacloudapi.cn',
}

/**
 * The audience a federated identity credential trusts (entra-docs
 * workload-identity-federation-config-app-trust-managed-identity.md).
 */
export const TOKEN_EXCHANGE_AUDIENCE: Readonly<Record<MockCloud, string>> = {
  global: 'api://AzureADTokenExchange',
  usgov: 'api://AzureADTokenExchangeUSGov',
  usgovdod: 'api://AzureADTokenExchangeUSGov',
  china: 'api://AzureADTokenExchangeChina',
}

/**
 * Path prefixes a cloud does not serve. Identity Protection pages carry MDC's `global-us.md`
 * include (no China); the v1.0 identityAccounts pages carry `global-only.md`.
 */
const MISSING: Readonly<Record<MockCloud, readonly string[]>> = {
  global: [],
  usgov: ['/security/identities/'],
  usgovdod: ['/security/identities/'],
  china: ['/identityProtection/', '/security/identities/'],
}

export function servedIn(cloud: MockCloud, path: string): boolean {
  return !MISSING[cloud].some((prefix) => path.startsWith(prefix))
}
