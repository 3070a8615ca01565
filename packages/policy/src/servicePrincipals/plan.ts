import type { StepApproval } from '../plan.js'
import type { ServicePrincipalAction } from './actions.js'

/** The concrete Graph call of a service-principal step. */
export type ServicePrincipalRoute =
  | { kind: 'workloadIdentityProtection'; call: 'confirmCompromised' | 'dismiss' }
  | { kind: 'servicePrincipal'; call: 'disable' | 'enable' }
  | {
      kind: 'servicePrincipal' | 'application'
      call: 'removeCredentials'
      /** The object the credentials are removed from (service principal or application object id). */
      objectId: string
      /** What to remove, by keyId: passwords through removePassword, keys through a keyCredentials PATCH. */
      credentials: ReadonlyArray<{ kind: 'password' | 'key'; keyId: string; hint?: string | undefined }>
    }

/** `workloadIdentityProtection:confirmCompromised`, `servicePrincipal:disable`, `application:removeCredentials`. */
export function servicePrincipalRouteName(route: ServicePrincipalRoute): string {
  return `${route.kind}:${route.call}`
}

export const SERVICE_PRINCIPAL_SKIP_REASONS = [
  'excluded',
  'self',
  'managedIdentity',
  'otherTenantApp',
  'alreadyConfirmed',
  'alreadyDismissed',
  'alreadyDisabled',
  'alreadyEnabled',
  'noCredentials',
  'noApplication',
  'noDirectoryFacts',
  'duplicate',
] as const
export type ServicePrincipalSkipReason = (typeof SERVICE_PRINCIPAL_SKIP_REASONS)[number]

/**
 * One call for one service principal: the user Step's shape with the subject made explicit, so the
 * runner's ledger and executor can take both (the idempotency key is subject + id + action + route
 * + evidence, as for users).
 */
export interface ServicePrincipalStep {
  subject: 'servicePrincipal'
  servicePrincipalId: string
  appId: string | undefined
  displayName: string
  rule: string
  action: ServicePrincipalAction
  route: ServicePrincipalRoute
  evidenceKey: string
  /** Detection ids behind the step (sorted; empty when the rule matched on risk state alone). */
  evidence: readonly string[]
  /** false for removeCredentials: nothing brings a removed credential back. */
  undoable: boolean
  approval?: StepApproval | undefined
}

export interface ServicePrincipalSkip {
  subject: 'servicePrincipal'
  servicePrincipalId: string
  appId: string | undefined
  displayName: string
  rule: string | undefined
  action: ServicePrincipalAction | undefined
  reason: ServicePrincipalSkipReason
  detail: string
}

export interface ServicePrincipalSubjectPlan {
  subject: 'servicePrincipal'
  servicePrincipalId: string
  appId: string | undefined
  displayName: string
  rules: string[]
  justification: {
    riskLevel: string
    riskState: string
    servicePrincipalType: string | undefined
    appOwner: 'thisTenant' | 'otherTenant' | 'none' | undefined
    detections: Array<{ id: string; riskEventType: string; detectedDateTime: string }>
  }
  evidenceKey: string
  steps: ServicePrincipalStep[]
  skips: ServicePrincipalSkip[]
}

export interface ServicePrincipalPlan {
  evaluatedAt: string
  lookbackStart: string
  principals: ServicePrincipalSubjectPlan[]
  /** Every step in execution order (principals by id, steps in rule order). Empty when refused. */
  steps: ServicePrincipalStep[]
  skips: ServicePrincipalSkip[]
  wanted: Partial<Record<ServicePrincipalAction, number>>
  refused: { limit: string; reason: string } | undefined
  unmatched: number
}
