/** @tourniquet/core: the Microsoft Graph remediation client. */

/* Client */
export { createGraphClient, createTokenProvider } from './client.js'
export type { GraphClient, GraphClientOptions, TokenProviderOptions } from './client.js'

/* Auth and clouds */
export type { AuthOptions, Credential } from './internal/auth/msal.js'
export { aadstsCode, adviceFor } from './internal/auth/advice.js'
export { CLOUD_NAMES, CLOUDS, isLoopbackHost, resolveEndpoints, validateOrigin } from './internal/clouds.js'
export type { CloudEndpoints, CloudName, ResolvedEndpoints } from './internal/clouds.js'
export type { AccessToken, TokenProvider } from './internal/pipeline/authPolicy.js'

/* Resources */
export { RiskDetections, riskDetectionFilter, RISK_DETECTIONS_MAX_TOP } from './internal/resources/riskDetections.js'
export type { RiskDetectionQuery } from './internal/resources/riskDetections.js'
export { RiskyUsers, RISKY_USERS_CHUNK, RISKY_USERS_MAX_TOP } from './internal/resources/riskyUsers.js'
export type { RiskyUserQuery } from './internal/resources/riskyUsers.js'
export { Users, USER_SELECT, userItems } from './internal/resources/users.js'
export type { WriteResult } from './internal/resources/users.js'
export { Groups } from './internal/resources/groups.js'
export { IdentityAccounts, IDENTITY_ACTIONS, IDENTITY_PROVIDERS } from './internal/resources/identityAccounts.js'
export type {
  Account,
  DefenderIdentity,
  IdentityAction,
  IdentityProvider,
  InvokeActionInput,
  ListIdentityAccountsQuery,
} from './internal/resources/identityAccounts.js'
export { Batch, BATCH_MAX_ITEMS } from './internal/resources/batch.js'
export type { BatchItem, BatchItemResult, BatchOptions } from './internal/resources/batch.js'
export type { BulkResult, ChunkFailure, ChunkSuccess } from './internal/resources/chunked.js'
export type {
  DirectoryObject,
  IdentityAccount,
  InvokeActionResult,
  RiskDetection,
  RiskyUser,
  RiskyUserHistoryItem,
  User,
} from './internal/schemas.js'

/* Permissions */
export { OPERATION_PERMISSIONS, permissionFor } from './internal/permissions.js'
export type { GraphOperation } from './internal/permissions.js'

/* OData */
export { and, anyOf, eq, ge, le, literal, or } from './internal/odata.js'
export type { ODataFilter, ODataLiteral } from './internal/odata.js'

/* Pipeline building blocks (for custom pipelines and tests) */
export { composePipeline } from './internal/pipeline/pipeline.js'
export type { PipelinePolicy, SendRequest } from './internal/pipeline/pipeline.js'
export { clientRequestIdPolicy, clientRequestIdPolicyName } from './internal/pipeline/clientRequestIdPolicy.js'
export { retryPolicy, retryPolicyName } from './internal/pipeline/retryPolicy.js'
export type { RetryPolicyOptions } from './internal/pipeline/retryPolicy.js'
export { backoffDelay, decideRetry, DEFAULT_RETRY_OPTIONS, parseRetryAfter, safeToResend } from './internal/pipeline/retryStrategies.js'
export type { AttemptOutcome, RetryDecision, RetryOptions } from './internal/pipeline/retryStrategies.js'
export { DEFAULT_THROTTLE_LIMITS, throttlePolicy, throttlePolicyName } from './internal/pipeline/throttlePolicy.js'
export type { ThrottleLimits, ThrottlePolicy } from './internal/pipeline/throttlePolicy.js'
export { TokenBucket } from './internal/pipeline/tokenBucket.js'
export type { TokenBucketOptions } from './internal/pipeline/tokenBucket.js'
export { authPolicy, authPolicyName } from './internal/pipeline/authPolicy.js'
export { diagnosticsPolicy, diagnosticsPolicyName } from './internal/pipeline/diagnosticsPolicy.js'
export { createUndiciTransport, DEFAULT_TRANSPORT_OPTIONS } from './internal/transport/undiciTransport.js'
export type { TransportOptions } from './internal/transport/undiciTransport.js'
export type { GraphRequest, GraphResponse, HttpMethod, HttpRequest, HttpResponse, HttpTransport, ThrottleCost, ThrottleScope } from './internal/http.js'

/* Diagnostics */
export { CHANNELS } from './internal/diagnostics.js'
export type { RequestMessage, ResponseMessage, RetryMessage, ThrottleWaitMessage, TokenMessage } from './internal/diagnostics.js'

/* Secrets */
export { generateTemporaryPassword } from './internal/password.js'
export { REDACTED, redactText, registerSecret, sanitizeHeaders, sanitizeUrl } from './internal/sanitizer.js'

/* Errors */
export {
  AbortedError,
  AuthError,
  ConfigError,
  ContractError,
  DeadlineError,
  ErrorCode,
  GraphError,
  isAbortedError,
  isAuthError,
  isConfigError,
  isContractError,
  isDeadlineError,
  isGraphError,
  isOutcomeUnknownError,
  isPermissionError,
  isThrottledError,
  isTourniquetError,
  isTransportError,
  OutcomeUnknownError,
  PermissionError,
  ThrottledError,
  TourniquetError,
  TransportError,
} from './errors.js'
export type { GraphErrorDetails, TransportPhase } from './errors.js'
