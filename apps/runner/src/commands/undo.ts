/**
 * `tourniquet undo --run <runId>`: re-enables the accounts a run disabled, through the same system
 * that disabled them (Entra for cloud users, Defender for Identity in AD for synced ones), after a
 * human decided so. Plan first; --apply acts, through the same apply path as a run. Each account is
 * read back first: only accounts still disabled are re-enabled, named by the directory's UPN.
 * Service principals the run disabled are re-enabled the same way; a credential removal is not
 * undoable, and undo says so (engine/workloads/undo.ts).
 */
import type { Writable } from 'node:stream'
import { type GraphClient, USER_SELECT } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import { appliedExitCode, applySteps, verifyOptions } from '../engine/apply.js'
import { newRunId } from '../engine/runId.js'
import { openSession, type Session } from '../engine/session.js'
import type { VerifyOptions } from '../engine/verify.js'
import { workloadRecord } from '../engine/workloads/steps.js'
import { applyWorkloadUndo, prepareWorkloadUndo, workloadUndo } from '../engine/workloads/undo.js'
import type { RunnerConfig } from '../env.js'
import { EXIT } from '../exit.js'
import { failureMessage, failureOf } from '../failures.js'
import type { Ledger, LedgerEntry } from '../ledger/ledger.js'
import { Audit, countsOf, type StepRecord, stepRecord } from '../outputs/audit.js'
import { type ProgressStream, startProgress } from '../outputs/progress.js'

export interface UndoOptions {
  config: RunnerConfig
  runId: string
  out: Writable
  err: Writable
  /** Inject a client (tests); otherwise one is built from the configuration. */
  client?: GraphClient
  /** Inject a ledger; otherwise opened from config.ledger. */
  ledger?: Ledger
  stopSignal?: AbortSignal
  verify?: Partial<VerifyOptions>
}

function enableRoute(disabled: Route): Route | undefined {
  if (disabled.kind === 'entra' && disabled.call === 'disable') return { kind: 'entra', call: 'enable' }
  if (disabled.kind === 'defenderForIdentity' && disabled.action === 'disable')
    return { ...disabled, action: 'enable' }
  return undefined
}

/** One enable step per account the run disabled (succeeded or unverified), by user. */
export function undoSteps(entries: readonly LedgerEntry[], runId: string): Step[] {
  const steps = new Map<string, Step>()
  for (const e of entries) {
    if (e.runId !== runId || e.phase !== 'done' || e.action !== 'disable' || !e.routeDetail) continue
    if (e.outcome !== 'succeeded' && e.outcome !== 'unverified') continue
    const route = enableRoute(e.routeDetail)
    if (route)
      steps.set(e.userId, {
        userId: e.userId,
        userPrincipalName: e.userPrincipalName,
        rule: `undo:${runId}`,
        action: 'enable',
        route,
        evidenceKey: `undo:${runId}`,
        evidence: [],
      })
  }
  return [...steps.values()]
}

/** A step undo will not take, and why. */
interface Left {
  step: Step
  reason: string
}

/** Whether the account a step would re-enable is still disabled, where it was disabled. */
async function isDisabled(
  client: GraphClient,
  step: Step,
  enabled: boolean | null | undefined,
): Promise<boolean> {
  if (step.route.kind !== 'defenderForIdentity') return enabled === false
  // Disabled in AD through Defender for Identity: its identity says so before Entra sync catches up.
  return (await client.identityAccounts.get(step.route.identityAccountId)).isEnabled === false
}

/**
 * Reads each account back before anything is planned: the ledger is input (decision 010), so only
 * accounts that exist and are still disabled are re-enabled, and each is named by the directory's
 * UPN now, not the one the ledger line carries.
 */
async function readBack(
  client: GraphClient,
  steps: readonly Step[],
): Promise<{ todo: Step[]; left: Left[] }> {
  const facts = await client.users.getMany(
    steps.map((s) => s.userId),
    { select: USER_SELECT },
  )
  const todo: Step[] = []
  const left: Left[] = []
  for (const step of steps) {
    const fact = facts.get(step.userId)
    if (!fact || fact instanceof Error) {
      left.push({
        step,
        reason: `not re-enabled: the account could not be read back (${fact?.message ?? 'no answer'})`,
      })
      continue
    }
    const named = { ...step, userPrincipalName: fact.userPrincipalName ?? step.userPrincipalName }
    try {
      if (await isDisabled(client, named, fact.accountEnabled)) todo.push(named)
      else left.push({ step: named, reason: 'not re-enabled: the account is no longer disabled' })
    } catch (e) {
      left.push({
        step: named,
        reason: `not re-enabled: the account could not be read back (${(e as Error).message})`,
      })
    }
  }
  return { todo, left }
}

/** How an undo ended: the summary line says it, and its exit code is the command's. */
interface UndoEnded {
  exitCode: number
  outcome: string
  /** The step records written: the summary's counts. */
  records?: StepRecord[]
}

export async function runUndo(options: UndoOptions): Promise<number> {
  const { config } = options
  const audit = new Audit(options.out, options.err, newRunId(new Date()))
  let ended: UndoEnded
  try {
    await using session = openSession(config, {
      stopSignal: options.stopSignal,
      client: options.client,
      ledger: options.ledger,
    })
    ended = await undoRun(options, session, audit)
  } catch (e) {
    // A corrupt ledger or a lock held elsewhere: one clear line and its exit code, as for a run.
    const failure = failureOf(e)
    const message = failureMessage(e, failure)
    audit.event('error', { kind: failure.kind, message })
    audit.note(`tourniquet: ${failure.note}: ${message}`)
    ended = { exitCode: failure.exitCode, outcome: failure.outcome }
  }
  const { exitCode, outcome } = ended
  audit.summary(ended.records ?? [], {
    mode: config.mode,
    outcome,
    riskyUsers: 0,
    unmatched: 0,
    exitCode,
    durationMs: 0,
  })
  return exitCode
}

async function undoRun(options: UndoOptions, session: Session, audit: Audit): Promise<UndoEnded> {
  const { config, runId } = options
  const ledger = await session.ledger()
  const entries = await ledger.load()
  const steps = undoSteps(entries, runId)
  const workloads = { ...workloadUndo(entries, runId), runId }
  if (steps.length === 0 && workloads.enable.length === 0 && workloads.removed.length === 0) {
    audit.note(
      `tourniquet: run ${runId} disabled no account (according to ${ledger.location}); nothing to undo`,
    )
    return { exitCode: EXIT.ok, outcome: 'nothing to undo' }
  }
  const client = await session.graph()
  const wl = await prepareWorkloadUndo(client, audit, workloads)
  const { todo, left } = steps.length > 0 ? await readBack(client, steps) : { todo: [], left: [] }
  const records = [
    ...wl.records,
    ...left.map(({ step, reason }) => audit.step(stepRecord(audit.runId, step, 'skipped', { reason }))),
  ]
  if (config.mode === 'plan') {
    const reason = `re-enable: disabled by ${runId}`
    for (const s of todo) records.push(audit.step(stepRecord(audit.runId, s, 'planned', { reason })))
    for (const s of wl.todo) records.push(audit.step(workloadRecord(audit.runId, s, 'planned', { reason })))
    audit.table(`Undo of ${runId}: plan only. Re-enable with --apply.`, records)
    return { exitCode: EXIT.ok, outcome: 'planned', records }
  }
  if (!(await session.lease())) {
    audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
    return { exitCode: EXIT.ok, outcome: 'skipped: another run holds the lease', records }
  }
  const stopping = () => session.stopping()
  records.push(...(await applyWorkloadUndo(wl.todo, { client, ledger, audit, stopping })))
  return reEnable(options, { session, client, ledger, audit }, todo, records)
}

async function reEnable(
  options: UndoOptions,
  { session, client, ledger, audit }: { session: Session; client: GraphClient; ledger: Ledger; audit: Audit },
  steps: Step[],
  before: StepRecord[],
): Promise<UndoEnded> {
  const verify = verifyOptions(session.stopping(), options.verify)
  const progress = startProgress(options.err as ProgressStream, { title: 'tourniquet undo' })
  const applied = await applySteps(steps, {
    client,
    ledger,
    audit,
    concurrency: options.config.concurrency,
    stopping: () => session.stopping(),
    verify,
    progress,
  }).finally(() => progress?.stop())
  const records = [...before, ...applied.records]
  const counts = countsOf(records)
  audit.table(
    `Undo of ${options.runId}: ${counts.succeeded} re-enabled, ${counts.unverified} unverified, ${counts.failed} failed, ${counts.skipped} left alone.`,
    records,
  )
  return { exitCode: appliedExitCode(records, applied), outcome: 'applied', records }
}
