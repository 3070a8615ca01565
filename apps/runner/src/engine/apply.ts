/**
 * The one apply path, used by `run --apply` and `undo --apply`: execute the steps (intents before,
 * outcomes after), read their effects back alongside, then record each step's settled status in the
 * ledger and on the audit trail. Steps a stop left unstarted are recorded as skipped, never dropped.
 */
import type { GraphClient } from '@tourniquet/core'
import type { Step } from '@tourniquet/policy'
import { EXIT, type ExitCode } from '../exit.js'
import { type Ledger, ledgerEntry } from '../ledger/ledger.js'
import { type Audit, countsOf, type StepRecord, stepRecord } from '../outputs/audit.js'
import type { Progress } from '../outputs/progress.js'
import { executeSteps } from './execute.js'
import { type Settled, Verifier, type VerifyOptions } from './verify.js'

// Recorded a slice at a time: a large run's settled steps are never all serialized at once.
const RECORD_SLICE = 1_000

export const NOT_STARTED_REASON = 'not started: the run was asked to stop (SIGTERM)'

export interface ApplyContext {
  client: GraphClient
  ledger: Ledger
  /** Writes the step records; its run id is the one the ledger gets. */
  audit: Audit
  concurrency: number
  stopping: () => boolean
  verify: VerifyOptions
  /** A person's progress line (outputs/progress.ts), when stderr is a terminal. */
  progress?: Progress | undefined
}

export interface Applied {
  /** Steps a stop kept from starting (already recorded as skipped). */
  notStarted: Step[]
  /** What was written to the audit for these steps: settled, or skipped for a stop. */
  records: StepRecord[]
}

/** Read-back settings: three tries 2 s apart, one when the run is already stopping. */
export function verifyOptions(stopping: boolean, override: Partial<VerifyOptions> = {}): VerifyOptions {
  return { attempts: stopping ? 1 : 3, delayMs: 2_000, memo: {}, ...override }
}

export async function applySteps(steps: readonly Step[], ctx: ApplyContext): Promise<Applied> {
  const { audit } = ctx
  const verifier = new Verifier(ctx.client, steps, ctx.verify)
  ctx.progress?.steps(steps.length)
  const { notStarted } = await executeSteps(steps, {
    client: ctx.client,
    ledger: ctx.ledger,
    runId: audit.runId,
    concurrency: ctx.concurrency,
    stopping: ctx.stopping,
    onOutcomes: (done) => {
      ctx.progress?.stepsDone(done.length)
      verifier.add(done)
    },
  })
  const records = await recordSettled(await verifier.finish(), ctx)
  for (const step of notStarted)
    records.push(audit.step(stepRecord(audit.runId, step, 'skipped', { reason: NOT_STARTED_REASON })))
  return { notStarted, records }
}

async function recordSettled(
  settled: readonly Settled[],
  { ledger, audit }: ApplyContext,
): Promise<StepRecord[]> {
  const records: StepRecord[] = []
  for (let i = 0; i < settled.length; i += RECORD_SLICE) {
    const slice = settled.slice(i, i + RECORD_SLICE)
    await ledger.append(
      slice.map(({ outcome, status }) =>
        ledgerEntry(audit.runId, outcome.step, 'done', status, {
          graphRequestId: outcome.graphRequestId,
          correlationId: outcome.correlationId,
        }),
      ),
    )
    for (const { outcome, status, reason } of slice)
      records.push(
        audit.step(
          stepRecord(audit.runId, outcome.step, status, {
            reason,
            graphRequestId: outcome.graphRequestId,
            correlationId: outcome.correlationId,
            durationMs: outcome.durationMs,
            ...(status === 'failed' && outcome.errorCode !== null ? { errorCode: outcome.errorCode } : {}),
          }),
        ),
      )
  }
  return records
}

/** An apply's exit code: 1 when a step failed or a stop left steps unstarted. */
export function appliedExitCode(records: readonly StepRecord[], applied: Applied): ExitCode {
  return countsOf(records).failed > 0 || applied.notStarted.length > 0 ? EXIT.stepsFailed : EXIT.ok
}
