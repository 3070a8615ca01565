/**
 * The approval trail: JSON lines of two kinds. A run writes a `request` when a step that needs a
 * person's yes is first planned (to `<ledger>.approvals.jsonl`); approvers write `decision`s (to
 * TOURNIQUET_DECISIONS, by default `<ledger>.decisions.jsonl`; in Azure a container only the
 * approvers' group may write). A step is named by user, action and evidence key, as in the ledger:
 * a decision holds for that evidence only.
 */
import { z } from 'zod'
import { ApprovalTrailCorruptError } from '../errors.js'

const stepKey = {
  runId: z.string().min(1),
  userId: z.string().min(1),
  userPrincipalName: z.string(),
  action: z.string().min(1),
  evidenceKey: z.string().min(1),
  /** The detection ids behind the step: a decision covers a later plan of the step while no new one appears. */
  detections: z.array(z.string()).default([]),
}

export const requestSchema = z.object({
  type: z.literal('request'),
  at: z.iso.datetime({ offset: true }),
  ...stepKey,
  rule: z.string(),
  route: z.string(),
  /** The detections (types) behind the step, for the person deciding. */
  evidence: z.array(z.string()),
  expiresAt: z.iso.datetime({ offset: true }),
  onTimeout: z.enum(['skip', 'apply']),
})

export const decisionSchema = z.object({
  type: z.literal('decision'),
  at: z.iso.datetime({ offset: true }),
  ...stepKey,
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  reason: z.string().optional(),
})

export type ApprovalRequest = z.output<typeof requestSchema>
export type ApprovalDecision = z.output<typeof decisionSchema>

export const approvalKey = (s: { userId: string; action: string; evidenceKey: string }): string =>
  `${s.userId}|${s.action}|${s.evidenceKey}`

/**
 * Whether a request or decision speaks for a step: the same user and action, and every detection
 * behind the step was already behind it. A detection leaving the lookback window changes nothing;
 * a new detection is new evidence, and needs a new yes (decision 010's rule for the ledger).
 */
export function covers(
  record: { userId: string; action: string; detections: readonly string[] },
  step: { userId: string; action: string; evidence: readonly string[] },
): boolean {
  return (
    record.userId === step.userId &&
    record.action === step.action &&
    step.evidence.every((d) => record.detections.includes(d))
  )
}

/** Parses a trail; a line that is not a valid record is an error naming the file and the line. */
export function parseTrail<T>(text: string, schema: z.ZodType<T>, location: string): T[] {
  const out: T[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new ApprovalTrailCorruptError(location, i + 1, 'is not JSON')
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new ApprovalTrailCorruptError(
        location,
        i + 1,
        `is not a valid record (${issue?.path.join('.') || 'the line'}: ${issue?.message ?? 'invalid'})`,
      )
    }
    out.push(parsed.data)
  })
  return out
}
