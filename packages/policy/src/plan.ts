import type { Action } from './actions.js'

/** The systems a step can act through, chosen by the user's source of authority. */
export const ROUTE_KINDS = ['identityProtection', 'entra', 'defenderForIdentity'] as const
export type RouteKind = (typeof ROUTE_KINDS)[number]

export const IDENTITY_PROTECTION_CALLS = ['confirmCompromised', 'dismiss', 'confirmSafe'] as const
export type IdentityProtectionCall = (typeof IDENTITY_PROTECTION_CALLS)[number]

export const ENTRA_CALLS = ['revokeSignInSessions', 'disable', 'enable', 'resetPassword'] as const
export type EntraCall = (typeof ENTRA_CALLS)[number]

export const DEFENDER_ACTIONS = ['disable', 'enable', 'forcePasswordReset'] as const
export type DefenderAction = (typeof DEFENDER_ACTIONS)[number]

/** The concrete Graph call a step makes. */
export type Route =
  | { kind: 'identityProtection'; call: IdentityProtectionCall }
  | { kind: 'entra'; call: EntraCall }
  | {
      kind: 'defenderForIdentity'
      action: DefenderAction
      identityAccountId: string
      accountId: string
      identityProvider: 'activeDirectory'
    }

/** A route of one kind. */
export type RouteOf<K extends RouteKind> = Extract<Route, { kind: K }>

/**
 * A route's name, e.g. `entra:disable` or `defenderForIdentity:disable(activeDirectory)`: what the
 * audit and the ledger show, and what makes two steps of a plan the same call.
 */
export function routeName(route: Route): string {
  return route.kind === 'defenderForIdentity'
    ? `defenderForIdentity:${route.action}(${route.identityProvider})`
    : `${route.kind}:${route.call}`
}

export const SKIP_REASONS = [
  'excluded',
  'guest',
  'alreadyDisabled',
  'alreadyEnabled',
  'alreadyConfirmed',
  'alreadyDismissed',
  'alreadySafe',
  'noRoute',
  'noDefenderAccount',
  'noDirectoryFacts',
  'duplicate',
] as const
export type SkipReason = (typeof SKIP_REASONS)[number]

export interface Step {
  userId: string
  userPrincipalName: string
  rule: string
  action: Action
  route: Route
  /** Identifies the evidence (the detections) behind the step: the ledger's idempotency key part. */
  evidenceKey: string
  /**
   * The ids of the detections behind the step (sorted; empty when the rule matched on risk state
   * alone). The step is new only while one of them has not been acted on (decision 010).
   */
  evidence: readonly string[]
  /** Set when the step waits for a person's approval (approvals.require or the rule's requireApproval). */
  approval?: StepApproval | undefined
}

export interface StepApproval {
  /** How long a request may wait for an answer, ms. */
  timeoutMs: number
  /** What an unanswered request becomes once the timeout has passed. */
  onTimeout: 'skip' | 'apply'
}

export interface Skip {
  userId: string
  userPrincipalName: string
  rule: string | undefined
  action: Action | undefined
  reason: SkipReason
  detail: string
}

export interface Justification {
  riskLevel: string
  riskState: string
  detections: Array<{
    id: string
    riskEventType: string
    source: string | undefined
    detectedDateTime: string
  }>
  distinctSignals: number
  distinctSources: number
}

export interface UserPlan {
  userId: string
  userPrincipalName: string
  rules: string[]
  justification: Justification
  evidenceKey: string
  steps: Step[]
  skips: Skip[]
}

export interface Refusal {
  limit: string
  reason: string
}

export interface Plan {
  evaluatedAt: string
  lookbackStart: string
  users: UserPlan[]
  /** Every step in execution order (users by id, steps in rule order). Empty when refused. */
  steps: Step[]
  skips: Skip[]
  /** Steps the policy wanted, per action, before any refusal. */
  wanted: Partial<Record<Action, number>>
  /** Set when a guardrail refused the run: nothing is to be done. */
  refused: Refusal | undefined
  /** Risky users that matched no rule. */
  unmatched: number
}
