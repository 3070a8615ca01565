/**
 * What the ledger already knows about a plan's steps, and the verdict on steps a crash interrupted
 * (an intent without an outcome): if its effect is visible it happened; if it is observable and not
 * visible it did not, and runs again now; if it cannot be observed it is never sent twice.
 */
import type { GraphClient } from '@tourniquet/core'
import type { Step } from '@tourniquet/policy'
import {
  type Ledger,
  type LedgerEntry,
  latestByKey,
  latestInOrder,
  ledgerEntry,
  ledgerKey,
} from '../ledger/ledger.js'
import { type Audit, type StepRecord, stepRecord } from '../outputs/audit.js'
import { type Check, type VerifyOptions, verifyEffects } from './verify.js'

export interface Known {
  step: Step
  entry: LedgerEntry
}

export interface LedgerView {
  /** Never tried for this evidence, or tried and failed: to do. */
  todo: Step[]
  /** Done already (succeeded, unverified or unknown): never repeated. */
  done: Known[]
  /** An intent without an outcome: a crash interrupted it. */
  interrupted: Known[]
}

/** What was acted on for one user and action: the detection ids, and the last line that says so. */
interface Acted {
  ids: Set<string>
  entry: LedgerEntry
}

/**
 * Per user and action, the detection ids some step acted on: a step that succeeded, could not be
 * read back, or was interrupted (the verdict is pending). A failed step acted on nothing. The most
 * recent line speaks for the pair: an intent that a later line settled (under another evidence key)
 * is not pending any more.
 */
function actedOn(entries: readonly LedgerEntry[]): Map<string, Acted> {
  const out = new Map<string, Acted>()
  for (const e of latestInOrder(entries)) {
    if (e.evidence === undefined || (e.phase === 'done' && e.outcome === 'failed')) continue
    const k = `${e.userId}|${e.action}`
    const acted = out.get(k) ?? { ids: new Set<string>(), entry: e }
    for (const id of e.evidence) acted.ids.add(id)
    acted.entry = e
    out.set(k, acted)
  }
  return out
}

/**
 * Splits the plan's steps by what the ledger already knows. A step is new only while one of its
 * detections has not been acted on for that user and action (decision 010): a detection leaving the
 * lookback changes the step's evidence key but never makes the step new again.
 */
export function consultLedger(steps: readonly Step[], entries: readonly LedgerEntry[]): LedgerView {
  const latest = latestByKey(entries)
  const acted = actedOn(entries)
  const view: LedgerView = { todo: [], done: [], interrupted: [] }
  for (const step of steps) {
    const exact = latest.get(ledgerKey(step))
    const prior = acted.get(`${step.userId}|${step.action}`)
    const covered = prior !== undefined && step.evidence.every((id) => prior.ids.has(id))
    const entry =
      exact && !(exact.phase === 'done' && exact.outcome === 'failed')
        ? exact
        : covered
          ? prior.entry
          : undefined
    if (!entry) view.todo.push(step)
    else if (entry.phase === 'intent') view.interrupted.push({ step, entry })
    else view.done.push({ step, entry })
  }
  return view
}

/**
 * For each step, the detection ids no step has acted on yet for that user and action: what makes
 * it new (decision 010), and so what must have been read from Graph in the run that sends it.
 */
export function novelEvidence(entries: readonly LedgerEntry[]): (step: Step) => string[] {
  const acted = actedOn(entries)
  return (step) => {
    const prior = acted.get(`${step.userId}|${step.action}`)
    return step.evidence.filter((id) => !prior?.ids.has(id))
  }
}

export interface ResumeContext {
  client: GraphClient
  ledger: Ledger
  audit: Audit
  verify: VerifyOptions
}

export interface Resumed {
  /** The steps to send again: their effect is not visible and can be read back. */
  again: Step[]
  /** The verdicts written to the audit for the rest. */
  records: StepRecord[]
}

/** Reads each interrupted step's effect once, records the verdicts, and returns the steps to run again. */
export async function resumeInterrupted(interrupted: readonly Known[], ctx: ResumeContext): Promise<Resumed> {
  if (interrupted.length === 0) return { again: [], records: [] }
  const { audit } = ctx
  const runId = audit.runId
  const checks = new Map<Check, LedgerEntry>(
    interrupted.map(({ step, entry }) => [{ step, since: Date.parse(entry.at) }, entry]),
  )
  const verdicts = await verifyEffects(ctx.client, [...checks.keys()], { ...ctx.verify, attempts: 1 })
  const again: Step[] = []
  const records: StepRecord[] = []
  const closing: LedgerEntry[] = []
  for (const [check, entry] of checks) {
    const v = verdicts.get(check)
    if (v?.visible) {
      const reason = `interrupted in ${entry.runId}; the effect is visible (${v.detail})`
      records.push(audit.step(stepRecord(runId, check.step, 'succeeded', { reason })))
      closing.push(ledgerEntry(runId, check.step, 'done', 'succeeded'))
    } else if (v?.observable) {
      again.push(check.step)
    } else {
      const reason = `interrupted in ${entry.runId}; the outcome cannot be read back, so it is not sent again`
      records.push(audit.step(stepRecord(runId, check.step, 'unverified', { reason })))
      closing.push(ledgerEntry(runId, check.step, 'done', 'unknown'))
    }
  }
  await ctx.ledger.append(closing)
  return { again, records }
}
