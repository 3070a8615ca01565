/**
 * Which of a plan's steps may be sent now, by the approval trail (pure): a step that needs approval
 * is sent when a person approved it for this evidence, skipped when rejected, and otherwise waits
 * (its request written once, on the first run that plans it) until its timeout, then is skipped or
 * sent as the policy says. A step whose evidence changed is a new step: a new request.
 *
 * What must stay true, since anyone who may approve may also write any line into the trail:
 * - the trail's order is the order of decisions; the `at` a line declares orders nothing;
 * - a rejection outweighs every approval of the same step (a "no" recorded after a "yes" stops the
 *   step until it is sent; a "yes" cannot undo a "no": new evidence makes a new request);
 * - an approval dated in the future (beyond CLOCK_TOLERANCE_MS) approves nothing; a rejection so
 *   dated still rejects; both are named in a warning;
 * - a request times out `approvals.timeout` after it was made, whatever expiry its line claims.
 */
import { formatDuration, routeName, type Step, type StepApproval } from '@tourniquet/policy'
import { type ApprovalDecision, type ApprovalRequest, covers, deciderOf } from './records.js'

/**
 * What the gate needs of a step, whatever its subject: a user's Step, or a workload step viewed with
 * its service principal's object id as `userId` and its name as `userPrincipalName`.
 */
export interface Gated {
  userId: string
  userPrincipalName: string
  action: string
  evidenceKey: string
  evidence: readonly string[]
  rule: string
  approval?: StepApproval | undefined
}

/** How far a decision's clock may run ahead of the job's before its date is not believed. */
export const CLOCK_TOLERANCE_MS = 5 * 60_000

export interface Waiting<S extends Gated = Step> {
  step: S
  request: ApprovalRequest
  /** When the request times out: its time plus the policy's approvals.timeout. */
  until: string
  /** Requested by this run (the notification tells of new requests only). */
  fresh: boolean
}

export interface Gate<S extends Gated = Step> {
  /** Steps that may be sent: no approval needed, approved, or timed out with onTimeout: apply. */
  send: S[]
  /** Why each approved or timed-out step is sent (audit events). */
  granted: Array<{ step: S; why: string }>
  waiting: Waiting<S>[]
  skipped: Array<{ step: S; reason: string }>
  /** Decisions that were not believed, and why (audit warnings). */
  warnings: string[]
}

export interface GateContext<S extends Gated = Step> {
  runId: string
  now: Date
  /** The detection types behind each subject's evidence, for the person deciding. */
  evidenceOf: (step: S) => string[]
  /** The route the request names; a user Step's route name when not given. */
  routeOf?: (step: S) => string
}

export interface GateTrails {
  requests: readonly ApprovalRequest[]
  /** In the order they were appended. */
  decisions: readonly ApprovalDecision[]
  /** The decisions trail was larger than the read cap: a rejection may sit beyond it. */
  decisionsCapped?: boolean
}

/** The decisions that may speak: approvals dated in the future, or read from a capped trail, may not. */
function believed(trails: GateTrails, now: Date, warnings: string[]): ApprovalDecision[] {
  const latest = now.getTime() + CLOCK_TOLERANCE_MS
  const out = trails.decisions.filter((d) => {
    const future = Date.parse(d.at) > latest
    const what = `${d.decision === 'approved' ? 'an approval' : 'a rejection'} of ${d.action} for ${d.userPrincipalName} (${d.userId}) by ${deciderOf(d)} is dated ${d.at}, after this run's clock (${now.toISOString()})`
    // A "no" holds whatever its date: refusing it would let a wrong clock send a rejected step.
    if (d.decision !== 'approved') {
      if (future) warnings.push(`${what}; it still rejects`)
      return true
    }
    if (trails.decisionsCapped) return false
    if (!future) return true
    warnings.push(`${what}; it approves nothing`)
    return false
  })
  if (trails.decisionsCapped && trails.decisions.some((d) => d.decision === 'approved'))
    warnings.push(
      'the decisions trail is larger than the read cap: its approvals are not trusted (a rejection may sit past the cap) until it is compacted',
    )
  return out
}

/** What speaks for the step: its last rejection if it has one, else its last approval (trail order). */
function decisionFor(step: Gated, decisions: readonly ApprovalDecision[]): ApprovalDecision | undefined {
  let approval: ApprovalDecision | undefined
  let rejection: ApprovalDecision | undefined
  for (const d of decisions) {
    if (!covers(d, step)) continue
    if (d.decision === 'rejected') rejection = d
    else approval = d
  }
  return rejection ?? approval
}

/** The first request that speaks for the step. */
function requestFor(step: Gated, requests: readonly ApprovalRequest[]): ApprovalRequest | undefined {
  return requests.find((r) => covers(r, step))
}

function request<S extends Gated>(step: S, ctx: GateContext<S>): ApprovalRequest {
  const approval = step.approval as StepApproval
  return {
    type: 'request',
    at: ctx.now.toISOString(),
    runId: ctx.runId,
    userId: step.userId,
    userPrincipalName: step.userPrincipalName,
    action: step.action,
    evidenceKey: step.evidenceKey,
    detections: [...step.evidence],
    rule: step.rule,
    route: ctx.routeOf ? ctx.routeOf(step) : routeName((step as unknown as Step).route),
    evidence: ctx.evidenceOf(step),
    expiresAt: new Date(ctx.now.getTime() + approval.timeoutMs).toISOString(),
    onTimeout: approval.onTimeout,
  }
}

export function gate<S extends Gated = Step>(
  steps: readonly S[],
  trails: GateTrails,
  ctx: GateContext<S>,
): Gate<S> {
  const out: Gate<S> = { send: [], granted: [], waiting: [], skipped: [], warnings: [] }
  const decisions = steps.some((s) => s.approval) ? believed(trails, ctx.now, out.warnings) : []
  for (const step of steps) {
    if (!step.approval) {
      out.send.push(step)
      continue
    }
    const decision = decisionFor(step, decisions)
    const by = decision
      ? `${deciderOf(decision)} at ${decision.at}${decision.reason ? ` (${decision.reason})` : ''}`
      : ''
    if (decision?.decision === 'rejected') {
      out.skipped.push({ step, reason: `approval: rejected by ${by}` })
      continue
    }
    if (decision?.decision === 'approved') {
      out.send.push(step)
      out.granted.push({ step, why: `approved by ${by}` })
      continue
    }
    const asking = requestFor(step, trails.requests)
    if (!asking) {
      const fresh = request(step, ctx)
      out.waiting.push({ step, request: fresh, until: fresh.expiresAt, fresh: true })
      continue
    }
    // From the request's time and the policy, never the line's expiresAt: whoever can write the
    // requests trail could otherwise time a request out at once (and, with onTimeout: apply, send it).
    const expires = Date.parse(asking.at) + step.approval.timeoutMs
    if (ctx.now.getTime() <= expires) {
      out.waiting.push({ step, request: asking, until: new Date(expires).toISOString(), fresh: false })
      continue
    }
    const unanswered = `no answer within ${formatDuration(step.approval.timeoutMs)} of the request by ${asking.runId}`
    if (step.approval.onTimeout === 'apply') {
      out.send.push(step)
      out.granted.push({ step, why: `approval: ${unanswered}; sent, as approvals.onTimeout says` })
    } else out.skipped.push({ step, reason: `approval: ${unanswered}; skipped, as approvals.onTimeout says` })
  }
  return out
}
