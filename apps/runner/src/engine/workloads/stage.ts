/**
 * The workload stage of a run (decision 017): `decideWorkloads` reads and plans the service
 * principals right after the users' plan, before anything is sent (an exclusion that names no
 * service principal stops the run there with exit 2, a cap refuses it with exit 3);
 * `actWorkloads` then records the skips, consults the ledger, passes the approvals gate and, in
 * apply mode, sends the steps, reads them back and records them. Its records join the users' in the
 * run's table, report, summary and exit code.
 */
import { ConfigError, type GraphClient } from '@tourniquet/core'
import type { Policy, ServicePrincipalStep } from '@tourniquet/policy'
import { gateApprovals, type Subjects } from '../../approvals/phase.js'
import type { RunnerConfig } from '../../env.js'
import type { Ledger, LedgerEntry } from '../../ledger/ledger.js'
import type { Audit, StepRecord } from '../../outputs/audit.js'
import type { BlobClients } from '../../stores/blobClients.js'
import { collectWorkloads, type WorkloadsDecided } from './collect.js'
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

/** Reads and plans the workload identities; undefined without a servicePrincipals section (no request). */
export async function decideWorkloads(
  start: WorkloadStart,
  client: GraphClient,
  policy: Policy,
): Promise<WorkloadsDecided | undefined> {
  const { config, audit, now } = start
  const decided = await collectWorkloads(client, policy, {
    tenantId: config.tenantId,
    clientId: config.clientId,
    now,
    signal: start.signal,
  })
  if (!decided) return undefined
  const { plan } = decided
  // A typo in an exclusion must not unprotect a service principal: a configuration error, exit 2.
  if (plan.refused?.limit === EXCLUSIONS) throw new ConfigError(EXCLUSIONS, plan.refused.reason)
  audit.event('workloads', {
    collection: 'full',
    riskyServicePrincipals: decided.riskyServicePrincipals,
    detections: decided.detections,
    servicePrincipals: plan.principals.length,
    steps: plan.steps.length,
    wanted: plan.wanted,
    unmatched: plan.unmatched,
  })
  return decided
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
  const settled = await recordSettled(audit, acting.ledger, await verifyWorkloads(acting.client, outcomes))
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
