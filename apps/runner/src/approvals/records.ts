/**
 * The approval trail: JSON lines of two kinds. A run writes a `request` when a step that needs a
 * person's yes is first planned (to `<ledger>.approvals.jsonl`); approvers write `decision`s (to
 * TOURNIQUET_DECISIONS; in Azure a container only the approvers' group may write). A step is named
 * by user, action and evidence key, as in the ledger: a decision holds for that evidence only.
 *
 * Both trails are input that other people write (every approver can append anything to the
 * decisions), so a line that is not a record is skipped with a warning and counts for nothing: it
 * can neither approve a step nor stop a run (decision 013).
 */
import { z } from 'zod'

// Bounds, so one forged line cannot make every later run carry megabytes per step.
const id = z.string().min(1).max(512)
const text = z.string().max(1024)

const stepKey = {
  runId: id,
  userId: id,
  userPrincipalName: text,
  action: id,
  evidenceKey: id,
  /** The detection ids behind the step: a decision covers a later plan of the step while no new one appears. */
  detections: z.array(id).max(10_000).default([]),
}

export const requestSchema = z.object({
  type: z.literal('request'),
  /** When the request was made: its timeout runs from here (the policy's approvals.timeout). */
  at: z.iso.datetime({ offset: true }),
  ...stepKey,
  rule: text,
  route: text,
  /** The detections (types) behind the step, for the person deciding. */
  evidence: z.array(text).max(1_000),
  /** What the requesting run computed, for people reading the trail; the gate never trusts it. */
  expiresAt: z.iso.datetime({ offset: true }),
  onTimeout: z.enum(['skip', 'apply']),
})

export const decisionSchema = z.object({
  type: z.literal('decision'),
  /** Written by the deciding CLI; order comes from the line's place in the trail, never from this. */
  at: z.iso.datetime({ offset: true }),
  ...stepKey,
  decision: z.enum(['approved', 'rejected']),
  /** The identity that wrote the decision: the signed-in account (blob trail) or the local user. */
  by: text.min(1),
  /** What the approver typed with `--by`: a note beside `by`, never in place of it. */
  declaredBy: text.optional(),
  reason: text.optional(),
})

export type ApprovalRequest = z.output<typeof requestSchema>
export type ApprovalDecision = z.output<typeof decisionSchema>

export const approvalKey = (s: { userId: string; action: string; evidenceKey: string }): string =>
  `${s.userId}|${s.action}|${s.evidenceKey}`

/**
 * Whether a request or decision speaks for a step: the same user and action, and every detection
 * behind the step was already behind it. A detection leaving the lookback window changes nothing;
 * a new detection is new evidence, and needs a new yes (decision 010's rule for the ledger). A step
 * with no detections (a rule on the risk level alone) has nothing to compare, so only the same
 * evidence key speaks for it: otherwise any old record of the user and action would.
 */
export function covers(
  record: { userId: string; action: string; evidenceKey: string; detections: readonly string[] },
  step: { userId: string; action: string; evidenceKey: string; evidence: readonly string[] },
): boolean {
  if (record.userId !== step.userId || record.action !== step.action) return false
  if (step.evidence.length === 0) return record.evidenceKey === step.evidenceKey
  return step.evidence.every((d) => record.detections.includes(d))
}

/** Who decided, as the audit and the CLI show it: the identity, and what was declared beside it. */
export const deciderOf = (d: Pick<ApprovalDecision, 'by' | 'declaredBy'>): string =>
  d.declaredBy === undefined ? d.by : `${d.by} (declared ${d.declaredBy})`

/** A trail as read: its records in the order they were appended, and what was skipped. */
export interface TrailRead<T> {
  records: T[]
  warnings: string[]
  /** The read stopped at the size cap: records after it were never seen. */
  capped: boolean
}

/** How much of a trail was read, when a cap stopped the read before its end. */
export interface Cut {
  readBytes: number
  totalBytes: number | undefined
}

/**
 * Parses a trail. A line that is not a valid record is skipped with a warning naming the trail, the
 * line and what was wrong. A torn last line (a writer that stopped mid-append) is expected and
 * skipped quietly, as the ledger does; so is the line a size cap cut.
 */
export function parseTrail<T>(text: string, schema: z.ZodType<T>, location: string, cut?: Cut): TrailRead<T> {
  const records: T[] = []
  const warnings: string[] = []
  const lines = text.split('\n')
  // Without a final newline the last line was never finished (or the cap cut it).
  const unfinished = lines.length - 1
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      if (i === unfinished) return
      warnings.push(`${location}: line ${i + 1} skipped: it is not JSON; it counts for nothing`)
      return
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      if (i === unfinished && cut !== undefined) return
      const issue = parsed.error.issues[0]
      warnings.push(
        `${location}: line ${i + 1} skipped: not a valid record (${issue?.path.join('.') || 'the line'}: ${issue?.message ?? 'invalid'}); it counts for nothing`,
      )
      return
    }
    records.push(parsed.data)
  })
  if (cut !== undefined)
    warnings.push(
      `${location}: read only the first ${cut.readBytes} bytes${cut.totalBytes === undefined ? '' : ` of ${cut.totalBytes}`} (the size cap); later lines were not read`,
    )
  return { records, warnings, capped: cut !== undefined }
}
