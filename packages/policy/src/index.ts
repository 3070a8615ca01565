/** @tourniquet/policy: the playbook language, its pure evaluator, guardrails and policy tests. */

export type { Action } from './actions.js'
/* Language */
export { ACTION_ALIASES, ACTION_NAMES, ACTIONS, canonicalAction, DESTRUCTIVE } from './actions.js'
export type { CaseFile, CaseFileResult, CaseResult, PolicyCase } from './cases.js'
/* Policy tests */
export {
  CASE_TENANT_ID,
  caseFileSchema,
  caseSignals,
  caseWorkloadSignals,
  parseCaseFile,
  runCase,
  runCaseFile,
} from './cases.js'
export type { CloudGap, CloudName } from './clouds.js'
/* National clouds */
export { API_AVAILABILITY, API_NAMES, apiAvailable, CLOUD_NAMES, cloudGaps, permissionsIn } from './clouds.js'
export { formatDuration, parseDuration } from './duration.js'
export type { PolicyIssue } from './errors.js'
/* Errors */
export { formatIssue, isPolicyError, PolicyError } from './errors.js'
/* Evaluation */
export { ADMIN_EVENT_TYPES, evaluate, resolveRoute } from './evaluate.js'
export { MAX_POLICY_BYTES, parsePolicy } from './load.js'
export type { ApiNeed, PermissionReport, PolicyApi } from './permissions.js'
/* Permissions */
export { apiNeeds, permissionReport, requiredPermissions } from './permissions.js'
export type {
  DefenderAction,
  EntraCall,
  IdentityProtectionCall,
  Justification,
  Plan,
  Refusal,
  Route,
  RouteKind,
  RouteOf,
  Skip,
  SkipReason,
  Step,
  StepApproval,
  UserPlan,
} from './plan.js'
export {
  DEFENDER_ACTIONS,
  ENTRA_CALLS,
  IDENTITY_PROTECTION_CALLS,
  ROUTE_KINDS,
  routeName,
  SKIP_REASONS,
} from './plan.js'
export type { Condition, Policy, PolicyInput, RiskState, Rule } from './schema.js'
export { conditionSchema, DEFAULT_RISK_STATES, policyJsonSchema, policySchema, ruleSchema } from './schema.js'
/* Workload identities (the servicePrincipals section) */
export type { ServicePrincipalAction } from './servicePrincipals/actions.js'
export {
  APPROVAL_BY_DEFAULT as SERVICE_PRINCIPAL_APPROVAL_BY_DEFAULT,
  NOT_UNDOABLE as SERVICE_PRINCIPAL_NOT_UNDOABLE,
  SERVICE_PRINCIPAL_ACTIONS,
} from './servicePrincipals/actions.js'
export type { WorkloadCollection } from './servicePrincipals/collect.js'
export { workloadSignals } from './servicePrincipals/collect.js'
export {
  ADMIN_SERVICE_PRINCIPAL_EVENT_TYPES,
  appOwnerOf,
  evaluateServicePrincipals,
  selectCredentials,
} from './servicePrincipals/evaluate.js'
export type { WorkloadPermission } from './servicePrincipals/permissions.js'
export {
  BLAST_RADIUS,
  SERVICE_PRINCIPAL_ACTION_PERMISSIONS,
  workloadPermissions,
} from './servicePrincipals/permissions.js'
export type {
  ServicePrincipalPlan,
  ServicePrincipalRoute,
  ServicePrincipalSkip,
  ServicePrincipalSkipReason,
  ServicePrincipalStep,
  ServicePrincipalSubjectPlan,
} from './servicePrincipals/plan.js'
export { SERVICE_PRINCIPAL_SKIP_REASONS, servicePrincipalRouteName } from './servicePrincipals/plan.js'
export type {
  AppOwner,
  RemoveCredentialsSettings,
  ServicePrincipalCondition,
  ServicePrincipalRule,
  ServicePrincipalSection,
} from './servicePrincipals/schema.js'
export { APP_OWNERS, servicePrincipalSectionSchema } from './servicePrincipals/schema.js'
export type {
  ApplicationFacts,
  CredentialFact,
  ServicePrincipalDetectionSignal,
  ServicePrincipalFacts,
  ServicePrincipalSignals,
  WorkloadSignals,
} from './servicePrincipals/signals.js'
export type {
  DefenderAccount,
  DefenderIdentitySignal,
  DetectionSignal,
  DirectoryFacts,
  Signals,
  UserSignals,
} from './signals.js'
export type { PolicyTestReport } from './testRunner.js'
export { formatPolicyTestReport, loadPolicyFile, runPolicyTests } from './testRunner.js'
