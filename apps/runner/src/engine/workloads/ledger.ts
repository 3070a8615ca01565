/**
 * Workload steps in the ledger: the same lines as users' (intent before a write, outcome after),
 * with `subject` naming the service principal's kind and app, and `credentials` the key ids and
 * hints a removal took. A step is done when its (subject, action, evidence, route) has a settled
 * outcome; the next run then repeats nothing for the same evidence.
 */
import { type ServicePrincipalStep, servicePrincipalRouteName } from '@tourniquet/policy'
import type { LedgerCredential, LedgerEntry, LedgerOutcome, LedgerPhase } from '../../ledger/ledger.js'
import { subjectName, workloadKey } from './steps.js'

export function workloadEntry(
  runId: string,
  step: ServicePrincipalStep,
  phase: LedgerPhase,
  extra: { outcome?: LedgerOutcome; graphRequestId?: string | null; credentials?: LedgerCredential[] } = {},
): LedgerEntry {
  const route = step.route
  return {
    runId,
    at: new Date().toISOString(),
    phase,
    userId: step.servicePrincipalId,
    userPrincipalName: subjectName(step),
    action: step.action,
    evidenceKey: step.evidenceKey,
    evidence: [...step.evidence],
    route: servicePrincipalRouteName(route),
    subject: {
      kind: 'servicePrincipal',
      ...(step.appId === undefined ? {} : { appId: step.appId }),
      ...('objectId' in route ? { objectId: route.objectId } : {}),
    },
    ...(extra.outcome === undefined ? {} : { outcome: extra.outcome }),
    ...(extra.graphRequestId === undefined ? {} : { graphRequestId: extra.graphRequestId }),
    ...(extra.credentials === undefined ? {} : { credentials: extra.credentials }),
  }
}

const entryKey = (e: LedgerEntry): string => `${e.userId}|${e.action}|${e.evidenceKey}|${e.route}`

/** The last settled line of each workload step: what a new run must not repeat. */
export function workloadDone(entries: readonly LedgerEntry[]): Map<string, LedgerEntry> {
  const done = new Map<string, LedgerEntry>()
  for (const e of entries) {
    if (e.subject?.kind !== 'servicePrincipal' || e.phase !== 'done') continue
    if (e.outcome === 'succeeded' || e.outcome === 'unverified') done.set(entryKey(e), e)
    else done.delete(entryKey(e))
  }
  return done
}

/** Splits the plan's steps into those the ledger says were done for this evidence and the rest. */
export function consultWorkloadLedger(
  steps: readonly ServicePrincipalStep[],
  entries: readonly LedgerEntry[],
): { todo: ServicePrincipalStep[]; done: Array<{ step: ServicePrincipalStep; entry: LedgerEntry }> } {
  const settled = workloadDone(entries)
  const todo: ServicePrincipalStep[] = []
  const done: Array<{ step: ServicePrincipalStep; entry: LedgerEntry }> = []
  for (const step of steps) {
    const entry = settled.get(workloadKey(step))
    if (entry) done.push({ step, entry })
    else todo.push(step)
  }
  return { todo, done }
}
