import { describe, expect, it } from 'vitest'
import { OutcomeUnknownError, TransportError } from '../../errors.js'
import type { GraphRequest, GraphResponse } from '../http.js'
import {
  backoffDelay,
  DEFAULT_RETRY_OPTIONS,
  decideRetry,
  parseRetryAfter,
  safeToResend,
} from './retryStrategies.js'

const NOW = Date.parse('2026-11-26T10:00:00Z')
const req = (over: Partial<GraphRequest> = {}): GraphRequest => ({
  method: 'GET',
  url: new URL('https://graph.test/v1.0/x'),
  headers: {},
  operation: 'users.get',
  idempotent: true,
  throttle: [],
  attempt: 1,
  ...over,
})
const res = (status: number, headers: Record<string, string> = {}): GraphResponse => ({
  status,
  headers,
  body: '',
  requestId: undefined,
  clientRequestId: undefined,
})
const post = (over: Partial<GraphRequest> = {}) => req({ method: 'POST', idempotent: false, ...over })
const connectError = () => new TransportError('x', { phase: 'connect', causeCode: 'ECONNREFUSED' })
const resetError = () => new TransportError('x', { phase: 'exchange', causeCode: 'ECONNRESET' })

describe('parseRetryAfter', () => {
  it('reads whole seconds', () => expect(parseRetryAfter('10', NOW)).toBe(10_000))
  it('reads decimal seconds (Graph sends 2.128)', () => expect(parseRetryAfter('2.128', NOW)).toBe(2_128))
  it('reads an HTTP date relative to now', () =>
    expect(parseRetryAfter('Thu, 26 Nov 2026 10:00:07 GMT', NOW)).toBe(7_000))
  it('treats a past HTTP date as zero', () =>
    expect(parseRetryAfter('Thu, 26 Nov 2026 09:00:00 GMT', NOW)).toBe(0))
  it('reads a value with spaces around it', () => expect(parseRetryAfter(' 3 ', NOW)).toBe(3_000))
  it('rounds fractions of a millisecond up, never down', () => expect(parseRetryAfter('0.0001', NOW)).toBe(1))
  it.each(['3s', 'x3', '3.', '26 Nov 2026 10:00:07 GMT', 'Thu, not a date'])(
    'ignores %j (neither decimal seconds nor an HTTP date)',
    (value) => expect(parseRetryAfter(value, NOW)).toBeUndefined(),
  )
  it('ignores garbage and absence', () => {
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter('-3', NOW)).toBeUndefined()
    expect(parseRetryAfter('', NOW)).toBeUndefined()
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
  })
})

describe('backoffDelay (full jitter)', () => {
  it('stays within [0, base * 2^(attempt-1)]', () => {
    const o = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 10_000 }
    expect(backoffDelay(1, o, () => 0.999)).toBeLessThanOrEqual(100)
    expect(backoffDelay(3, o, () => 0.999)).toBeLessThanOrEqual(400)
    expect(backoffDelay(3, o, () => 0.999)).toBeGreaterThan(390)
    expect(backoffDelay(3, o, () => 0)).toBe(0)
  })
  it('doubles its ceiling each attempt and draws a whole number of ms below it', () => {
    const o = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 10_000 }
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, o, () => 0.5))).toEqual([50, 100, 200, 400])
    expect(backoffDelay(3, o, () => 0.999)).toBe(399)
    // An attempt number below 1 is treated as the first.
    expect(backoffDelay(0, o, () => 0.5)).toBe(50)
  })
  it('never exceeds maxDelayMs however many attempts', () => {
    const o = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 1_000 }
    expect(backoffDelay(40, o, () => 0.999)).toBeLessThanOrEqual(1_000)
  })
})

describe('safeToResend', () => {
  it('always for idempotent requests', () =>
    expect(safeToResend({ request: req(), error: resetError() })).toBe(true))
  it('for a POST answered 429 or 503 (not processed)', () => {
    expect(safeToResend({ request: post(), response: res(429) })).toBe(true)
    expect(safeToResend({ request: post(), response: res(503) })).toBe(true)
  })
  it('not for a POST answered 504 (may have been processed)', () =>
    expect(safeToResend({ request: post(), response: res(504) })).toBe(false))
  it('for a POST that never connected', () =>
    expect(safeToResend({ request: post(), error: connectError() })).toBe(true))
  it('not for a POST whose connection broke after sending', () =>
    expect(safeToResend({ request: post(), error: resetError() })).toBe(false))
})

describe('decideRetry', () => {
  const o = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 1_000 }
  const half = () => 0.5

  it('returns done for success and for non-transient errors', () => {
    expect(decideRetry({ request: req(), response: res(200) }, o, NOW, half).kind).toBe('done')
    expect(decideRetry({ request: req(), response: res(404) }, o, NOW, half).kind).toBe('done')
    expect(decideRetry({ request: req(), response: res(401) }, o, NOW, half).kind).toBe('done')
    expect(decideRetry({ request: req(), response: res(500) }, o, NOW, half).kind).toBe('done')
  })
  it('honours Retry-After on 429, 503 and 504', () => {
    for (const status of [429, 503, 504]) {
      expect(
        decideRetry({ request: req(), response: res(status, { 'retry-after': '3' }) }, o, NOW, half),
      ).toMatchObject({ kind: 'retry', delayMs: 3_000 })
    }
  })
  it('waits the full Retry-After, however long (an earlier resend earns another 429)', () => {
    expect(
      decideRetry({ request: req(), response: res(429, { 'retry-after': '3600' }) }, o, NOW, half),
    ).toMatchObject({ kind: 'retry', delayMs: 3_600_000 })
  })
  it('backs off exponentially on a 429 without Retry-After (Identity Protection sends none)', () => {
    expect(decideRetry({ request: req({ attempt: 1 }), response: res(429) }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 500,
    })
    expect(decideRetry({ request: req({ attempt: 3 }), response: res(429) }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 2_000,
    })
  })
  it('leaves the first resend of a paced budget to its drained bucket: no blind backoff on top', () => {
    const paced = (attempt: number) =>
      req({ attempt, throttle: [{ scope: 'identityProtection', tokens: 1 }] })
    expect(decideRetry({ request: paced(1), response: res(429) }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 0,
    })
    // Another app may be spending the tenant's shared budget: later attempts back off.
    expect(decideRetry({ request: paced(3), response: res(429) }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 2_000,
    })
    // A 503 is not the budget speaking: the usual backoff.
    expect(decideRetry({ request: paced(1), response: res(503) }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 500,
    })
  })
  it("backs off a $batch item's 429 from its first resend: no policy drained a bucket for it", () => {
    const item = req({ method: 'PATCH', throttle: [{ scope: 'directoryWrite', tokens: 1 }] })
    expect(decideRetry({ request: item, response: res(429), batchItem: true }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 500,
    })
    // Its own Retry-After still rules.
    expect(
      decideRetry(
        { request: item, response: res(429, { 'retry-after': '7' }), batchItem: true },
        o,
        NOW,
        half,
      ),
    ).toMatchObject({ kind: 'retry', delayMs: 7_000 })
  })
  it('retries connection failures of idempotent requests', () => {
    expect(decideRetry({ request: req(), error: resetError() }, o, NOW, half).kind).toBe('retry')
  })
  it('does not retry certificate failures', () => {
    const tls = new TransportError('x', { phase: 'connect', causeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    expect(decideRetry({ request: req(), error: tls }, o, NOW, half).kind).toBe('done')
  })
  it.each([
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  ])('does not retry the certificate failure %s', (causeCode) => {
    const tls = new TransportError('x', { phase: 'connect', causeCode })
    expect(decideRetry({ request: req(), error: tls }, o, NOW, half).kind).toBe('done')
  })
  it('retries a transport failure that names no cause, with the usual backoff', () => {
    const bare = new TransportError('x', { phase: 'connect', causeCode: undefined })
    expect(decideRetry({ request: req(), error: bare }, o, NOW, half)).toMatchObject({
      kind: 'retry',
      delayMs: 500,
      reason: 'transport error ',
    })
  })
  it('leaves an error that is not the transport to the caller', () => {
    expect(decideRetry({ request: req(), error: new Error('bug') }, o, NOW, half).kind).toBe('done')
  })
  it('says why it retries', () => {
    expect(decideRetry({ request: req(), response: res(503) }, o, NOW, half)).toMatchObject({
      reason: 'status 503 without Retry-After',
    })
    expect(
      decideRetry({ request: req(), response: res(503, { 'retry-after': '1' }) }, o, NOW, half),
    ).toMatchObject({ reason: 'status 503 with Retry-After' })
    expect(decideRetry({ request: req(), error: resetError() }, o, NOW, half)).toMatchObject({
      reason: 'transport error ECONNRESET',
    })
  })
  it('names what happened to a POST it will not resend, and keeps the cause', () => {
    const answered = decideRetry({ request: post(), response: res(504) }, o, NOW, half)
    expect(answered.kind === 'fail' && answered.error.message).toMatch(
      /^users\.get: the service answered 504 after the request was sent; it may or may not have been applied/,
    )
    const reset = resetError()
    const broke = decideRetry({ request: post(), error: reset }, o, NOW, half)
    expect(broke.kind === 'fail' && broke.error.message).toMatch(/^users\.get: the connection broke after/)
    expect(broke.kind === 'fail' && broke.error.cause).toBe(reset)
  })
  it('fails a POST with an unknown outcome instead of resending it', () => {
    const d = decideRetry({ request: post(), response: res(504) }, o, NOW, half)
    expect(d.kind).toBe('fail')
    expect(d.kind === 'fail' && d.error).toBeInstanceOf(OutcomeUnknownError)
    expect(decideRetry({ request: post(), error: resetError() }, o, NOW, half).kind).toBe('fail')
  })
  it('resends a POST the service refused with 429', () => {
    expect(decideRetry({ request: post(), response: res(429) }, o, NOW, half).kind).toBe('retry')
  })
})
