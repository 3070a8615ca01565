import { ConfigError } from './errors.js'
import { type AuthOptions, type Credential, createMsalTokenProvider } from './internal/auth/msal.js'
import { type CloudName, type ResolvedEndpoints, resolveEndpoints } from './internal/clouds.js'
import { GraphHttp } from './internal/graphHttp.js'
import type { HttpTransport, ThrottleScope } from './internal/http.js'
import { authPolicy, type TokenProvider } from './internal/pipeline/authPolicy.js'
import { bodyIntegrityPolicy } from './internal/pipeline/bodyIntegrityPolicy.js'
import { clientRequestIdPolicy } from './internal/pipeline/clientRequestIdPolicy.js'
import { diagnosticsPolicy } from './internal/pipeline/diagnosticsPolicy.js'
import { composePipeline, type PipelinePolicy } from './internal/pipeline/pipeline.js'
import { retryPolicy } from './internal/pipeline/retryPolicy.js'
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './internal/pipeline/retryStrategies.js'
import { type SharedBudget, type ThrottleLimits, throttlePolicy } from './internal/pipeline/throttlePolicy.js'
import type { TokenBucket } from './internal/pipeline/tokenBucket.js'
import { Applications } from './internal/resources/applications.js'
import { Batch } from './internal/resources/batch.js'
import { Groups } from './internal/resources/groups.js'
import { IdentityAccounts } from './internal/resources/identityAccounts.js'
import { RiskDetections } from './internal/resources/riskDetections.js'
import { RiskyServicePrincipals } from './internal/resources/riskyServicePrincipals.js'
import { RiskyUsers } from './internal/resources/riskyUsers.js'
import { ServicePrincipalRiskDetections } from './internal/resources/servicePrincipalRiskDetections.js'
import { ServicePrincipals } from './internal/resources/servicePrincipals.js'
import { Users } from './internal/resources/users.js'
import { createUndiciTransport, type TransportOptions } from './internal/transport/undiciTransport.js'

export interface GraphClientOptions {
  tenantId: string
  /** The app registration's client id (for managed identity: ignored, see the credential). */
  clientId: string
  credential: Credential
  cloud?: CloudName
  /** Overrides the cloud's login host (origin only). */
  authorityHost?: string
  /** Overrides the cloud's Graph root (origin only, no version). */
  graphRoot?: string
  apiVersion?: 'v1.0' | 'beta'
  transport?: TransportOptions
  retry?: Partial<RetryOptions>
  throttle?: Partial<ThrottleLimits>
  /** Budgets shared with other clients (createSharedBudget): each request of the scope takes from it too. */
  sharedBudgets?: Partial<Record<ThrottleScope, SharedBudget>>
  /** Epoch ms after which no retry wait may end (the run's schedule). */
  deadlineAt?: number
  /** Replaces msal entirely (tests, or tokens from elsewhere). */
  tokenProvider?: TokenProvider
  /** Jitter source; tests inject a fixed one. */
  random?: () => number
}

export interface GraphClient {
  readonly endpoints: ResolvedEndpoints
  readonly riskDetections: RiskDetections
  readonly riskyUsers: RiskyUsers
  readonly users: Users
  readonly groups: Groups
  readonly identityAccounts: IdentityAccounts
  /** Workload identities: risk, detections, the directory's service principals and applications. */
  readonly riskyServicePrincipals: RiskyServicePrincipals
  readonly servicePrincipalRiskDetections: ServicePrincipalRiskDetections
  readonly servicePrincipals: ServicePrincipals
  readonly applications: Applications
  readonly batch: Batch
  /** The credential in use, for logs: 'client secret', 'managed identity', ... (never the secret). */
  readonly credentialDescription: string
  /** Live view of the throttle buckets (tokens available per scope), for diagnostics and tests. */
  readonly throttle: Readonly<Record<'identityProtection' | 'directoryWrite', Pick<TokenBucket, 'available'>>>
  close(): Promise<void>
}

/**
 * Builds the Graph client. The pipeline order is written down here and only here:
 * clientRequestId -> retry -> auth -> throttle -> bodyIntegrity -> diagnostics -> transport. Auth sits inside retry
 * so each attempt is signed with a current token. Throttle sits inside auth, next to the wire, so a
 * budget token is taken only when the request really leaves: a token acquisition in between would
 * shift the request later and bunch it against the next one (docs/decisions/001).
 */
export function createGraphClient(options: GraphClientOptions): GraphClient {
  if (options.tenantId.trim() === '') throw new ConfigError('tenantId', 'is empty')
  if (options.credential.kind !== 'managedIdentity' && options.clientId.trim() === '')
    throw new ConfigError('clientId', 'is empty')
  const endpoints = resolveEndpoints(options)
  const transport: HttpTransport = createUndiciTransport(options.transport)
  const auth: AuthOptions = {
    tenantId: options.tenantId,
    clientId: options.clientId,
    credential: options.credential,
  }
  const tokens =
    options.tokenProvider ??
    createMsalTokenProvider(
      auth,
      {
        authorityHost: endpoints.authorityHost,
        resource: endpoints.graphResource,
        tokenExchangeAudience: endpoints.tokenExchangeAudience,
      },
      transport,
    )
  const retry = { ...DEFAULT_RETRY_OPTIONS, ...options.retry }
  const random = options.random ?? Math.random
  const throttle = throttlePolicy(options.throttle, options.sharedBudgets)
  const policies: PipelinePolicy[] = [
    clientRequestIdPolicy(),
    retryPolicy({ ...retry, deadlineAt: options.deadlineAt, random }),
    authPolicy(tokens, endpoints.graphRoot),
    throttle,
    bodyIntegrityPolicy(),
    diagnosticsPolicy(),
  ]
  const http = new GraphHttp(
    composePipeline(policies, transport),
    endpoints.graphRoot,
    options.apiVersion ?? 'v1.0',
  )
  const batch = new Batch(http, { retry, random, deadlineAt: options.deadlineAt, buckets: throttle.buckets })
  return {
    endpoints,
    riskDetections: new RiskDetections(http),
    riskyUsers: new RiskyUsers(http),
    users: new Users(http, batch),
    groups: new Groups(http),
    identityAccounts: new IdentityAccounts(http, batch),
    riskyServicePrincipals: new RiskyServicePrincipals(http),
    servicePrincipalRiskDetections: new ServicePrincipalRiskDetections(http),
    servicePrincipals: new ServicePrincipals(http, batch),
    applications: new Applications(http, batch),
    batch,
    credentialDescription: tokens.description,
    throttle: throttle.buckets,
    close: () => transport.close(),
  }
}

export interface TokenProviderOptions {
  tenantId: string
  clientId: string
  credential: Credential
  cloud?: CloudName
  authorityHost?: string
  /** Token audience; defaults to the cloud's Graph resource. Azure Storage: https://storage.azure.com */
  resource?: string
  transport?: TransportOptions
}

/**
 * A standalone token provider on the same msal setup the Graph client uses (the runner uses it for
 * Azure Storage). `close` releases its connection pool.
 */
export function createTokenProvider(
  options: TokenProviderOptions,
): TokenProvider & { close(): Promise<void> } {
  const endpoints = resolveEndpoints(options)
  const transport = createUndiciTransport(options.transport)
  const provider = createMsalTokenProvider(
    { tenantId: options.tenantId, clientId: options.clientId, credential: options.credential },
    {
      authorityHost: endpoints.authorityHost,
      resource: options.resource ?? endpoints.graphResource,
      tokenExchangeAudience: endpoints.tokenExchangeAudience,
    },
    transport,
  )
  return {
    description: provider.description,
    getToken: (o) => provider.getToken(o),
    close: () => transport.close(),
  }
}
