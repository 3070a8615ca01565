/**
 * Carries out a plan's steps. Each user's steps keep the plan's order (wave k holds every user's
 * k-th step); within a wave, calls are grouped the cheapest way Graph allows: Identity Protection
 * actions 60 users a call, directory writes 20 a $batch, the rest one call each, with at most
 * `concurrency` groups in flight and the client's throttle keeping every budget. Every group's
 * intents reach the ledger before its requests leave; outcomes follow.
 */
import { type GraphClient, isOutcomeUnknownError, userItems } from '@tourniquet/core'
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

export async function executeSteps(
  steps: Step[],
  ctx: ExecuteContext,
): Promise<{ outcomes: StepOutcome[]; notStarted: Step[] }> {
  const perUser = new Map<string, Step[]>()
  for (const s of steps) perUser.set(s.userId, [...(perUser.get(s.userId) ?? []), s])
  const waves: Step[][] = []
  for (const list of perUser.values()) {
    list.forEach((s, i) => {
      const wave = waves[i] ?? []
      wave.push(s)
      waves[i] = wave
    })
  }

  const outcomes: StepOutcome[] = []
  const notStarted: Step[] = []
  for (const wave of waves) {
    if (ctx.stopping()) {
      notStarted.push(...wave)
      continue
    }
    const queue = tasksFor(wave, ctx)
    const workers = Array.from({ length: Math.min(ctx.concurrency, queue.length) }, async () => {
      for (;;) {
        const task = queue.shift()
        if (!task) return
        if (ctx.stopping()) {
          notStarted.push(...task.steps)
          continue
        }
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
      }
    })
    await Promise.all(workers)
  }
  return { outcomes, notStarted }
}
