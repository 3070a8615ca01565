/**
 * Carries out a plan's steps as a pipeline with a lane per budget (lanes.ts). Each user's steps keep
 * the plan's order: a step is ready when the user's previous one has finished. Identity Protection
 * calls go one at a time (the budget is 1 request/s anyway), each taking every ready user up to 60;
 * directory writes go 20 to a `$batch`, `concurrency` batches at once; the rest one call each. So
 * revokes of users already confirmed proceed while the next confirmCompromised call waits for its
 * budget: the run takes as long as its slowest budget, not the sum of them. Every group's intents
 * reach the ledger before its requests leave; its outcomes follow.
 */
import type { GraphClient } from '@tourniquet/core'
import type { Step } from '@tourniquet/policy'
import { type Ledger, ledgerEntry } from '../ledger/ledger.js'
import { EXECUTORS, type StepOutcome } from './executors.js'
import { LANES, type Lane, laneOf, takeGroup } from './lanes.js'

export type { StepOutcome } from './executors.js'

export interface ExecuteContext {
  client: GraphClient
  ledger: Ledger
  runId: string
  concurrency: number
  /** True once a stop was asked for (SIGTERM): no new group starts, in-flight ones finish. */
  stopping: () => boolean
  signal?: AbortSignal | undefined
  /** Hears each group's outcomes once the ledger has them (read-back starts while the run goes on). */
  onOutcomes?: (outcomes: StepOutcome[]) => void
}

/** One group through its lane's executor, with the ledger's intent before and outcome after. */
export async function runGroup(
  lane: Lane,
  steps: readonly Step[],
  ctx: ExecuteContext,
): Promise<StepOutcome[]> {
  await ctx.ledger.append(steps.map((s) => ledgerEntry(ctx.runId, s, 'intent')))
  const outcomes = await EXECUTORS[lane](steps, ctx)
  await ctx.ledger.append(
    outcomes.map((o) =>
      ledgerEntry(ctx.runId, o.step, 'done', o.status, {
        graphRequestId: o.graphRequestId,
        correlationId: o.correlationId,
      }),
    ),
  )
  return outcomes
}

/** Which steps are ready, per lane: each user's next step once the previous one has finished. */
class Readiness {
  private readonly waiting = new Map<string, Step[]>()
  private readonly ready: Record<Lane, Step[]> = { identityProtection: [], directoryBatch: [], single: [] }

  constructor(steps: readonly Step[]) {
    for (const s of steps) {
      const mine = this.waiting.get(s.userId)
      if (mine) mine.push(s)
      else this.waiting.set(s.userId, [s])
    }
    for (const userId of [...this.waiting.keys()]) this.advance(userId)
  }

  /** The user's previous step finished: their next one (if any) becomes ready. */
  advance(userId: string): void {
    const rest = this.waiting.get(userId)
    const next = rest?.shift()
    if (rest?.length === 0) this.waiting.delete(userId)
    if (next) this.ready[laneOf(next.route)].push(next)
  }

  has(lane: Lane): boolean {
    return this.ready[lane].length > 0
  }

  take(lane: Lane): Step[] {
    const { group, rest } = takeGroup(this.ready[lane], lane)
    this.ready[lane] = rest
    return group
  }

  /** Every step that did not start, ready ones first. */
  leftOver(): Step[] {
    return [...LANES.flatMap((lane) => this.ready[lane]), ...[...this.waiting.values()].flat()]
  }
}

export async function executeSteps(
  steps: readonly Step[],
  ctx: ExecuteContext,
): Promise<{ outcomes: StepOutcome[]; notStarted: Step[] }> {
  const readiness = new Readiness(steps)
  const capacity: Record<Lane, number> = {
    identityProtection: 1,
    directoryBatch: ctx.concurrency,
    single: ctx.concurrency,
  }
  const inFlight: Record<Lane, number> = { identityProtection: 0, directoryBatch: 0, single: 0 }
  const outcomes: StepOutcome[] = []
  const running = new Set<Promise<void>>()
  const start = (lane: Lane, group: Step[]): void => {
    inFlight[lane]++
    const job = runGroup(lane, group, ctx)
      .then((done) => {
        outcomes.push(...done)
        ctx.onOutcomes?.(done)
        for (const o of done) readiness.advance(o.step.userId)
      })
      .finally(() => {
        inFlight[lane]--
        running.delete(job)
      })
    running.add(job)
  }
  for (;;) {
    for (const lane of LANES)
      while (!ctx.stopping() && inFlight[lane] < capacity[lane] && readiness.has(lane))
        start(lane, readiness.take(lane))
    if (running.size === 0) break
    await Promise.race(running)
  }
  // Whatever did not start (a stop was asked for) is reported, never silently dropped.
  return { outcomes, notStarted: readiness.leftOver() }
}
