/**
 * @tourniquet/core: the Microsoft Graph remediation client. The surface is what the runner, infra
 * and the tests use; the building blocks behind it (pipeline policies, transport, resources) stay
 * internal. Add an export when a caller outside core needs it.
 */

/* Client */
export type { GraphClient, GraphClientOptions } from './client.js'
export { createGraphClient, createTokenProvider } from './client.js'
/* Errors */
export {
  AuthError,
  ConfigError,
  ContractError,
  DeadlineError,
  ErrorCode,
  isAuthError,
  isConfigError,
  isContractError,
  isDeadlineError,
  isGraphError,
  isOutcomeUnknownError,
  isPermissionError,
  isThrottledError,
  isTourniquetError,
} from './errors.js'
/* Auth and clouds */
export type { Credential } from './internal/auth/msal.js'
export type { CloudName } from './internal/clouds.js'
export {
  CLOUD_NAMES,
  isLoopbackHost,
  TOKEN_EXCHANGE_AUDIENCE,
  validateOrigin,
} from './internal/clouds.js'
/* Diagnostics */
export type { RequestMessage, ResponseMessage, ThrottleWaitMessage } from './internal/diagnostics.js'
export { CHANNELS } from './internal/diagnostics.js'
/* OData */
export { eq } from './internal/odata.js'
/* Paging */
export type { PageInfo } from './internal/paging.js'
/* Permissions */
export type { GraphOperation } from './internal/permissions.js'
export type { TokenProvider } from './internal/pipeline/authPolicy.js'
export type { SharedBudget } from './internal/pipeline/throttlePolicy.js'
export { createSharedBudget } from './internal/pipeline/throttlePolicy.js'
/* Resources: group sizes, $select lists and $batch items */
export { APPLICATION_SELECT, applicationItems } from './internal/resources/applications.js'
export { BATCH_MAX_ITEMS } from './internal/resources/batch.js'
export type { BulkResult } from './internal/resources/chunked.js'
export type {
  CredentialKind,
  CredentialRemoval,
  CredentialSelection,
  RemovedCredential,
} from './internal/resources/credentials.js'
export { RISK_DETECTION_SELECT, riskDetectionFilter } from './internal/resources/riskDetections.js'
export {
  RISKY_SERVICE_PRINCIPAL_SELECT,
  RISKY_SERVICE_PRINCIPALS_CHUNK,
} from './internal/resources/riskyServicePrincipals.js'
export { RISKY_USER_SELECT, RISKY_USERS_CHUNK } from './internal/resources/riskyUsers.js'
export {
  SERVICE_PRINCIPAL_RISK_DETECTION_SELECT,
  servicePrincipalRiskDetectionFilter,
} from './internal/resources/servicePrincipalRiskDetections.js'
export { SERVICE_PRINCIPAL_SELECT, servicePrincipalItems } from './internal/resources/servicePrincipals.js'
export { USER_SELECT, USER_VERIFY_SELECT, userItems } from './internal/resources/users.js'
/* Secrets */
export { redactText, registerSecret } from './internal/sanitizer.js'
/* Response shapes the runner keeps between runs (the evidence state) */
export type {
  Application,
  KeyCredential,
  PasswordCredential,
  RiskDetection,
  RiskyServicePrincipal,
  RiskyUser,
  ServicePrincipal,
  ServicePrincipalRiskDetection,
} from './internal/schemas.js'
export type { TransportOptions } from './internal/transport/undiciTransport.js'
