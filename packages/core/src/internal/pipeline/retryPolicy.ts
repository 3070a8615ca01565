import { AbortedError, DeadlineError, ThrottledError } from '../../errors.js'
import { publishRetry } from '../diagnostics.js'
import type { GraphResponse } from '../http.js'
import { sleep } from '../timing.js'
import type { PipelinePolicy } from './pipeline.js'
import {
  type AttemptOutcome,
  DEFAULT_RETRY_OPTIONS,
  decideRetry,
  parseRetryAfter,
  type RetryOptions,
} from './retryStrategies.js'

export const retryPolicyName = 'retry'

export interface RetryPolicyOptions extends Partial<RetryOptions> {
  /** Absolute time (epoch ms) after which no wait may end; the run's schedule. */
  deadlineAt?: number | undefined
  random?: () => number
}

function throttled(outcome: AttemptOutcome, why: string, retryAfterMs: number | undefined): ThrottledError {
  const res = outcome.response as GraphResponse
  return new ThrottledError(
    `${outcome.request.operation}: throttled by Microsoft Graph (${res.status}); ${why}`,
    {
      status: res.status,
      graphCode: undefined,
      requestId: res.requestId,
      clientRequestId: res.clientRequestId,
      date: res.headers.date,
      operation: outcome.request.operation,
      retryAfterMs,
    },
  )
}

/**
 * The retry loop: attempt counter, abort, deadline, sleep. What to do after each attempt is
 * `decideRetry`'s call. A request still throttled when attempts run out ends in ThrottledError;
 * any other final response is returned for the caller to map.
 */
export function retryPolicy(options: RetryPolicyOptions = {}): PipelinePolicy {
  const o: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, ...definedOnly(options) }
  const random = options.random ?? Math.random
  return {
    name: retryPolicyName,
    async send(request, next) {
      for (let attempt = 1; ; attempt++) {
        if (request.signal?.aborted) throw new AbortedError(`${request.operation}: aborted`)
        // The run's deadline bounds every request, not only the waits between attempts: a run that
        // is still collecting when it passes stops instead of reading on (collection included).
        if (options.deadlineAt !== undefined && Date.now() > options.deadlineAt)
          throw new DeadlineError(`${request.operation}: the deadline has passed; not sent`)
        const attemptRequest = { ...request, attempt }
        const outcome: AttemptOutcome = { request: attemptRequest }
        try {
          outcome.response = await next(attemptRequest)
        } catch (error) {
          outcome.error = error
        }
        const now = Date.now()
        const decision = decideRetry(outcome, o, now, random)
        if (decision.kind === 'fail') throw decision.error
        if (decision.kind === 'done') {
          if (outcome.response !== undefined) return outcome.response
          throw outcome.error
        }
        const retryAfter = parseRetryAfter(outcome.response?.headers['retry-after'], now)
        if (attempt >= o.maxAttempts) {
          if (outcome.response?.status === 429)
            throw throttled(outcome, `gave up after ${attempt} attempts`, retryAfter)
          if (outcome.response !== undefined) return outcome.response
          throw outcome.error
        }
        if (options.deadlineAt !== undefined && now + decision.delayMs > options.deadlineAt) {
          if (outcome.response?.status === 429) {
            throw throttled(
              outcome,
              `${retryAfter === undefined ? 'backing off' : 'Retry-After asks for'} ${seconds(decision.delayMs)} before the next attempt, which would pass the deadline`,
              retryAfter,
            )
          }
          throw new DeadlineError(
            `${request.operation}: waiting ${decision.delayMs} ms to retry would pass the run's deadline`,
            {
              cause: outcome.error,
            },
          )
        }
        publishRetry({
          operation: request.operation,
          attempt,
          delayMs: decision.delayMs,
          reason: decision.reason,
        })
        await sleep(decision.delayMs, request.signal)
      }
    },
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
