import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  AbortedError,
  DeadlineError,
  isOutcomeUnknownError,
  isThrottledError,
  TransportError,
} from '../../errors.js'
import type { GraphRequest, GraphResponse } from '../http.js'
import { retryPolicy } from './retryPolicy.js'

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
  requestId: 'r',
  clientRequestId: 'c',
})

describe('retry policy', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits exactly the Retry-After before the second attempt', async () => {
    const next = vi
      .fn()
      .mockResolvedValueOnce(res(429, { 'retry-after': '2.5' }))
      .mockResolvedValueOnce(res(200))
    const p = retryPolicy({ random: () => 0.5 }).send(req(), next)
    await vi.advanceTimersByTimeAsync(2_499)
    expect(next).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(p).resolves.toMatchObject({ status: 200 })
    expect(next).toHaveBeenCalledTimes(2)
    expect(next.mock.calls[1]?.[0]).toMatchObject({ attempt: 2 })
  })

  it('retries a 429 without Retry-After with backoff, at most maxAttempts times, then throws ThrottledError', async () => {
    const next = vi.fn().mockResolvedValue(res(429))
    const p = retryPolicy({ maxAttempts: 5, baseDelayMs: 100, random: () => 1 })
      .send(req(), next)
      .catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800)
    const error = await p
    expect(isThrottledError(error)).toBe(true)
    expect(next).toHaveBeenCalledTimes(5)
  })

  it('returns a final 503 to the caller after the attempts run out', async () => {
    const next = vi.fn().mockResolvedValue(res(503))
    const p = retryPolicy({ maxAttempts: 2, baseDelayMs: 10, random: () => 1 }).send(req(), next)
    await vi.advanceTimersByTimeAsync(10)
    await expect(p).resolves.toMatchObject({ status: 503 })
  })

  it('stops waiting at once when aborted', async () => {
    const controller = new AbortController()
    const next = vi.fn().mockResolvedValue(res(429, { 'retry-after': '30' }))
    const p = retryPolicy()
      .send(req({ signal: controller.signal }), next)
      .catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(1_000)
    controller.abort()
    expect(await p).toBeInstanceOf(AbortedError)
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('fails fast with ThrottledError when Retry-After would pass the deadline', async () => {
    const next = vi.fn().mockResolvedValue(res(429, { 'retry-after': '60' }))
    const error = await retryPolicy({ deadlineAt: Date.now() + 10_000 })
      .send(req(), next)
      .catch((e: unknown) => e)
    expect(isThrottledError(error)).toBe(true)
    expect((error as { retryAfterMs: number }).retryAfterMs).toBe(60_000)
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('waits a Retry-After of 5 minutes in full when the deadline allows it', async () => {
    const next = vi
      .fn()
      .mockResolvedValueOnce(res(429, { 'retry-after': '300' }))
      .mockResolvedValue(res(200))
    const p = retryPolicy({ deadlineAt: Date.now() + 3_600_000 }).send(req(), next)
    await vi.advanceTimersByTimeAsync(299_000)
    expect(next).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect((await p).status).toBe(200)
    expect(next).toHaveBeenCalledTimes(2)
  })

  it('names the wait Graph asked for when it would pass the deadline', async () => {
    const next = vi.fn().mockResolvedValue(res(429, { 'retry-after': '600' }))
    const error = await retryPolicy({ deadlineAt: Date.now() + 60_000 })
      .send(req(), next)
      .catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/Retry-After asks for 600 s .*deadline/)
  })

  it('fails fast with DeadlineError when a backoff would pass the deadline', async () => {
    const next = vi
      .fn()
      .mockRejectedValue(new TransportError('x', { phase: 'connect', causeCode: 'ECONNREFUSED' }))
    const error = await retryPolicy({ deadlineAt: Date.now() + 10, baseDelayMs: 1_000, random: () => 1 })
      .send(req(), next)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
  })

  it('never resends a POST whose connection broke after it was sent', async () => {
    const next = vi
      .fn()
      .mockRejectedValue(new TransportError('x', { phase: 'exchange', causeCode: 'ECONNRESET' }))
    const error = await retryPolicy()
      .send(req({ method: 'POST', idempotent: false }), next)
      .catch((e: unknown) => e)
    expect(isOutcomeUnknownError(error)).toBe(true)
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('resends a POST that could not connect', async () => {
    const next = vi
      .fn()
      .mockRejectedValueOnce(new TransportError('x', { phase: 'connect', causeCode: 'ECONNREFUSED' }))
      .mockResolvedValueOnce(res(204))
    const p = retryPolicy({ baseDelayMs: 10, random: () => 1 }).send(
      req({ method: 'POST', idempotent: false }),
      next,
    )
    await vi.advanceTimersByTimeAsync(10)
    await expect(p).resolves.toMatchObject({ status: 204 })
  })

  it('passes non-transient errors through untouched', async () => {
    const boom = new Error('boom')
    const next = vi.fn().mockRejectedValue(boom)
    await expect(retryPolicy().send(req(), next)).rejects.toBe(boom)
    expect(next).toHaveBeenCalledTimes(1)
  })
})
