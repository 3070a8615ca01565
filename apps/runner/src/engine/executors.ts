/**
 * One small executor per lane: each carries out a group of steps with the fewest Graph calls the
 * lane allows and reports one outcome per step, in the group's order. An executor never throws: a
 * call that fails fails (or leaves unknown) every step it carried.
 */
import { type GraphClient, isOutcomeUnknownError, isTourniquetError, userItems } from '@tourniquet/core'
import type { IdentityProtectionCall, RouteOf, Step } from '@tourniquet/policy'
import { isRunnerError, NoOutcomeError } from '../errors.js'
import { withAdvice } from '../failures.js'
import type { Lane } from './lanes.js'
import type { CallOutcome } from './status.js'

export interface StepOutcome {
  step: Step
  /** Before verification: `unknown` when the service may or may not have applied it. */
  status: CallOutcome
  reason: string | null
  /** The stable code of the error a failed call threw (e.g. core's TQ_PERMISSION), when it had one. */
  errorCode: string | null
  graphRequestId: string | null
  correlationId: string | null
  startedAt: number
  durationMs: number
}

export interface CallContext {
  client: GraphClient
  signal?: AbortSignal | undefined
}

export type Executor = (steps: readonly Step[], ctx: CallContext) => Promise<StepOutcome[]>

interface Answer {
  requestId?: string | undefined
  correlationId?: string | undefined
}

function succeeded(step: Step, startedAt: number, answer: Answer, durationMs: number): StepOutcome {
  return {
    step,
    status: 'succeeded',
    reason: null,
    errorCode: null,
    graphRequestId: answer.requestId ?? null,
    correlationId: answer.correlationId ?? null,
    startedAt,
    durationMs,
  }
}

/** A call that failed; `unknown` when it may have reached the service (read-back decides). */
function failed(step: Step, error: unknown, startedAt: number): StepOutcome {
  return {
    step,
    status: isOutcomeUnknownError(error) ? 'unknown' : 'failed',
    // Core's message, then what to change in the runner's terms (its one table of advice).
    reason: withAdvice(error),
    errorCode: isTourniquetError(error) || isRunnerError(error) ? error.code : null,
    graphRequestId: (error as { requestId?: string }).requestId ?? null,
    correlationId: null,
    startedAt,
    durationMs: Date.now() - startedAt,
  }
}

function identityProtectionCall(steps: readonly Step[]): IdentityProtectionCall {
  const route = steps[0]?.route
  if (route?.kind === 'identityProtection') return route.call
  throw new TypeError('an Identity Protection group holds Identity Protection steps only')
}

/** Up to 60 users in one Identity Protection call; every step of the group makes the same call. */
const identityProtection: Executor = async (steps, { client, signal }) => {
  const started = Date.now()
  const call = identityProtectionCall(steps)
  try {
    const result = await client.riskyUsers[call](
      steps.map((s) => s.userId),
      { signal },
    )
    const ms = Date.now() - started
    const byUser = new Map(steps.map((s) => [s.userId, s]))
    const outcomes = new Map<string, StepOutcome>()
    for (const ok of result.succeeded)
      for (const id of ok.ids) {
        const step = byUser.get(id)
        if (step) outcomes.set(id, succeeded(step, started, ok, ms))
      }
    for (const bad of result.failed)
      for (const id of bad.ids) {
        const step = byUser.get(id)
        if (step) outcomes.set(id, failed(step, bad.error, started))
      }
    return steps.map((s) => outcomes.get(s.userId) ?? failed(s, new NoOutcomeError('user'), started))
  } catch (e) {
    return steps.map((s) => failed(s, e, started))
  }
}

function batchItem(step: Step, id: string) {
  const { call } = step.route as RouteOf<'entra'>
  return call === 'revokeSignInSessions'
    ? userItems.revokeSignInSessions(step.userId, id)
    : userItems.setAccountEnabled(step.userId, call === 'enable', id)
}

/** Up to 20 directory writes in one `$batch`; each item answers for its own step. */
const directoryBatch: Executor = async (steps, { client, signal }) => {
  const started = Date.now()
  try {
    const results = await client.batch.execute(
      steps.map((s, k) => batchItem(s, String(k))),
      { signal },
    )
    const ms = Date.now() - started
    return steps.map((s, k) => {
      const r = results.get(String(k))
      if (!r) return failed(s, new NoOutcomeError('request'), started)
      if (r.error) return failed(s, r.error, started)
      return succeeded(s, started, r, ms)
    })
  } catch (e) {
    return steps.map((s) => failed(s, e, started))
  }
}

/** A call that cannot be batched: an Entra password reset, or a Defender for Identity action. */
async function singleCall(step: Step, { client, signal }: CallContext): Promise<StepOutcome> {
  const started = Date.now()
  const r = step.route
  try {
    const answer =
      r.kind === 'defenderForIdentity'
        ? await client.identityAccounts.invokeAction(
            {
              identityAccountId: r.identityAccountId,
              accountId: r.accountId,
              action: r.action,
              identityProvider: r.identityProvider,
            },
            { signal },
          )
        : await client.users.resetPassword(step.userId, { signal })
    return succeeded(step, started, answer, Date.now() - started)
  } catch (e) {
    return failed(step, e, started)
  }
}

const single: Executor = (steps, ctx) => Promise.all(steps.map((s) => singleCall(s, ctx)))

export const EXECUTORS: Readonly<Record<Lane, Executor>> = { identityProtection, directoryBatch, single }
