/** @tourniquet/policy: the playbook language, its pure evaluator, guardrails and policy tests. */

export type { Action } from './actions.js'
/* Language */
export { ACTION_ALIASES, ACTION_NAMES, ACTIONS, canonicalAction, DESTRUCTIVE } from './actions.js'
export type { CaseFile, CaseFileResult, CaseResult, PolicyCase } from './cases.js'
/* Policy tests */
export { caseFileSchema, caseSignals, parseCaseFile, runCase, runCaseFile } from './cases.js'
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
