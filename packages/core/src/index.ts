/** @tourniquet/core: the Microsoft Graph remediation client. */

export type { GraphClient, GraphClientOptions, TokenProviderOptions } from './client.js'
/* Client */
export { createGraphClient, createTokenProvider } from './client.js'
export type { GraphErrorDetails, TransportPhase } from './errors.js'
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
export { aadstsCode, adviceFor } from './internal/auth/advice.js'
/* Auth and clouds */
export type { AuthOptions, Credential } from './internal/auth/msal.js'
export type { CloudEndpoints, CloudName, GraphApi, ResolvedEndpoints } from './internal/clouds.js'
export {
  API_AVAILABILITY,
  apiAvailable,
  CLOUD_NAMES,
  CLOUDS,
  GRAPH_API_NAMES,
  GRAPH_APIS,
  isLoopbackHost,
  resolveEndpoints,
  TOKEN_EXCHANGE_AUDIENCE,
  validateOrigin,
} from './internal/clouds.js'
export type {
  RequestMessage,
  ResponseMessage,
  RetryMessage,
  ThrottleWaitMessage,
  TokenMessage,
} from './internal/diagnostics.js'
/* Diagnostics */
export { CHANNELS } from './internal/diagnostics.js'
export type {
  GraphRequest,
  GraphResponse,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  ThrottleCost,
  ThrottleScope,
} from './internal/http.js'
export type { ODataFilter, ODataLiteral } from './internal/odata.js'
/* OData */
export { and, anyOf, eq, ge, le, literal, or } from './internal/odata.js'
/* Secrets */
export { generateTemporaryPassword } from './internal/password.js'
export type { GraphOperation } from './internal/permissions.js'
/* Permissions */
export { OPERATION_PERMISSIONS, permissionFor } from './internal/permissions.js'
export type { AccessToken, TokenProvider } from './internal/pipeline/authPolicy.js'
export { authPolicy, authPolicyName } from './internal/pipeline/authPolicy.js'
export { bodyIntegrityPolicy, bodyIntegrityPolicyName } from './internal/pipeline/bodyIntegrityPolicy.js'
export {
  clientRequestIdPolicy,
  clientRequestIdPolicyName,
} from './internal/pipeline/clientRequestIdPolicy.js'
export { diagnosticsPolicy, diagnosticsPolicyName } from './internal/pipeline/diagnosticsPolicy.js'
export type { PipelinePolicy, SendRequest } from './internal/pipeline/pipeline.js'
/* Pipeline building blocks (for custom pipelines and tests) */
export { composePipeline } from './internal/pipeline/pipeline.js'
export type { RetryPolicyOptions } from './internal/pipeline/retryPolicy.js'
export { retryPolicy, retryPolicyName } from './internal/pipeline/retryPolicy.js'
export type { AttemptOutcome, RetryDecision, RetryOptions } from './internal/pipeline/retryStrategies.js'
export {
  backoffDelay,
  DEFAULT_RETRY_OPTIONS,
  decideRetry,
  parseRetryAfter,
  safeToResend,
} from './internal/pipeline/retryStrategies.js'
export type { ThrottleLimits, ThrottlePolicy } from './internal/pipeline/throttlePolicy.js'
export {
  DEFAULT_THROTTLE_LIMITS,
  throttlePolicy,
  throttlePolicyName,
} from './internal/pipeline/throttlePolicy.js'
export type { TokenBucketOptions } from './internal/pipeline/tokenBucket.js'
export { TokenBucket } from './internal/pipeline/tokenBucket.js'
export type { BatchItem, BatchItemResult, BatchOptions } from './internal/resources/batch.js'
export { BATCH_MAX_ITEMS, Batch } from './internal/resources/batch.js'
export type { BulkResult, ChunkFailure, ChunkSuccess } from './internal/resources/chunked.js'
export { Groups } from './internal/resources/groups.js'
export type {
  Account,
  DefenderIdentity,
  IdentityAction,
  IdentityProvider,
  InvokeActionInput,
  ListIdentityAccountsQuery,
} from './internal/resources/identityAccounts.js'
export {
  IDENTITY_ACTIONS,
  IDENTITY_PROVIDERS,
  IdentityAccounts,
  identityAccountItems,
} from './internal/resources/identityAccounts.js'
export type { RiskDetectionQuery } from './internal/resources/riskDetections.js'
/* Resources */
export {
  RISK_DETECTION_SELECT,
  RISK_DETECTIONS_MAX_TOP,
  RiskDetections,
  riskDetectionFilter,
} from './internal/resources/riskDetections.js'
export type { RiskyUserQuery } from './internal/resources/riskyUsers.js'
export {
  RISKY_USER_SELECT,
  RISKY_USERS_CHUNK,
  RISKY_USERS_MAX_TOP,
  RiskyUsers,
} from './internal/resources/riskyUsers.js'
export type { WriteResult } from './internal/resources/users.js'
export { USER_SELECT, USER_VERIFY_SELECT, Users, userItems } from './internal/resources/users.js'
export { REDACTED, redactText, registerSecret, sanitizeHeaders, sanitizeUrl } from './internal/sanitizer.js'
export type {
  DirectoryObject,
  IdentityAccount,
  InvokeActionResult,
  RiskDetection,
  RiskyUser,
  RiskyUserHistoryItem,
  User,
} from './internal/schemas.js'
export type { TransportOptions } from './internal/transport/undiciTransport.js'
export { createUndiciTransport, DEFAULT_TRANSPORT_OPTIONS } from './internal/transport/undiciTransport.js'
