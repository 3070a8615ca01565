/**
 * The only module that imports @azure/msal-node. It builds a TokenProvider for a client secret, a
 * client certificate, or a (user-assigned) managed identity. All msal traffic goes through our own
 * transport via `system.networkClient`, which refuses every host but the configured authority:
 * with static authority and discovery metadata msal sends exactly one request, the token POST, and
 * never looks up login.microsoftonline.com behind an overridden authority host.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import {
  ConfidentialClientApplication,
  type Configuration,
  type INetworkModule,
  LogLevel,
  ManagedIdentityApplication,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node'
import { AbortedError, AuthError, ConfigError } from '../../errors.js'
import { isLoopbackHost } from '../clouds.js'
import { publishToken } from '../diagnostics.js'
import type { HttpTransport } from '../http.js'
import type { AccessToken, TokenProvider } from '../pipeline/authPolicy.js'
import { registerSecret } from '../sanitizer.js'
import { createUndiciTransport } from '../transport/undiciTransport.js'
import { aadstsCode, adviceFor } from './advice.js'

export type Credential =
  | { kind: 'secret'; clientSecret: string }
  /** PEM text holding the private key and the certificate. */
  | { kind: 'certificate'; pem: string; sendCertificateChain?: boolean }
  /** Managed identity; user-assigned when `clientId` is given, system-assigned otherwise. */
  | { kind: 'managedIdentity'; clientId?: string | undefined }
  /**
   * Secretless: the app registration trusts this managed identity through a federated identity
   * credential; the identity's token for the cloud's token-exchange audience (api://AzureADTokenExchange
   * in the global cloud) is the app's client assertion.
   */
  | { kind: 'federatedManagedIdentity'; managedIdentityClientId?: string | undefined }

export interface AuthOptions {
  tenantId: string
  /** The app registration's client id (unused for managed identity). */
  clientId: string
  credential: Credential
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/

/** msal's INetworkModule on our transport, limited to an allow-list of hosts. */
class RestrictedNetworkClient implements INetworkModule {
  constructor(
    private readonly transport: HttpTransport,
    private readonly allowed: (url: URL) => boolean,
    private readonly what: string,
  ) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout)
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, undefined)
  }

  private async send<T>(
    method: 'GET' | 'POST',
    raw: string,
    options: NetworkRequestOptions | undefined,
    timeout: number | undefined,
  ): Promise<NetworkResponse<T>> {
    const url = new URL(raw)
    if (!this.allowed(url)) {
      throw new ConfigError(
        'authorityHost',
        `refusing to contact ${url.origin} for a token: only ${this.what} is allowed`,
      )
    }
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(options?.headers ?? {})) headers[k.toLowerCase()] = v
    const res = await this.transport.send({
      method,
      url,
      headers,
      body: options?.body,
      signal: timeout === undefined ? undefined : AbortSignal.timeout(timeout),
    })
    let body: unknown
    try {
      body = res.body === '' ? {} : JSON.parse(res.body)
    } catch {
      // msal reads `error`/`error_description` itself; give it something it can report.
      body = {
        error: 'invalid_response',
        error_description: `the token endpoint answered ${res.status} with a body that is not JSON`,
      }
    }
    return { status: res.status, headers: res.headers, body: body as T }
  }
}

function staticMetadata(
  authorityHost: string,
  tenantId: string,
): Pick<Configuration['auth'], 'knownAuthorities' | 'authorityMetadata' | 'cloudDiscoveryMetadata'> {
  const host = new URL(authorityHost).host
  const base = `${authorityHost}/${tenantId}`
  return {
    knownAuthorities: [host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    }),
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${base}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    }),
  }
}

function parseCertificate(pem: string): { privateKey: string; thumbprintSha256: string; x5c: string } {
  const key =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      pem,
    )
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  if (key === null)
    throw new ConfigError('certificate', 'the PEM file holds no private key (expected a PRIVATE KEY block)')
  if (certs === null || certs[0] === undefined)
    throw new ConfigError('certificate', 'the PEM file holds no certificate (expected a CERTIFICATE block)')
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certs[0])
    createPrivateKey(key[0])
  } catch (error) {
    throw new ConfigError(
      'certificate',
      'the PEM file could not be parsed as a private key and an X.509 certificate',
      { cause: error },
    )
  }
  const thumbprintSha256 = createHash('sha256').update(cert.raw).digest('hex')
  return { privateKey: key[0], thumbprintSha256, x5c: certs.join('\n') }
}

function toAuthError(error: unknown, description: string): AuthError {
  if (error instanceof AuthError) return error
  const cause = error as { errorCode?: string; errorMessage?: string; message?: string }
  const text = `${cause.errorCode ?? ''} ${cause.errorMessage ?? cause.message ?? ''}`
  const code = aadstsCode(text)
  const advice =
    error instanceof ConfigError ||
    (typeof cause.message === 'string' && cause.message.includes('refusing to contact'))
      ? 'check authorityHost: msal tried to reach a host that is not configured'
      : adviceFor(code)
  const summary = code === undefined ? (cause.errorCode ?? 'token request failed') : `AADSTS${code}`
  return new AuthError(
    `could not get a token with the ${description} (${summary}): ${advice}`,
    { aadsts: code, advice },
    { cause: error },
  )
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(new AbortedError())
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

const silentLogger = { loggerCallback: () => undefined, piiLoggingEnabled: false, logLevel: LogLevel.Error }

export interface TokenTarget {
  /** Login host origin (validated). */
  authorityHost: string
  /** The resource the token is for, e.g. https://graph.microsoft.com (scope = resource + /.default). */
  resource: string
  /** Federated mode: the audience of the managed identity's assertion, the cloud's token-exchange value. */
  tokenExchangeAudience: string
}

let miNetworkClient: RestrictedNetworkClient | undefined

/**
 * msal-node keeps the managed identity source, and the network client of the first
 * ManagedIdentityApplication, in static state for the whole process. So managed identity traffic
 * goes through one process-wide transport that is never closed (a closed one would break every
 * later identity), limited to the hosts where identity endpoints live: IMDS or a loopback sidecar.
 */
function managedIdentityNetworkClient(): RestrictedNetworkClient {
  miNetworkClient ??= new RestrictedNetworkClient(
    createUndiciTransport({ keepAliveTimeoutMs: 1_000 }),
    (url) => isLoopbackHost(url.hostname) || url.hostname === '169.254.169.254',
    'the managed identity endpoint',
  )
  return miNetworkClient
}

/** Builds the token provider for the configured credential. Nothing is sent until the first getToken. */
export function createMsalTokenProvider(
  auth: AuthOptions,
  target: TokenTarget,
  transport: HttpTransport,
): TokenProvider {
  const scope = `${target.resource}/.default`
  if (!TENANT.test(auth.tenantId))
    // Not quoted: a secret pasted into the tenant setting must not reach a log.
    throw new ConfigError('tenantId', 'is not a tenant id (GUID) or domain')
  const credential = auth.credential

  const mi = (clientId: string | undefined): ManagedIdentityApplication =>
    new ManagedIdentityApplication({
      ...(clientId === undefined ? {} : { managedIdentityIdParams: { userAssignedClientId: clientId } }),
      system: { networkClient: managedIdentityNetworkClient(), loggerOptions: silentLogger },
    })

  if (credential.kind === 'managedIdentity') {
    const app = mi(credential.clientId)
    const description =
      credential.clientId === undefined
        ? 'system-assigned managed identity'
        : 'user-assigned managed identity'
    return {
      description,
      async getToken({ forceRefresh, signal }): Promise<AccessToken> {
        try {
          const result = await raceAbort(
            app.acquireToken({ resource: target.resource, forceRefresh }),
            signal,
          )
          return {
            token: result.accessToken,
            expiresOnMs: result.expiresOn?.getTime() ?? Date.now() + 300_000,
          }
        } catch (error) {
          if (error instanceof AbortedError) throw error
          publishToken({ kind: 'failed', credential: description })
          throw toAuthError(error, description)
        }
      },
    }
  }

  const authorityOrigin = target.authorityHost
  const allowed = (url: URL): boolean => url.origin === authorityOrigin
  const base: Configuration['auth'] = {
    clientId: auth.clientId,
    // msal insists on an https authority; a loopback http host (a local mock) is reached through the
    // token_endpoint in the static metadata, which our network client sends to as configured.
    authority: `${authorityOrigin.replace(/^http:/, 'https:')}/${auth.tenantId}`,
    ...staticMetadata(authorityOrigin, auth.tenantId),
  }
  let description: string
  if (credential.kind === 'secret') {
    if (credential.clientSecret === '') throw new ConfigError('clientSecret', 'is empty')
    registerSecret(credential.clientSecret)
    base.clientSecret = credential.clientSecret
    description = 'client secret'
  } else if (credential.kind === 'federatedManagedIdentity') {
    const identity = mi(credential.managedIdentityClientId)
    base.clientAssertion = async () =>
      (await identity.acquireToken({ resource: target.tokenExchangeAudience })).accessToken
    description = 'federated managed identity'
  } else {
    const cert = parseCertificate(credential.pem)
    base.clientCertificate = {
      thumbprintSha256: cert.thumbprintSha256,
      privateKey: cert.privateKey,
      ...(credential.sendCertificateChain ? { x5c: cert.x5c } : {}),
    }
    description = 'client certificate'
  }
  const app = new ConfidentialClientApplication({
    auth: base,
    system: {
      networkClient: new RestrictedNetworkClient(transport, allowed, authorityOrigin),
      loggerOptions: silentLogger,
    },
  })
  return {
    description,
    async getToken({ forceRefresh, signal }): Promise<AccessToken> {
      try {
        const result = await raceAbort(
          app.acquireTokenByClientCredential({ scopes: [scope], skipCache: forceRefresh }),
          signal,
        )
        if (result === null)
          throw new AuthError('the identity platform returned no token', {
            aadsts: undefined,
            advice: adviceFor(undefined),
          })
        return { token: result.accessToken, expiresOnMs: result.expiresOn?.getTime() ?? Date.now() + 300_000 }
      } catch (error) {
        if (error instanceof AbortedError) throw error
        publishToken({ kind: 'failed', credential: description })
        throw toAuthError(error, description)
      }
    },
  }
}
