/**
 * The run's step vocabulary, each list written once with its type derived from it. A call reports
 * a `CallOutcome`; read-back turns it into a `SettledStatus`; the audit adds `planned` and `skipped`;
 * the ledger keeps settled statuses plus `unknown` (a crash left the outcome unreadable). The
 * `satisfies` clauses keep the subsets subsets: no string bridges one list to another.
 */

/** Every status a step record on the audit trail can have, in the summary's field order. */
export const STEP_STATUSES = [
  'planned',
  'succeeded',
  'failed',
  'skipped',
  'unverified',
  'pendingApproval',
] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

/** A step's final word once read back: `succeeded` only when its effect was seen. */
export const SETTLED_STATUSES = ['succeeded', 'failed', 'unverified'] as const satisfies readonly StepStatus[]
export type SettledStatus = (typeof SETTLED_STATUSES)[number]

/** What the ledger's `done` entries say. */
export const LEDGER_OUTCOMES = [...SETTLED_STATUSES, 'unknown'] as const
export type LedgerOutcome = (typeof LEDGER_OUTCOMES)[number]

/** What a Graph call told us; `unknown` when the service may or may not have applied it. */
export const CALL_OUTCOMES = ['succeeded', 'failed', 'unknown'] as const satisfies readonly LedgerOutcome[]
export type CallOutcome = (typeof CALL_OUTCOMES)[number]

export const LEDGER_PHASES = ['intent', 'done'] as const
export type LedgerPhase = (typeof LEDGER_PHASES)[number]

/** A zero for each step status, in the summary's field order. */
export const zeroCounts = (): Record<StepStatus, number> =>
  Object.fromEntries(STEP_STATUSES.map((s) => [s, 0])) as Record<StepStatus, number>
