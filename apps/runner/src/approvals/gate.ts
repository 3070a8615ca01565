/**
 * Which of a plan's steps may be sent now, by the approval trail (pure): a step that needs approval
 * is sent when a person approved it for this evidence, skipped when rejected, and otherwise waits
 * (its request written once, on the first run that plans it) until its timeout, then is skipped or
 * sent as the policy says. A step whose evidence changed is a new step: a new request.
 */
import { formatDuration, routeName, type Step } from '@tourniquet/policy'
import { type ApprovalDecision, type ApprovalRequest, covers } from './records.js'

export interface Waiting {
  step: Step
  request: ApprovalRequest
  /** Requested by this run (the notification tells of new requests only). */
  fresh: boolean
}

export interface Gate {
  /** Steps that may be sent: no approval needed, approved, or timed out with onTimeout: apply. */
  send: Step[]
  /** Why each approved or timed-out step is sent (audit events). */
  granted: Array<{ step: Step; why: string }>
  waiting: Waiting[]
  skipped: Array<{ step: Step; reason: string }>
}

export interface GateContext {
  runId: string
  now: Date
  /** The detection types behind each user's evidence, for the person deciding. */
  evidenceOf: (step: Step) => string[]
}

/** The latest decision that speaks for the step. */
function decisionFor(step: Step, decisions: readonly ApprovalDecision[]): ApprovalDecision | undefined {
  let latest: ApprovalDecision | undefined
  for (const d of decisions) if (covers(d, step) && (!latest || d.at > latest.at)) latest = d
  return latest
}

/** The first request that speaks for the step. */
function requestFor(step: Step, requests: readonly ApprovalRequest[]): ApprovalRequest | undefined {
  return requests.find((r) => covers(r, step))
}

function request(step: Step, ctx: GateContext): ApprovalRequest {
  const approval = step.approval as NonNullable<Step['approval']>
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
    route: routeName(step.route),
    evidence: ctx.evidenceOf(step),
    expiresAt: new Date(ctx.now.getTime() + approval.timeoutMs).toISOString(),
    onTimeout: approval.onTimeout,
  }
}

export function gate(
  steps: readonly Step[],
  trail: { requests: readonly ApprovalRequest[]; decisions: readonly ApprovalDecision[] },
  ctx: GateContext,
): Gate {
  const out: Gate = { send: [], granted: [], waiting: [], skipped: [] }
  for (const step of steps) {
    if (!step.approval) {
      out.send.push(step)
      continue
    }
    const decision = decisionFor(step, trail.decisions)
    const by = decision
      ? `${decision.by} at ${decision.at}${decision.reason ? ` (${decision.reason})` : ''}`
      : ''
    if (decision?.decision === 'approved') {
      out.send.push(step)
      out.granted.push({ step, why: `approved by ${by}` })
      continue
    }
    if (decision?.decision === 'rejected') {
      out.skipped.push({ step, reason: `approval: rejected by ${by}` })
      continue
    }
    const asking = requestFor(step, trail.requests)
    if (!asking) {
      out.waiting.push({ step, request: request(step, ctx), fresh: true })
      continue
    }
    if (ctx.now.getTime() <= Date.parse(asking.expiresAt)) {
      out.waiting.push({ step, request: asking, fresh: false })
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
