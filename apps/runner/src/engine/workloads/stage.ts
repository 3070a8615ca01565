/**
 * The workload stage of a run (decision 017): `startWorkloads` reads the risky service principals
 * and the exclusions right after the users' plan, before anything is sent (a missing licence or an
 * exclusion that names no service principal stops the run there with exit 2). When a cap of the
 * section could refuse a plan of that many principals, the plan is made there too (a refusal is
 * exit 3, nothing done); otherwise the rest is read and planned while the users' steps go out, on
 * the Identity Protection budget the two kinds share. `actWorkloads` then records the skips,
 * consults the ledger, passes the approvals gate and, in apply mode, sends the steps, reads them
 * back and records them, alongside the users' steps. Its records join the users' in the run's
 * table, report, summary and exit code.
 */
import { ConfigError, type GraphClient } from '@tourniquet/core'
import type { Policy, ServicePrincipalStep } from '@tourniquet/policy'
import { gateApprovals, type Subjects } from '../../approvals/phase.js'
import type { RunnerConfig } from '../../env.js'
import type { Ledger, LedgerEntry } from '../../ledger/ledger.js'
import type { Audit, StepRecord } from '../../outputs/audit.js'
import type { BlobClients } from '../../stores/blobClients.js'
import {
  capCouldRefuse,
  decideWorkloadsFrom,
  exclusionRefusal,
  readWorkloadHead,
  type WorkloadsDecided,
} from './collect.js'
import { executeWorkloadSteps } from './execute.js'
import { consultWorkloadLedger, workloadEntry } from './ledger.js'
import { subjectName, workloadRecord, workloadSkipRecord } from './steps.js'
import { verifyWorkloads, type WorkloadSettled } from './verify.js'

export type { WorkloadsDecided } from './collect.js'

export interface WorkloadStart {
  config: RunnerConfig
  audit: Audit
  now: Date
  signal?: AbortSignal | undefined
}

const EXCLUSIONS = 'servicePrincipals.exclude.servicePrincipals'

/** The workload plan of a run, decided before anything is sent or while the users' steps go out. */
export interface WorkloadsStarted {
  /** The plan; already made when `early`. */
  decided: Promise<WorkloadsDecided>
  /** A cap could refuse: the plan was made before anything is sent, and a refusal stops the run. */
  early: boolean
  /** Stops the reads still running (the run ended before it needed the plan). */
  cancel(): void
}

/**
 * Reads the head of the workload collection and starts the rest; undefined without a
 * servicePrincipals section (no request). Throws (exit 2) before anything is sent for a missing
 * licence or an exclusion that names no service principal.
 */
export async function startWorkloads(
  start: WorkloadStart,
  client: GraphClient,
  policy: Policy,
): Promise<WorkloadsStarted | undefined> {
  const { config, audit, now } = start
  const stop = new AbortController()
  const signal = start.signal === undefined ? stop.signal : AbortSignal.any([start.signal, stop.signal])
  const ctx = { tenantId: config.tenantId, clientId: config.clientId, now, signal }
  const head = await readWorkloadHead(client, policy, ctx)
  if (!head) return undefined
  for (const warning of head.warnings) audit.note(`tourniquet: ${warning}`)
  // A typo in an exclusion must not unprotect a service principal: a configuration error, exit 2.
  const excluded = exclusionRefusal(policy, head, ctx)
  if (excluded) throw new ConfigError(EXCLUSIONS, excluded.reason)
  const early = capCouldRefuse(policy, head.risky.length)
  const deciding = decideWorkloadsFrom(client, policy, ctx, head).then((decided) => {
    const { plan } = decided
    audit.event('workloads', {
      collection: 'full',
      riskyServicePrincipals: decided.riskyServicePrincipals,
      detections: decided.detections,
      servicePrincipals: plan.principals.length,
      steps: plan.steps.length,
      wanted: plan.wanted,
      unmatched: plan.unmatched,
      decided: early ? 'before anything was sent' : "while the users' steps went out",
      ...(head.warnings.length === 0 ? {} : { warnings: head.warnings }),
    })
    return decided
  })
  if (early) await deciding
  // Handled where it is awaited; a run that ends first (and cancels) must not leave it unhandled.
  deciding.catch(() => undefined)
  return { decided: deciding, early, cancel: () => stop.abort() }
}

/** A workload step as the approvals gate sees it: the service principal in the subject's fields. */
type GatedWorkload = ServicePrincipalStep & { userId: string; userPrincipalName: string }

const gated = (s: ServicePrincipalStep): GatedWorkload => ({
  ...s,
  userId: s.servicePrincipalId,
  userPrincipalName: subjectName(s),
})

function workloadSubjects(decided: WorkloadsDecided): Subjects<GatedWorkload> {
  const types = new Map(
    decided.plan.principals.map((p) => [
      p.servicePrincipalId,
      [...new Set(p.justification.detections.map((d) => d.riskEventType))],
    ]),
  )
  return {
    evidenceOf: (s) => types.get(s.servicePrincipalId) ?? [],
    routeOf: (s) => `${s.route.kind}:${s.route.call}`,
    record: (runId, s, status, extra) => workloadRecord(runId, s, status, extra),
  }
}

export interface WorkloadActing {
  decided: WorkloadsDecided
  client: GraphClient
  ledger: Ledger
  entries: readonly LedgerEntry[]
  blobs: () => Promise<BlobClients>
  stopping: () => boolean
}

/** What needs no action (skips, done before), then the approvals gate: the steps to send now. */
async function prepareWorkloads(
  start: WorkloadStart,
  acting: WorkloadActing,
): Promise<{ todo: ServicePrincipalStep[]; records: StepRecord[] }> {
  const { audit } = start
  const { plan } = acting.decided
  const records = plan.skips.map((s) => audit.step(workloadSkipRecord(audit.runId, s)))
  const view = consultWorkloadLedger(plan.steps, acting.entries)
  for (const { step, entry } of view.done) {
    const reason = `already done for this evidence by ${entry.runId} (${entry.outcome ?? 'recorded'})`
    records.push(audit.step(workloadRecord(audit.runId, step, 'skipped', { reason })))
  }
  const approvals = await gateApprovals(view.todo.map(gated), {
    config: start.config,
    audit,
    subjects: workloadSubjects(acting.decided),
    now: start.now,
    blobs: acting.blobs,
  })
  return { todo: approvals.todo, records: [...records, ...approvals.records] }
}

/** The settled steps: in the ledger (with the credentials removed), then on the audit trail. */
export async function recordSettled(
  audit: Audit,
  ledger: Ledger,
  settled: readonly WorkloadSettled[],
): Promise<StepRecord[]> {
  await ledger.append(
    settled.map((s) =>
      workloadEntry(audit.runId, s.step, 'done', {
        outcome: s.status,
        graphRequestId: s.graphRequestId,
        ...(s.credentials ? { credentials: s.credentials } : {}),
      }),
    ),
  )
  return settled.map((s) => {
    const removed = s.credentials?.map((c) => `${c.kind} ${c.keyId}${c.hint ? ` (hint ${c.hint})` : ''}`)
    const said = [s.reason, removed?.length ? `removed ${removed.join(', ')}; not undoable` : undefined]
    const reason = said.filter((x) => x !== undefined).join('; ') || null
    return audit.step(
      workloadRecord(audit.runId, s.step, s.status, {
        reason,
        graphRequestId: s.graphRequestId,
        ...(s.status === 'failed' && s.errorCode ? { errorCode: s.errorCode } : {}),
      }),
    )
  })
}

/** The workload stage's records: planned (plan mode) or sent, read back and recorded (apply). */
export async function actWorkloads(start: WorkloadStart, acting: WorkloadActing): Promise<StepRecord[]> {
  const { audit } = start
  const ready = await prepareWorkloads(start, acting)
  if (start.config.mode === 'plan')
    return [...ready.records, ...ready.todo.map((s) => audit.step(workloadRecord(audit.runId, s, 'planned')))]
  const { outcomes, notStarted } = await executeWorkloadSteps(ready.todo, {
    client: acting.client,
    ledger: acting.ledger,
    runId: audit.runId,
    stopping: acting.stopping,
    signal: start.signal,
  })
  const settled = await recordSettled(
    audit,
    acting.ledger,
    await verifyWorkloads(acting.client, outcomes, start.signal),
  )
  const stopped = notStarted.map((s) =>
    audit.step(
      workloadRecord(audit.runId, s, 'skipped', { reason: 'not started: the run was asked to stop' }),
    ),
  )
  return [...ready.records, ...settled, ...stopped]
}

/** A cap refused the workload plan: every step is recorded as skipped, and nothing is done. */
export function refusedWorkloadRecords(start: WorkloadStart, decided: WorkloadsDecided): StepRecord[] {
  const { audit } = start
  const reason = `refused: ${decided.plan.refused?.reason ?? ''}`
  return decided.plan.principals.flatMap((p) =>
    p.steps.map((s) => audit.step(workloadRecord(audit.runId, s, 'skipped', { reason }))),
  )
}
