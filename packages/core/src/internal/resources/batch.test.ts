import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isDeadlineError, isOutcomeUnknownError, isThrottledError } from '../../errors.js'
import { GraphHttp } from '../graphHttp.js'
import type { GraphRequest } from '../http.js'
import { TokenBucket } from '../pipeline/tokenBucket.js'
import { BATCH_MAX_ITEMS, Batch, type BatchItem, type BatchSettings, batchRequest } from './batch.js'

interface ItemAnswer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}
type Answer = (id: string, round: number) => ItemAnswer | undefined

/**
 * A `$batch` endpoint in memory: each item is answered by `answer` (undefined leaves it out of the
 * response), and every batch that reaches the wire is recorded with the time it was sent.
 */
function fakeBatchEndpoint(answer: Answer) {
  const sent: Array<{ at: number; ids: string[]; request: GraphRequest }> = []
  const http = new GraphHttp(
    async (request) => {
      const { requests } = JSON.parse(request.body ?? '{}') as { requests: Array<{ id: string }> }
      sent.push({ at: Date.now(), ids: requests.map((r) => r.id), request })
      const responses = requests.flatMap((r) => {
        const a = answer(r.id, sent.length)
        return a === undefined ? [] : [{ id: r.id, headers: {}, ...a }]
      })
      return {
        status: 200,
        headers: { 'request-id': `batch-${sent.length}` },
        body: JSON.stringify({ responses: responses.reverse() }),
        requestId: `batch-${sent.length}`,
        clientRequestId: undefined,
      }
    },
    'https://graph.test',
    'v1.0',
  )
  return { http, sent }
}

const write = (id: string): BatchItem => ({
  id,
  method: 'PATCH',
  url: `/users/${id}`,
  body: { accountEnabled: false },
  operation: 'users.setAccountEnabled',
  throttle: [{ scope: 'directoryWrite', tokens: 1 }],
})
const read = (id: string): BatchItem => ({ id, method: 'GET', url: `/users/${id}`, operation: 'users.get' })
const throttled = (headers: Record<string, string> = {}): ItemAnswer => ({
  status: 429,
  headers,
  body: { error: { code: 'TooManyRequests', message: 'Too many requests' } },
})

const settings = (extra: BatchSettings = {}): BatchSettings => ({
  retry: { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 8_000 },
  random: () => 0.5,
  ...extra,
})

describe('Batch', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('sends an item answered 429 without Retry-After again only after a backoff, growing each time', async () => {
    // Full jitter with random 0.5: half of 1 s, then half of 2 s.
    const { http, sent } = fakeBatchEndpoint((id, round) =>
      id === 'b' && round < 3 ? throttled() : { status: 204 },
    )
    const done = new Batch(http, settings()).execute([write('a'), write('b')])
    await vi.advanceTimersByTimeAsync(0)
    expect(sent.map((s) => s.ids)).toEqual([['a', 'b']])
    await vi.advanceTimersByTimeAsync(499)
    expect(sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent.map((s) => s.ids)).toEqual([['a', 'b'], ['b']])
    await vi.advanceTimersByTimeAsync(999)
    expect(sent).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent.map((s) => s.at - (sent[0]?.at ?? 0))).toEqual([0, 500, 1_500])
    const results = await done
    expect(results.get('b')).toMatchObject({ status: 204, attempts: 3, error: undefined })
    expect(results.get('a')).toMatchObject({ status: 204, attempts: 1 })
  })

  it("drains the bucket of a throttled item's scope, and only that scope's, as a whole request's 429 does", async () => {
    const buckets = {
      directoryWrite: new TokenBucket({ capacity: 10, refillPerSecond: 1 }),
      defenderForIdentity: new TokenBucket({ capacity: 10, refillPerSecond: 1 }),
    }
    const { http } = fakeBatchEndpoint((id, round) =>
      id === 'b' && round === 1 ? throttled() : { status: 204 },
    )
    const done = new Batch(http, settings({ buckets })).execute([write('a'), write('b'), read('c')])
    await vi.advanceTimersByTimeAsync(0)
    expect(buckets.directoryWrite.available()).toBe(0)
    expect(buckets.defenderForIdentity.available()).toBe(10)
    await vi.advanceTimersByTimeAsync(500)
    await done
  })

  it('does not drain any bucket when no item is throttled', async () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1 })
    const { http } = fakeBatchEndpoint((id, round) =>
      id === 'a' && round === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 204 },
    )
    const done = new Batch(http, settings({ buckets: { directoryWrite: bucket } })).execute([
      write('a'),
      write('b'),
    ])
    await vi.advanceTimersByTimeAsync(0)
    expect(bucket.available()).toBe(10)
    await vi.advanceTimersByTimeAsync(1_000)
    await done
  })

  it("waits out an item's own Retry-After in full before sending it again", async () => {
    const { http, sent } = fakeBatchEndpoint((id, round) =>
      id === 'a' && round === 1 ? throttled({ 'Retry-After': '3' }) : { status: 204 },
    )
    const done = new Batch(http, settings()).execute([read('a')])
    await vi.advanceTimersByTimeAsync(2_999)
    expect(sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toHaveLength(2)
    expect((await done).get('a')).toMatchObject({ status: 204, attempts: 2 })
  })

  it('gives up on an item after maxAttempts with a ThrottledError, sending it maxAttempts times', async () => {
    const { http, sent } = fakeBatchEndpoint(() => throttled({ 'Retry-After': '1' }))
    const done = new Batch(http, settings()).execute([read('a')])
    await vi.advanceTimersByTimeAsync(10_000)
    const result = (await done).get('a')
    expect(sent).toHaveLength(4)
    expect(result).toMatchObject({ status: 429, attempts: 4 })
    expect(isThrottledError(result?.error)).toBe(true)
  })

  it("fails an item at once, naming the wait, when its backoff would pass the run's deadline", async () => {
    const { http, sent } = fakeBatchEndpoint(() => throttled())
    const done = new Batch(http, settings({ deadlineAt: Date.now() + 400 })).execute([write('a')])
    await vi.advanceTimersByTimeAsync(0)
    const result = (await done).get('a')
    expect(sent).toHaveLength(1)
    expect(result).toMatchObject({ status: 429, attempts: 1, body: undefined, requestId: undefined })
    expect(isDeadlineError(result?.error)).toBe(true)
    expect(result?.error?.message).toBe(
      "users.setAccountEnabled: throttled; the next attempt is due in 1 s (the service's Retry-After, or a backoff when it gave none), which would pass the run's deadline",
    )
  })

  it('waits for a retry that ends exactly at the deadline', async () => {
    const { http, sent } = fakeBatchEndpoint((_id, round) => (round === 1 ? throttled() : { status: 204 }))
    const done = new Batch(http, settings({ deadlineAt: Date.now() + 500 })).execute([write('a')])
    await vi.advanceTimersByTimeAsync(500)
    expect(sent).toHaveLength(2)
    expect((await done).get('a')).toMatchObject({ status: 204, error: undefined })
  })

  it('does not resend a non-idempotent POST item after a 504 (the outcome is unknown)', async () => {
    const { http, sent } = fakeBatchEndpoint(() => ({ status: 504 }))
    const item: BatchItem = {
      id: 'r',
      method: 'POST',
      url: '/users/r/revokeSignInSessions',
      operation: 'users.revokeSignInSessions',
    }
    const results = await new Batch(http, settings()).execute([item])
    expect(sent).toHaveLength(1)
    expect(isOutcomeUnknownError(results.get('r')?.error)).toBe(true)
    expect(sent[0]?.request.idempotent).toBe(false)
  })

  it('reports an item the response leaves out, with the batch request-id', async () => {
    const { http } = fakeBatchEndpoint((id) => (id === 'gone' ? undefined : { status: 200, body: { id } }))
    const results = await new Batch(http, settings()).execute([read('here'), read('gone')])
    expect(results.get('here')).toMatchObject({ status: 200, body: { id: 'here' }, error: undefined })
    expect(results.get('gone')).toMatchObject({ status: 0, requestId: 'batch-1', attempts: 1 })
    expect(results.get('gone')?.error?.message).toBe(
      "users.get: the $batch response has no entry for item 'gone'",
    )
  })

  it("keeps each item's own request-id and status, and maps a failure to the Graph error", async () => {
    const { http } = fakeBatchEndpoint((id) =>
      id === 'bad'
        ? {
            status: 404,
            headers: { 'Request-Id': 'item-r' },
            body: { error: { code: 'Request_ResourceNotFound', message: 'gone' } },
          }
        : { status: 200, body: { id } },
    )
    const results = await new Batch(http, settings()).execute([read('ok'), read('bad')])
    expect(results.get('ok')).toMatchObject({ requestId: 'batch-1', headers: {} })
    expect(results.get('bad')).toMatchObject({
      status: 404,
      requestId: 'item-r',
      headers: { 'request-id': 'item-r' },
      error: { graphCode: 'Request_ResourceNotFound', status: 404 },
    })
  })

  it('sends at most 20 items a batch and 4 batches a round, and charges each batch the sum of its items', async () => {
    const { http, sent } = fakeBatchEndpoint(() => ({ status: 204 }))
    const items = Array.from({ length: 90 }, (_, i) => write(`u${i}`))
    const rounds: number[] = []
    for await (const round of new Batch(http, settings()).stream(items)) rounds.push(round.length)
    expect(BATCH_MAX_ITEMS).toBe(20)
    expect(sent.map((s) => s.ids.length)).toEqual([20, 20, 20, 20, 10])
    expect(rounds).toEqual([80, 10])
    expect(sent[0]?.request.throttle).toEqual([{ scope: 'directoryWrite', tokens: 20 }])
    expect(sent[0]?.request.idempotent).toBe(true)
    expect(sent[0]?.request.url.href).toBe('https://graph.test/v1.0/$batch')
  })

  it('sends no throttle cost for items that carry none', async () => {
    const { http, sent } = fakeBatchEndpoint(() => ({ status: 200, body: {} }))
    await new Batch(http, settings()).execute([read('a'), read('b')])
    expect(sent[0]?.request.throttle).toEqual([])
  })

  it('refuses duplicate ids, absolute urls and a body on a read before sending anything', async () => {
    const { http, sent } = fakeBatchEndpoint(() => ({ status: 204 }))
    const batch = new Batch(http, settings())
    await expect(batch.execute([read('a'), read('a')])).rejects.toThrow("batch item id 'a' is not unique")
    await expect(batch.execute([{ ...read('a'), url: 'https://graph.test/v1.0/users/a' }])).rejects.toThrow(
      "batch item 'a' url must be relative and start with '/'",
    )
    await expect(batch.execute([{ ...read('a'), body: {} }])).rejects.toThrow(
      "batch item 'a' is a GET: it carries no body",
    )
    expect(sent).toHaveLength(0)
  })
})

describe('batchRequest', () => {
  it('gives a write a JSON body and Content-Type, {} when it has none, and a read neither', () => {
    expect(
      batchRequest({ id: '1', method: 'POST', url: '/x', operation: 'users.revokeSignInSessions' }),
    ).toEqual({
      id: '1',
      method: 'POST',
      url: '/x',
      headers: { 'Content-Type': 'application/json' },
      body: {},
    })
    expect(batchRequest({ ...read('2'), method: 'PUT', body: { a: 1 } })).toMatchObject({ body: { a: 1 } })
    expect(batchRequest(read('3'))).toEqual({ id: '3', method: 'GET', url: '/users/3' })
  })
})
