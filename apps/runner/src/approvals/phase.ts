/**
 * The run's approval phase, between the ledger and the actions: only when a planned step needs
 * approval are the trails read at all. Apply mode writes the new requests and records waiting steps
 * as `pendingApproval`; plan mode writes nothing and shows what would wait. Steps a crash
 * interrupted pass the same gate before they are sent again (`admit`): a rejection recorded since
 * must stop them too.
 *
 * The phase can only hold steps back: a trail it cannot read, or a line in it that is not a record,
 * costs the steps that need approval (they wait) and never a step that needs none.
 */
import { type Plan, routeName, type Step } from '@tourniquet/policy'
import type { RunnerConfig } from '../env.js'
import { isSettingsError } from '../errors.js'
import { type Audit, type StepRecord, type StepStatus, stepRecord } from '../outputs/audit.js'
import type { BlobClients } from '../stores/blobClients.js'
import { type Gate, type Gated, type GateTrails, gate } from './gate.js'
import { type ApprovalDecision, type ApprovalRequest, decisionSchema, requestSchema } from './records.js'
import { openTrails, type Trail } from './store.js'

export interface ApprovalPhase<S extends Gated = Step> {
  /** The steps to go on with (to send, or in plan mode to show as planned). */
  todo: S[]
  /** Requests this run made: a notification tells of them. */
  newRequests: number
  /** What was written to the audit for the steps held back (waiting, rejected, timed out). */
  records: StepRecord[]
  /** Of the steps a crash interrupted and that are to be sent again, those the trail still lets go. */
  admit(resumed: S[]): Promise<Pass<S>>
}

/** One pass of the gate: the steps it lets go, and the records of those it held back. */
export interface Pass<S extends Gated = Step> {
  send: S[]
  records: StepRecord[]
}

/** How the phase names a kind of step: its evidence, its route, its audit record. */
export interface Subjects<S extends Gated> {
  evidenceOf: (step: S) => string[]
  routeOf: (step: S) => string
  record: (runId: string, step: S, status: StepStatus, extra: Partial<StepRecord>) => StepRecord
}

/** Users' steps, named from their plan. */
export function userSubjects(plan: Plan): Subjects<Step> {
  return { evidenceOf: evidenceOf(plan), routeOf: (s) => routeName(s.route), record: stepRecord }
}

interface PhaseContext<S extends Gated> {
  config: RunnerConfig
  audit: Audit
  subjects: Subjects<S>
  now: Date
  /** The session's Storage clients, asked for only when a trail is a blob. */
  blobs: () => Promise<BlobClients>
}

interface Read {
  trails: GateTrails
  requests: Trail<ApprovalRequest>
}

/** Reads both trails; what cannot be read is a warning, and then nothing in it approves anything. */
async function readTrails<S extends Gated>(ctx: PhaseContext<S>): Promise<Read | { unreadable: string }> {
  let opened: { requests: Trail<ApprovalRequest>; decisions: Trail<ApprovalDecision> }
  try {
    opened = await openTrails(ctx.config, ctx.blobs, {
      request: requestSchema,
      decision: decisionSchema,
    })
    const [requests, decisions] = await Promise.all([opened.requests.load(), opened.decisions.load()])
    for (const message of [...requests.warnings, ...decisions.warnings])
      ctx.audit.event('warning', { message })
    return {
      trails: { requests: requests.records, decisions: decisions.records, decisionsCapped: decisions.capped },
      requests: opened.requests,
    }
  } catch (e) {
    // A setting that cannot work (a blob ledger without TOURNIQUET_DECISIONS) stops the run (exit 2).
    if (isSettingsError(e)) throw e
    const message = `the approval trails cannot be read (${(e as Error).message}); no step that needs approval is sent or requested this run`
    ctx.audit.event('warning', { message })
    return { unreadable: message }
  }
}

export async function gateApprovals<S extends Gated = Step>(
  todo: S[],
  ctx: PhaseContext<S>,
): Promise<ApprovalPhase<S>> {
  let read: Read | { unreadable: string } | undefined
  const readOnce = async () => {
    read ??= await readTrails(ctx)
    return read
  }
  const pass = async (steps: S[], resumed: boolean): Promise<Pass<S> & { newRequests: number }> => {
    if (!steps.some((s) => s.approval)) return { send: steps, newRequests: 0, records: [] }
    const r = await readOnce()
    if ('unreadable' in r) {
      const records = steps
        .filter((s) => s.approval)
        .map((step) =>
          ctx.audit.step(
            ctx.subjects.record(ctx.audit.runId, step, 'skipped', {
              reason: 'approval: the trails cannot be read',
            }),
          ),
        )
      return { send: steps.filter((s) => !s.approval), newRequests: 0, records }
    }
    const g = gate(steps, r.trails, {
      runId: ctx.audit.runId,
      now: ctx.now,
      evidenceOf: ctx.subjects.evidenceOf,
      routeOf: ctx.subjects.routeOf,
    })
    return { send: g.send, ...(await record(g, r, ctx, resumed)) }
  }
  const first = await pass(todo, false)
  return {
    todo: first.send,
    newRequests: first.newRequests,
    records: first.records,
    admit: async (resumed) => {
      const { send, records } = await pass(resumed, true)
      return { send, records }
    },
  }
}

function evidenceOf(plan: Plan): (s: Step) => string[] {
  const evidence = new Map(
    plan.users.map((u) => [u.userId, [...new Set(u.justification.detections.map((d) => d.riskEventType))]]),
  )
  return (s) => evidence.get(s.userId) ?? []
}

/** Audits the gate's verdicts and, in apply mode, appends the new requests; returns how many, and the records. */
async function record<S extends Gated>(
  g: Gate<S>,
  r: Read,
  ctx: PhaseContext<S>,
  resumed: boolean,
): Promise<{ newRequests: number; records: StepRecord[] }> {
  const { audit } = ctx
  const apply = ctx.config.mode === 'apply'
  const again = resumed ? ' (interrupted earlier; not sent again)' : ''
  for (const message of g.warnings) audit.event('warning', { message })
  const records = g.skipped.map(({ step, reason }) =>
    audit.step(ctx.subjects.record(audit.runId, step, 'skipped', { reason: `${reason}${again}` })),
  )
  for (const w of g.waiting) {
    const reason = !apply
      ? "needs a person's approval: apply records the request and sends nothing until then"
      : w.fresh
        ? `waits for a person's approval (requested now, until ${w.until})`
        : `waits for a person's approval (requested by ${w.request.runId} at ${w.request.at}, until ${w.until})`
    records.push(
      audit.step(ctx.subjects.record(audit.runId, w.step, apply ? 'pendingApproval' : 'planned', { reason })),
    )
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
  if (!apply || fresh.length === 0) return { newRequests: 0, records }
  try {
    await r.requests.append(fresh)
  } catch (e) {
    audit.event('warning', {
      message: `the approval requests could not be written (${(e as Error).message}); the next run asks again`,
    })
    return { newRequests: 0, records }
  }
  // Later passes of this run see what this one asked for: one request per step, not two.
  r.trails = { ...r.trails, requests: [...r.trails.requests, ...fresh] }
  return { newRequests: fresh.length, records }
}
