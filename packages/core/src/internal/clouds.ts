import { ConfigError } from '../errors.js'

export type CloudName = 'global' | 'usgov' | 'usgovdod' | 'china'

export interface CloudEndpoints {
  /** Login host origin, e.g. https://login.microsoftonline.com; the authority is `${authorityHost}/${tenant}`. */
  authorityHost: string
  /** Graph root origin without version, e.g. https://graph.microsoft.com. */
  graphRoot: string
}

/** National cloud endpoints (MDC concepts/deployments.md). Tokens are not interchangeable between clouds. */
export const CLOUDS: Readonly<Record<CloudName, CloudEndpoints>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphRoot: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphRoot: 'https://graph.microsoft.us' },
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphRoot: 'https://dod-graph.microsoft.us',
  },
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphRoot: 'https://microsoftgraph.chinacloudapi.cn',
  },
}

export const CLOUD_NAMES = Object.keys(CLOUDS) as CloudName[]

/**
 * The audience of the managed identity's token that a federated identity credential trusts, per
 * cloud (entra-docs workload-identity-federation-config-app-trust-managed-identity.md). A token for the global value is refused in the US Government and China clouds.
 */
export const TOKEN_EXCHANGE_AUDIENCE: Readonly<Record<CloudName, string>> = {
  global: 'api://AzureADTokenExchange',
  usgov: 'api://AzureADTokenExchangeUSGov',
  usgovdod: 'api://AzureADTokenExchangeUSGov',
  china: 'api://AzureADTokenExchangeChina',
}

export interface ResolvedEndpoints extends CloudEndpoints {
  cloud: CloudName
  /** The token audience: always the cloud's real Graph resource, even when the Graph host is overridden (proxy, mock). */
  graphResource: string
  /** `${graphResource}/.default`, the client-credentials scope. */
  scope: string
  /** The audience a federated credential trusts in this cloud (TOKEN_EXCHANGE_AUDIENCE). */
  tokenExchangeAudience: string
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)
}

/**
 * Validates an endpoint override and returns its origin. https always; plain http only for a
 * loopback address (a local mock or proxy), so a token can never cross a network in the clear.
 */
export function validateOrigin(field: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(field, `'${value}' is not a URL; expected e.g. https://host`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError(
      field,
      `'${url.origin}' must use https (plain http is accepted only for loopback addresses)`,
    )
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(field, 'must not contain credentials')
  if (url.search !== '' || url.hash !== '')
    throw new ConfigError(field, 'must not contain a query or fragment')
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigError(field, `'${value}' must be an origin without a path (e.g. ${url.origin})`)
  }
  return url.origin
}

export function resolveEndpoints(options: {
  cloud?: CloudName | undefined
  authorityHost?: string | undefined
  graphRoot?: string | undefined
}): ResolvedEndpoints {
  const cloud = options.cloud ?? 'global'
  const defaults = CLOUDS[cloud]
  if (defaults === undefined)
    throw new ConfigError('cloud', `unknown cloud '${cloud}'; expected one of ${CLOUD_NAMES.join(', ')}`)
  const graphResource = defaults.graphRoot
  return {
    cloud,
    authorityHost:
      options.authorityHost === undefined
        ? defaults.authorityHost
        : validateOrigin('authorityHost', options.authorityHost),
    graphRoot:
      options.graphRoot === undefined ? defaults.graphRoot : validateOrigin('graphRoot', options.graphRoot),
    graphResource,
    scope: `${graphResource}/.default`,
    tokenExchangeAudience: TOKEN_EXCHANGE_AUDIENCE[cloud],
  }
}
