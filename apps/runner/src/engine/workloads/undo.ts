/**
 * Undo of a run's workload steps: a service principal the run disabled is re-enabled (after reading
 * it back: only one still disabled), through the same write and read-back as a run. A credential
 * removal is not undoable: Graph never returns a secret or a private key, so nothing can put one
 * back; undo says so, with the key ids and hints the ledger holds, and leaves it to the app's owner.
 */
import type { GraphClient } from '@tourniquet/core'
import type { ServicePrincipalStep } from '@tourniquet/policy'
import type { Ledger, LedgerEntry } from '../../ledger/ledger.js'
import type { Audit, StepRecord } from '../../outputs/audit.js'
import { executeWorkloadSteps } from './execute.js'
import { recordSettled } from './stage.js'
import { workloadRecord } from './steps.js'
import { verifyWorkloads } from './verify.js'

const settledOk = (e: LedgerEntry): boolean => e.outcome === 'succeeded' || e.outcome === 'unverified'

function stepOf(e: LedgerEntry, runId: string, action: 'enable' | 'removeCredentials'): ServicePrincipalStep {
  const name = e.userPrincipalName.replace(/ \(app [^)]*\)$/, '')
  return {
    subject: 'servicePrincipal',
    servicePrincipalId: e.userId,
    appId: e.subject?.appId,
    displayName: name,
    rule: `undo:${runId}`,
    action,
    route:
      action === 'enable'
        ? { kind: 'servicePrincipal', call: 'enable' }
        : {
            kind: 'servicePrincipal',
            call: 'removeCredentials',
            objectId: e.subject?.objectId ?? e.userId,
            credentials: [],
          },
    evidenceKey: `undo:${runId}`,
    evidence: [],
    undoable: action === 'enable',
  }
}

/** From the run's ledger lines: the service principals to re-enable, and the removals that stay. */
export function workloadUndo(
  entries: readonly LedgerEntry[],
  runId: string,
): { enable: ServicePrincipalStep[]; removed: LedgerEntry[] } {
  const enable = new Map<string, ServicePrincipalStep>()
  const removed: LedgerEntry[] = []
  for (const e of entries) {
    if (e.runId !== runId || e.phase !== 'done' || e.subject?.kind !== 'servicePrincipal' || !settledOk(e))
      continue
    if (e.action === 'disable') enable.set(e.userId, stepOf(e, runId, 'enable'))
    if (e.action === 'removeCredentials' && (e.credentials?.length ?? 0) > 0) removed.push(e)
  }
  return { enable: [...enable.values()], removed }
}

/** The removals' lines: skipped, not undoable, naming what was removed. */
function notUndoable(audit: Audit, runId: string, removed: readonly LedgerEntry[]): StepRecord[] {
  return removed.map((e) => {
    const which = (e.credentials ?? []).map((c) => `${c.kind} ${c.keyId}${c.hint ? ` (hint ${c.hint})` : ''}`)
    const reason = `not undoable: removed credentials cannot be restored (${which.join(', ')}); the app's owner issues new ones`
    return audit.step(
      workloadRecord(audit.runId, stepOf(e, runId, 'removeCredentials'), 'skipped', { reason }),
    )
  })
}

/** Reads each service principal back: only those still disabled are re-enabled. */
export async function prepareWorkloadUndo(
  client: GraphClient,
  audit: Audit,
  plan: { enable: ServicePrincipalStep[]; removed: LedgerEntry[]; runId: string },
): Promise<{ todo: ServicePrincipalStep[]; records: StepRecord[] }> {
  const records = notUndoable(audit, plan.runId, plan.removed)
  const todo: ServicePrincipalStep[] = []
  for (const step of plan.enable) {
    let reason: string | undefined
    try {
      const sp = await client.servicePrincipals.get(step.servicePrincipalId, {
        select: ['id', 'accountEnabled'],
      })
      if (sp.accountEnabled !== false) reason = 'not re-enabled: the service principal is no longer disabled'
    } catch (e) {
      reason = `not re-enabled: the service principal could not be read back (${(e as Error).message})`
    }
    if (reason === undefined) todo.push(step)
    else records.push(audit.step(workloadRecord(audit.runId, step, 'skipped', { reason })))
  }
  return { todo, records }
}

/** Re-enables, reads back and records, as a run would. */
export async function applyWorkloadUndo(
  todo: readonly ServicePrincipalStep[],
  ctx: { client: GraphClient; ledger: Ledger; audit: Audit; stopping: () => boolean },
): Promise<StepRecord[]> {
  if (todo.length === 0) return []
  const { outcomes } = await executeWorkloadSteps(todo, {
    client: ctx.client,
    ledger: ctx.ledger,
    runId: ctx.audit.runId,
    stopping: ctx.stopping,
  })
  return recordSettled(ctx.audit, ctx.ledger, await verifyWorkloads(ctx.client, outcomes))
}
