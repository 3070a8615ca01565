import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AbortedError } from '../../errors.js'
import { CHANNELS, type ThrottleWaitMessage } from '../diagnostics.js'
import type { GraphRequest, GraphResponse } from '../http.js'
import { createSharedBudget, DEFAULT_THROTTLE_LIMITS, throttlePolicy } from './throttlePolicy.js'
import { TokenBucket } from './tokenBucket.js'

const ip = (): GraphRequest => ({
  method: 'GET',
  url: new URL('https://graph.test/v1.0/identityProtection/riskyUsers'),
  headers: {},
  operation: 'riskyUsers.list',
  idempotent: true,
  throttle: [{ scope: 'identityProtection', tokens: 1 }],
  attempt: 1,
})
const ok: GraphResponse = {
  status: 200,
  headers: {},
  body: '',
  requestId: undefined,
  clientRequestId: undefined,
}

describe('token bucket', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('grants a burst up to capacity, then paces at the refill rate', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 2 })
    const granted: number[] = []
    const start = Date.now()
    const all = Array.from({ length: 6 }, () => bucket.take(1).then(() => granted.push(Date.now() - start)))
    await vi.advanceTimersByTimeAsync(2_000)
    await Promise.all(all)
    expect(granted).toEqual([0, 0, 500, 1_000, 1_500, 2_000])
  })

  // An NTP step or a VM resume can move the wall clock back; in watch mode the shared budget lives
  // for days, so a debt of (step x rate) tokens would stop every run until the clock caught up.
  it('keeps pacing at its rate when the wall clock steps back an hour', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 })
    await bucket.take(1)
    vi.setSystemTime(Date.now() - 3_600_000)
    let waited: number | undefined
    void bucket.take(1).then((ms) => {
      waited = ms
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(waited).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(waited).toBe(1_000)
  })

  it('does not refill early when the wall clock steps forward', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 })
    await bucket.take(1)
    vi.setSystemTime(Date.now() + 3_600_000)
    expect(bucket.available()).toBe(0)
  })

  it('lets the waiters behind an aborted one go on', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initial: 0 })
    const controller = new AbortController()
    const first = bucket.take(1, controller.signal).catch((e: unknown) => e)
    const second = bucket.take(1)
    controller.abort()
    expect(await first).toBeInstanceOf(AbortedError)
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(second).resolves.toBe(1_000)
  })
})

describe('throttle policy', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('paces Identity Protection from when each request reached the wire, not from when its token was granted', async () => {
    const policy = throttlePolicy()
    const onWire: number[] = []
    const start = Date.now()
    // Every other request waits 80 ms for its connection before undici writes it.
    const next = vi.fn(async (request: GraphRequest) => {
      const late = onWire.length % 2 === 0 ? 80 : 0
      await new Promise((r) => setTimeout(r, late))
      onWire.push(Date.now() - start)
      request.onSent?.(Date.now())
      return ok
    })
    const all = Array.from({ length: 6 }, () => policy.send(ip(), next))
    await vi.advanceTimersByTimeAsync(7_000)
    await Promise.all(all)
    const gaps = onWire.slice(1).map((t, i) => t - (onWire[i] ?? 0))
    // 0.95 requests/s: at least 1,053 ms between two arrivals, whatever the wire's delays.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_052)
  })

  it('paces Identity Protection just under 1 request per second per tenant by default', async () => {
    const policy = throttlePolicy()
    const sentAt: number[] = []
    const start = Date.now()
    const next = vi.fn(async () => {
      sentAt.push(Date.now() - start)
      return ok
    })
    const all = Promise.all([policy.send(ip(), next), policy.send(ip(), next), policy.send(ip(), next)])
    await vi.advanceTimersByTimeAsync(2_200)
    await all
    expect(sentAt).toEqual([0, 1_053, 2_106])
  })

  it('allows directory writes at 3,000 per 150 s (20/s after the burst)', () => {
    const policy = throttlePolicy()
    expect(policy.buckets.directoryWrite.capacity).toBe(3_000)
    expect(policy.buckets.directoryWrite.refillPerMs * 1000).toBeCloseTo(20)
  })

  it('empties the scope bucket when the service answers 429 anyway (another app spent the tenant budget)', async () => {
    const policy = throttlePolicy({ identityProtection: { capacity: 5, refillPerSecond: 1 } })
    await policy.send(ip(), async () => ({ ...ok, status: 429 }))
    expect(policy.buckets.identityProtection.available()).toBe(0)
  })

  it('paces Defender for Identity at 10 requests/s after a burst of 20 by default', () => {
    const policy = throttlePolicy()
    expect(DEFAULT_THROTTLE_LIMITS.defenderForIdentity).toEqual({ capacity: 20, refillPerSecond: 10 })
    expect(policy.buckets.defenderForIdentity.capacity).toBe(20)
    expect(policy.buckets.defenderForIdentity.refillPerMs * 1000).toBeCloseTo(10)
    expect(policy.buckets.identityProtection.capacity).toBe(1)
  })

  it('takes limits given for one scope and keeps the defaults of the others', () => {
    const policy = throttlePolicy({ directoryWrite: { capacity: 7, refillPerSecond: 1 } })
    expect(policy.buckets.directoryWrite.capacity).toBe(7)
    expect(policy.buckets.identityProtection.refillPerMs * 1000).toBeCloseTo(0.95)
  })

  it('empties only the buckets of the throttled request, and none on other statuses', async () => {
    const policy = throttlePolicy({
      identityProtection: { capacity: 5, refillPerSecond: 1 },
      directoryWrite: { capacity: 5, refillPerSecond: 1 },
    })
    await policy.send(ip(), async () => ({ ...ok, status: 503 }))
    expect(policy.buckets.identityProtection.available()).toBe(4)
    await policy.send(ip(), async () => ({ ...ok, status: 429 }))
    expect(policy.buckets.identityProtection.available()).toBe(0)
    expect(policy.buckets.directoryWrite.available()).toBe(5)
  })

  it('takes the tokens of every scope a request costs', async () => {
    const policy = throttlePolicy({ directoryWrite: { capacity: 10, refillPerSecond: 1 } })
    await policy.send({ ...ip(), throttle: [{ scope: 'directoryWrite', tokens: 3 }] }, async () => ok)
    expect(policy.buckets.directoryWrite.available()).toBe(7)
  })

  it('reports a request that reached the wire late to the caller too, and charges the lateness to the scope', async () => {
    const policy = throttlePolicy({ identityProtection: { capacity: 2, refillPerSecond: 1 } })
    const seen: number[] = []
    const at = Date.now() + 500
    await policy.send({ ...ip(), onSent: (t) => seen.push(t) }, async (request) => {
      request.onSent?.(at)
      return ok
    })
    expect(seen).toEqual([at])
    // One token taken, and half of the one refilled since counted as spent late.
    expect(policy.buckets.identityProtection.available()).toBeCloseTo(0.5)
  })

  it('publishes each wait for a budget on the throttle-wait channel, and nothing when it did not wait', async () => {
    const waits: ThrottleWaitMessage[] = []
    const listener = (m: unknown): void => {
      waits.push(m as ThrottleWaitMessage)
    }
    subscribe(CHANNELS.throttleWait, listener)
    try {
      const policy = throttlePolicy({ identityProtection: { capacity: 1, refillPerSecond: 2 } })
      await policy.send(ip(), async () => ok)
      expect(waits).toEqual([])
      const second = policy.send(ip(), async () => ok)
      await vi.advanceTimersByTimeAsync(500)
      await second
      expect(waits).toEqual([{ scope: 'identityProtection', waitMs: 500 }])
    } finally {
      unsubscribe(CHANNELS.throttleWait, listener)
    }
  })

  it('does not touch requests without a throttle cost', async () => {
    const policy = throttlePolicy({ identityProtection: { capacity: 1, refillPerSecond: 1, initial: 0 } })
    const next = vi.fn(async () => ok)
    const request = { ...ip(), throttle: [] }
    await policy.send(request, next)
    expect(next).toHaveBeenCalledTimes(1)
    // Handed on as it came: no onSent of the policy's own wrapped around it.
    expect(next).toHaveBeenCalledWith(request)
  })
})

describe('a budget shared by clients', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('holds clients together to its average after its burst, each still at its own pace', async () => {
    // Two runs of `tourniquet watch`, one client each: a share of 0.2 request/s with a burst of 3.
    const share = createSharedBudget({ capacity: 3, refillPerSecond: 0.2 })
    const start = Date.now()
    const sender = (sentAt: number[]) => async () => {
      sentAt.push(Date.now() - start)
      return ok
    }
    const first: number[] = []
    const a = throttlePolicy({}, { identityProtection: share })
    const all = Array.from({ length: 3 }, () => a.send(ip(), sender(first)))
    await vi.advanceTimersByTimeAsync(3_000)
    await Promise.all(all)
    // The burst: the first client's own pace (0.95/s) is the only wait.
    expect(first).toEqual([0, 1_053, 2_106])
    const second: number[] = []
    const b = throttlePolicy({}, { identityProtection: share })
    const more = Array.from({ length: 2 }, () => b.send(ip(), sender(second)))
    await vi.advanceTimersByTimeAsync(10_000)
    await Promise.all(more)
    // The burst is spent (0.6 tokens back by 3 s): the second client waits for the share, whatever
    // its own bucket holds.
    expect(second).toEqual([5_000, 10_000])
    expect(share.available()).toBeLessThan(3)
  })
})
