/**
 * The audit trail: one JSON object per line on stdout (Container Apps ships stdout to Log Analytics),
 * a last `summary` line, and a human table on stderr. Every line passes the sanitizer once more, so a
 * secret can never reach the trail even if a message carried one.
 */
import type { Writable } from 'node:stream'
import { redactText } from '@tourniquet/core'
import { type Plan, routeName, type Step } from '@tourniquet/policy'
import { type StepStatus, zeroCounts } from '../engine/status.js'
import type { LedgerHeadroom } from '../ledger/ledger.js'
import { escapeField } from './escape.js'

export type { StepStatus } from '../engine/status.js'

export interface StepRecord {
  event: 'step'
  runId: string
  userId: string
  userPrincipalName: string
  rule: string | null
  action: string | null
  route: string | null
  status: StepStatus
  reason: string | null
  graphRequestId: string | null
  correlationId: string | null
  evidenceKey: string | null
  durationMs: number
  /** A failed step's stable error code (core's or the runner's), for what follows from it without parsing text. */
  errorCode?: string
  /** Set for a workload identity: `userId` is then the service principal's object id, `userPrincipalName` its name. */
  subject?: 'servicePrincipal'
}

export function stepRecord(
  runId: string,
  step: Step,
  status: StepStatus,
  extra: Partial<StepRecord> = {},
): StepRecord {
  return {
    event: 'step',
    runId,
    userId: step.userId,
    userPrincipalName: step.userPrincipalName,
    rule: step.rule,
    action: step.action,
    route: routeName(step.route),
    status,
    reason: null,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: step.evidenceKey,
    durationMs: 0,
    ...extra,
  }
}

/** A step the plan skipped (no route, excluded, ...): it has no route, so it names none. */
export function skipRecord(runId: string, skip: Plan['skips'][number], reason: string): StepRecord {
  return {
    event: 'step',
    runId,
    userId: skip.userId,
    userPrincipalName: skip.userPrincipalName,
    rule: skip.rule ?? null,
    action: skip.action ?? null,
    route: null,
    status: 'skipped',
    reason,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: null,
    durationMs: 0,
  }
}

export type Summary = Record<StepStatus, number> & {
  event: 'summary'
  runId: string
  mode: 'plan' | 'apply'
  outcome: string
  riskyUsers: number
  unmatched: number
  exitCode: number
  durationMs: number
  /** How Identity Protection was read (decision 015), and why a full collection ran. */
  collection?: 'full' | 'incremental'
  collectionReason?: string
  /** Every Graph request attempt of the run, retries included, and how many were answered 429. */
  graphRequests?: number
  /** Of those, the ones to Identity Protection (1 request/s per tenant for every app together). */
  identityProtectionRequests?: number
  throttled429?: number
  peakRssMb?: number
  /** The blob ledger's room left in its current segment (decision 010); absent for a file ledger. */
  ledgerHeadroom?: LedgerHeadroom
  /** What the evidence state cost the run: bytes read and written, and ms reading, checking and writing it. */
  evidenceState?: { bytesRead: number; bytesWritten: number; ms: number }
}

/** How many records of each status: the summary's counts and the exit code come from the records a run returns. */
export function countsOf(records: readonly StepRecord[]): Record<StepStatus, number> {
  const c = zeroCounts()
  for (const r of records) c[r.status]++
  return c
}

/**
 * The run's output sink. It writes; it is never read back: what happened is the records the stages
 * return, and the caller passes them in where a line needs them (the summary's counts, the table).
 */
export class Audit {
  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
    readonly runId: string,
  ) {}

  private line(value: unknown): void {
    this.out.write(`${redactText(JSON.stringify(value))}\n`)
  }

  /** Writes a step's line and hands the record back to the stage that returns it. */
  step(record: StepRecord): StepRecord {
    this.line(record)
    return record
  }

  event(name: string, fields: Record<string, unknown>): void {
    this.line({ event: name, runId: this.runId, ...fields })
  }

  /** Human-readable notes go to stderr, never into the JSON trail. */
  note(text: string): void {
    this.err.write(`${redactText(text)}\n`)
  }

  summary(records: readonly StepRecord[], fields: Omit<Summary, 'event' | 'runId' | StepStatus>): Summary {
    const summary: Summary = { event: 'summary', runId: this.runId, ...countsOf(records), ...fields }
    this.line(summary)
    return summary
  }

  /**
   * The human summary table (stderr). A large run shows only the rows that need a look (failed,
   * unverified) and counts the rest: 20,000 rows help no one, and every step is on stdout anyway.
   */
  table(title: string, records: readonly StepRecord[]): void {
    const attention = records.length > TABLE_ROWS
    const shown = attention
      ? records.filter((r) => r.status === 'failed' || r.status === 'unverified').slice(0, TABLE_ROWS)
      : records
    // Escaped: a UPN or Graph's reason text could carry a terminal escape sequence or a newline.
    const rows = shown.map((r) =>
      [r.userPrincipalName, r.action ?? '-', r.route ?? '-', r.status, r.reason ?? ''].map((c) =>
        escapeField(c, 'terminal'),
      ),
    )
    const head = ['user', 'action', 'route', 'status', 'reason']
    const widths = head.map((h, i) =>
      Math.min(48, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
    )
    const fmt = (cells: string[]): string =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i] ?? 0)))
        .join('  ')
    this.note(`\n${title}`)
    if (records.length === 0) {
      this.note('  (nothing to do)')
      return
    }
    if (rows.length > 0) this.note(`  ${fmt(head)}`)
    for (const r of rows) this.note(`  ${fmt(r)}`)
    if (attention) {
      const counts = Object.entries(countsOf(records))
        .filter(([, n]) => n > 0)
        .map(([status, n]) => `${n} ${status}`)
        .join(', ')
      this.note(
        `  ${records.length - rows.length} of ${records.length} rows not shown (${counts}); ` +
          'only failed and unverified steps are listed, every step is a JSON line on stdout',
      )
    }
  }
}

/** Rows the table lists in full; above this only the steps that need a look. */
const TABLE_ROWS = 200
