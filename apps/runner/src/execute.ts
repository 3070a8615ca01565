/**
 * Carries out a plan's steps, grouped the cheapest way Graph allows: Identity Protection actions 60
 * users a call, directory writes 20 a $batch, the rest one call each; the client's throttle keeps
 * every budget. Every group's intents reach the ledger before its requests leave; outcomes follow.
 */
import {
  BATCH_MAX_ITEMS,
  type GraphClient,
  isOutcomeUnknownError,
  RISKY_USERS_CHUNK,
  userItems,
} from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import { routeName } from './audit.js'
import type { Ledger, LedgerEntry, LedgerOutcome } from './ledger/ledger.js'

export interface StepOutcome {
  step: Step
  /** Before verification: `unknown` when the service may or may not have applied it. */
  status: 'succeeded' | 'failed' | 'unknown'
  reason: string | null
  graphRequestId: string | null
  correlationId: string | null
  startedAt: number
  durationMs: number
}

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

export function ledgerEntry(
  runId: string,
  step: Step,
  phase: LedgerEntry['phase'],
  outcome?: LedgerOutcome,
  extra: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    runId,
    at: new Date().toISOString(),
    phase,
    userId: step.userId,
    userPrincipalName: step.userPrincipalName,
    action: step.action,
    evidenceKey: step.evidenceKey,
    route: routeName(step.route),
    routeDetail: step.route,
    ...(outcome ? { outcome } : {}),
    ...extra,
  }
}

/** The verified outcome of each step, as the ledger's final word on it. */
export function settledEntries(
  runId: string,
  settled: ReadonlyArray<{ outcome: StepOutcome; status: string }>,
): LedgerEntry[] {
  return settled.map(({ outcome, status }) =>
    ledgerEntry(
      runId,
      outcome.step,
      'done',
      status === 'succeeded' ? 'succeeded' : status === 'failed' ? 'failed' : 'unverified',
      {
        graphRequestId: outcome.graphRequestId,
        correlationId: outcome.correlationId,
      },
    ),
  )
}

type Task = { steps: Step[]; run: () => Promise<StepOutcome[]> }

function failure(step: Step, error: unknown, startedAt: number): StepOutcome {
  const unknown = isOutcomeUnknownError(error)
  return {
    step,
    status: unknown ? 'unknown' : 'failed',
    reason: (error as Error).message ?? String(error),
    graphRequestId: ((error as { requestId?: string }).requestId ?? null) as string | null,
    correlationId: null,
    startedAt,
    durationMs: Date.now() - startedAt,
  }
}

function tasksFor(wave: Step[], ctx: ExecuteContext): Task[] {
  const { client, signal } = ctx
  const tasks: Task[] = []
  const ip = new Map<string, Step[]>()
  const batchable: Step[] = []
  for (const step of wave) {
    const r = step.route
    if (r.kind === 'identityProtection') ip.set(r.call, [...(ip.get(r.call) ?? []), step])
    else if (r.kind === 'entra' && r.call !== 'resetPassword') batchable.push(step)
    else
      tasks.push({
        steps: [step],
        run: async () => {
          const started = Date.now()
          try {
            if (r.kind === 'entra') {
              const res = await client.users.resetPassword(step.userId, { signal })
              return [
                {
                  step,
                  status: 'succeeded',
                  reason: null,
                  graphRequestId: res.requestId ?? null,
                  correlationId: null,
                  startedAt: started,
                  durationMs: Date.now() - started,
                },
              ]
            }
            const d = r as Extract<Route, { kind: 'defenderForIdentity' }>
            const res = await client.identityAccounts.invokeAction(
              {
                identityAccountId: d.identityAccountId,
                accountId: d.accountId,
                action: d.action,
                identityProvider: d.identityProvider,
              },
              { signal },
            )
            return [
              {
                step,
                status: 'succeeded',
                reason: null,
                graphRequestId: res.requestId ?? null,
                correlationId: res.correlationId ?? null,
                startedAt: started,
                durationMs: Date.now() - started,
              },
            ]
          } catch (e) {
            return [failure(step, e, started)]
          }
        },
      })
  }
  for (const [call, steps] of ip) {
    tasks.push({
      steps,
      run: async () => {
        const started = Date.now()
        const ids = steps.map((s) => s.userId)
        const method = call as 'confirmCompromised' | 'dismiss' | 'confirmSafe'
        try {
          const result = await client.riskyUsers[method](ids, { signal })
          const byId = new Map<string, StepOutcome>()
          const ms = Date.now() - started
          for (const ok of result.succeeded)
            for (const id of ok.ids)
              byId.set(id, {
                step: steps.find((s) => s.userId === id) as Step,
                status: 'succeeded',
                reason: null,
                graphRequestId: ok.requestId ?? null,
                correlationId: null,
                startedAt: started,
                durationMs: ms,
              })
          for (const bad of result.failed)
            for (const id of bad.ids)
              byId.set(id, failure(steps.find((s) => s.userId === id) as Step, bad.error, started))
          return steps.map(
            (s) =>
              byId.get(s.userId) ?? failure(s, new Error('no outcome was reported for this user'), started),
          )
        } catch (e) {
          return steps.map((s) => failure(s, e, started))
        }
      },
    })
  }
  for (let i = 0; i < batchable.length; i += 20) {
    const steps = batchable.slice(i, i + 20)
    tasks.push({
      steps,
      run: async () => {
        const started = Date.now()
        const items = steps.map((s, k) => {
          const r = s.route as Extract<Route, { kind: 'entra' }>
          return r.call === 'revokeSignInSessions'
            ? userItems.revokeSignInSessions(s.userId, String(k))
            : userItems.setAccountEnabled(s.userId, r.call === 'enable', String(k))
        })
        try {
          const results = await client.batch.execute(items, { signal })
          const ms = Date.now() - started
          return steps.map((s, k) => {
            const r = results.get(String(k))
            if (!r) return failure(s, new Error('no outcome was reported for this request'), started)
            if (r.error) return failure(s, r.error, started)
            return {
              step: s,
              status: 'succeeded',
              reason: null,
              graphRequestId: r.requestId ?? null,
              correlationId: null,
              startedAt: started,
              durationMs: ms,
            }
          })
        } catch (e) {
          return steps.map((s) => failure(s, e, started))
        }
      },
    })
  }
  return tasks
}

type Lane = 'identityProtection' | 'directoryBatch' | 'single'

function laneOf(step: Step): Lane {
  const r = step.route
  if (r.kind === 'identityProtection') return 'identityProtection'
  if (r.kind === 'entra' && r.call !== 'resetPassword') return 'directoryBatch'
  return 'single'
}

const GROUP: Record<Lane, number> = {
  identityProtection: RISKY_USERS_CHUNK,
  directoryBatch: BATCH_MAX_ITEMS,
  single: 1,
}

/**
 * A pipeline, not waves: each user's steps keep the plan's order (a step is ready when the user's
 * previous one has finished), and each budget has its own lane. Identity Protection calls go one
 * at a time (the budget is 1 request/s anyway), each taking every ready user up to 60; directory
 * writes go 20 to a $batch, `concurrency` batches at once; the rest one call each. So revokes of
 * users already confirmed proceed while the next confirmCompromised call waits for its budget: the
 * run takes as long as its slowest budget, not the sum of them.
 */
export async function executeSteps(
  steps: Step[],
  ctx: ExecuteContext,
): Promise<{ outcomes: StepOutcome[]; notStarted: Step[] }> {
  const remaining = new Map<string, Step[]>()
  for (const s of steps) remaining.set(s.userId, [...(remaining.get(s.userId) ?? []), s])
  const ready: Record<Lane, Step[]> = { identityProtection: [], directoryBatch: [], single: [] }
  const inFlight: Record<Lane, number> = { identityProtection: 0, directoryBatch: 0, single: 0 }
  const capacity: Record<Lane, number> = {
    identityProtection: 1,
    directoryBatch: ctx.concurrency,
    single: ctx.concurrency,
  }
  const advance = (userId: string): void => {
    const rest = remaining.get(userId)
    const next = rest?.shift()
    if (rest?.length === 0) remaining.delete(userId)
    if (next) ready[laneOf(next)].push(next)
  }
  for (const userId of remaining.keys()) advance(userId)

  const outcomes: StepOutcome[] = []
  const running = new Set<Promise<void>>()
  const take = (lane: Lane): Step[] => {
    const queue = ready[lane]
    if (lane !== 'identityProtection') return queue.splice(0, GROUP[lane])
    // One call type per Identity Protection call (confirmCompromised, dismiss, confirmSafe).
    const callOf = (step: Step | undefined): string | undefined =>
      step?.route.kind === 'identityProtection' ? step.route.call : undefined
    const call = callOf(queue[0])
    const group: Step[] = []
    for (let i = 0; i < queue.length && group.length < GROUP[lane]; ) {
      if (callOf(queue[i]) === call) group.push(...queue.splice(i, 1))
      else i++
    }
    return group
  }
  const launch = (): void => {
    for (const lane of ['identityProtection', 'directoryBatch', 'single'] as const) {
      while (!ctx.stopping() && inFlight[lane] < capacity[lane] && ready[lane].length > 0) {
        const group = take(lane)
        const [task] = tasksFor(group, ctx)
        if (!task) continue
        inFlight[lane]++
        const run = (async () => {
          await ctx.ledger.append(task.steps.map((s) => ledgerEntry(ctx.runId, s, 'intent')))
          const done = await task.run()
          await ctx.ledger.append(
            done.map((o) =>
              ledgerEntry(ctx.runId, o.step, 'done', o.status, {
                graphRequestId: o.graphRequestId,
                correlationId: o.correlationId,
              }),
            ),
          )
          outcomes.push(...done)
          ctx.onOutcomes?.(done)
          for (const o of done) advance(o.step.userId)
        })().finally(() => {
          inFlight[lane]--
          running.delete(run)
        })
        running.add(run)
      }
    }
  }
  for (;;) {
    launch()
    if (running.size === 0) break
    await Promise.race(running)
  }
  // Whatever did not start (a stop was asked for) is reported, never silently dropped.
  const notStarted = [
    ...ready.identityProtection,
    ...ready.directoryBatch,
    ...ready.single,
    ...[...remaining.values()].flat(),
  ]
  return { outcomes, notStarted }
}
