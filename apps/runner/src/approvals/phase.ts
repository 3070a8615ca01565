/**
 * The run's approval phase, between the ledger and the actions: only when a planned step needs
 * approval are the trails read at all. Apply mode writes the new requests and records waiting steps
 * as `pendingApproval`; plan mode writes nothing and shows what would wait.
 */
import type { Credential } from '@tourniquet/core'
import type { Plan, Step } from '@tourniquet/policy'
import { type Audit, stepRecord } from '../audit.js'
import type { RunnerConfig } from '../env.js'
import { gate } from './gate.js'
import { decisionSchema, requestSchema } from './records.js'
import { openTrails } from './store.js'

export interface ApprovalPhase {
  /** The steps to go on with (to send, or in plan mode to show as planned). */
  todo: Step[]
  /** Requests this run made: a notification tells of them. */
  newRequests: number
}

export async function gateApprovals(
  todo: Step[],
  ctx: { config: RunnerConfig; audit: Audit; plan: Plan; now: Date; credential: () => Promise<Credential> },
): Promise<ApprovalPhase> {
  if (!todo.some((s) => s.approval)) return { todo, newRequests: 0 }
  const { config, audit } = ctx
  const trails = await openTrails(config, ctx.credential, {
    request: requestSchema,
    decision: decisionSchema,
  })
  const [requests, decisions] = await Promise.all([trails.requests.load(), trails.decisions.load()])
  const evidence = new Map(
    ctx.plan.users.map((u) => [
      u.userId,
      [...new Set(u.justification.detections.map((d) => d.riskEventType))],
    ]),
  )
  const g = gate(
    todo,
    { requests, decisions },
    { runId: audit.runId, now: ctx.now, evidenceOf: (s) => evidence.get(s.userId) ?? [] },
  )
  const apply = config.mode === 'apply'
  for (const { step, reason } of g.skipped) audit.step(stepRecord(audit.runId, step, 'skipped', { reason }))
  for (const w of g.waiting) {
    const reason = !apply
      ? "needs a person's approval: apply records the request and sends nothing until then"
      : w.fresh
        ? `waits for a person's approval (requested now, until ${w.request.expiresAt})`
        : `waits for a person's approval (requested by ${w.request.runId} at ${w.request.at}, until ${w.request.expiresAt})`
    audit.step(stepRecord(audit.runId, w.step, apply ? 'pendingApproval' : 'planned', { reason }))
  }
  for (const { step, why } of g.granted)
    audit.event('approval', {
      userId: step.userId,
      userPrincipalName: step.userPrincipalName,
      action: step.action,
      evidenceKey: step.evidenceKey,
      decision: why,
    })
  const fresh = g.waiting.filter((w) => w.fresh).map((w) => w.request)
  if (apply) await trails.requests.append(fresh)
  return { todo: g.send, newRequests: apply ? fresh.length : 0 }
}
