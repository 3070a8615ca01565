/**
 * Retry decisions, separate from the retry loop: each function is pure and answers one question
 * about one attempt, so every rule is a one-line unit test.
 */
import { isTransportError, OutcomeUnknownError, type TransportError } from '../../errors.js'
import type { GraphRequest, GraphResponse } from '../http.js'

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number
  /** First backoff step when the service gives no Retry-After. */
  baseDelayMs: number
  /** Largest backoff step (a Retry-After is honoured in full: only the run's deadline bounds it). */
  maxDelayMs: number
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 32_000,
}

export type RetryDecision =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'fail'; error: Error }

export interface AttemptOutcome {
  request: GraphRequest
  response?: GraphResponse | undefined
  error?: unknown
  /**
   * The outcome of one item of a `$batch`: its status came inside the batch's 200, so no throttle
   * policy saw its 429 and drained a bucket that would time the resend.
   */
  batchItem?: boolean | undefined
}

const RETRYABLE_STATUS = new Set([429, 503, 504])
// Statuses after which the service provably did not act on the request.
const NOT_PROCESSED_STATUS = new Set([429, 503])

/** Parses Retry-After as decimal seconds or an HTTP date (a past date means now). */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000)
  // An HTTP date names a weekday and month; anything else (a negative number, say) is garbage.
  if (!/^[A-Za-z]{3}, /.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMs)
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/**
 * Whether a failed non-idempotent request may be sent again: only when nothing reached the
 * service, or the service said it did not process it.
 */
export function safeToResend(outcome: AttemptOutcome): boolean {
  if (outcome.request.idempotent) return true
  if (outcome.response !== undefined) return NOT_PROCESSED_STATUS.has(outcome.response.status)
  return isTransportError(outcome.error) && outcome.error.phase === 'connect'
}

function isRetryableTransport(error: unknown): error is TransportError {
  if (!isTransportError(error)) return false
  // A certificate problem will not fix itself on a second try.
  return !/CERT|SELF_SIGNED|UNABLE_TO/.test(error.causeCode ?? '')
}

/** Decides what to do after one attempt. `random` is injected so tests are deterministic. */
export function decideRetry(
  outcome: AttemptOutcome,
  options: RetryOptions,
  nowMs: number,
  random: () => number,
): RetryDecision {
  const { request, response, error } = outcome
  const transient =
    (response !== undefined && RETRYABLE_STATUS.has(response.status)) ||
    (response === undefined && isRetryableTransport(error))
  if (!transient) return { kind: 'done' }
  if (!safeToResend(outcome)) {
    return {
      kind: 'fail',
      error: new OutcomeUnknownError(
        `${request.operation}: ${response ? `the service answered ${response.status}` : 'the connection broke'} after the request was sent; ` +
          'it may or may not have been applied, so it is not sent again blindly (read the state first)',
        { operation: request.operation },
        { cause: error },
      ),
    }
  }
  const retryAfter = parseRetryAfter(response?.headers['retry-after'], nowMs)
  if (retryAfter !== undefined) {
    // The full value: Graph counts a request sent before Retry-After has passed against the app and
    // answers another 429 (MDC concepts/throttling.md). The retry loop compares the wait with the
    // run's deadline and fails fast, naming the wait, when it would pass it.
    return { kind: 'retry', delayMs: retryAfter, reason: `status ${response?.status} with Retry-After` }
  }
  if (
    response?.status === 429 &&
    request.throttle.length > 0 &&
    request.attempt === 1 &&
    !outcome.batchItem
  ) {
    // A budget the client paces (Identity Protection's 1 request/s answers 429 without
    // Retry-After): the throttle policy drained its bucket on this 429, so the resend already waits
    // one refill interval, the time the budget needs. A blind backoff on top would only add idle
    // time; later attempts back off as usual in case another app spends the shared budget.
    // A batch item backs off from its first resend: its share of the batch's cost is not the
    // interval its scope needs, and Graph asks for exponential backoff when it gives no
    // Retry-After (MDC concepts/throttling.md).
    return {
      kind: 'retry',
      delayMs: 0,
      reason: 'status 429 without Retry-After: the paced budget times the resend',
    }
  }
  const reason = response
    ? `status ${response.status} without Retry-After`
    : `transport error ${(error as TransportError).causeCode ?? ''}`
  return { kind: 'retry', delayMs: backoffDelay(request.attempt, options, random), reason }
}
