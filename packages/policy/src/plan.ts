import type { Action } from './actions.js'

/** The concrete Graph call a step makes, chosen by the user's source of authority. */
export type Route =
  | { kind: 'identityProtection'; call: 'confirmCompromised' | 'dismiss' | 'confirmSafe' }
  | { kind: 'entra'; call: 'revokeSignInSessions' | 'disable' | 'enable' | 'resetPassword' }
  | {
      kind: 'defenderForIdentity'
      action: 'disable' | 'enable' | 'forcePasswordReset'
      identityAccountId: string
      accountId: string
      identityProvider: 'activeDirectory'
    }

export type SkipReason =
  | 'excluded'
  | 'guest'
  | 'alreadyDisabled'
  | 'alreadyEnabled'
  | 'alreadyConfirmed'
  | 'alreadyDismissed'
  | 'alreadySafe'
  | 'noRoute'
  | 'noDefenderAccount'
  | 'noDirectoryFacts'
  | 'duplicate'

export interface Step {
  userId: string
  userPrincipalName: string
  rule: string
  action: Action
  route: Route
  /** Identifies the evidence (the detections) behind the step: the ledger's idempotency key part. */
  evidenceKey: string
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
