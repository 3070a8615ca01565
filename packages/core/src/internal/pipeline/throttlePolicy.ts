import { publishThrottleWait } from '../diagnostics.js'
import type { ThrottleScope } from '../http.js'
import type { PipelinePolicy } from './pipeline.js'
import { TokenBucket, type TokenBucketOptions } from './tokenBucket.js'

export const throttlePolicyName = 'throttle'

export type ThrottleLimits = Record<ThrottleScope, TokenBucketOptions>

/**
 * Graph's documented budgets. Identity Protection allows 1 request/s per tenant for all apps and its
 * 429s carry no Retry-After, so the client paces itself instead of learning the limit from 429s, 5%
 * under the limit: requests sent exactly 1 s apart can arrive closer than that after network
 * jitter, and one 429 costs far more than the margin (docs/decisions/003).
 * Directory writes: 3,000 per 150 s per app and tenant.
 * Defender for Identity (`/security/identities`): no limit is documented (MDC
 * concepts/throttling-limits.md lists none for it), so a budget of our own keeps thousands of account lookups from arriving at once:
 * 10 requests/s after a burst of 20, each `$batch` item counting as one request (Graph throttles
 * batch items one by one). A 429 still answers with Retry-After, which is honoured.
 */
export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  identityProtection: { capacity: 1, refillPerSecond: 0.95 },
  directoryWrite: { capacity: 3_000, refillPerSecond: 3_000 / 150 },
  defenderForIdentity: { capacity: 20, refillPerSecond: 10 },
}

export interface ThrottlePolicy extends PipelinePolicy {
  readonly buckets: Readonly<Record<ThrottleScope, TokenBucket>>
}

/**
 * A budget that outlives one client: `tourniquet watch` builds a client per run, and its share of
 * Identity Protection is an average over every run, with a small burst (decision 015).
 */
export interface SharedBudget {
  take(tokens: number, signal?: AbortSignal): Promise<number>
  available(): number
}

export function createSharedBudget(options: TokenBucketOptions): SharedBudget {
  return new TokenBucket(options)
}

/**
 * Waits for each scope's tokens before the request goes out (a shared budget's first, then the
 * client's own pace, so a paced slot is not spent waiting on the share) and paces from when it
 * reached the wire (the transport's `onSent`); a 429 empties that scope's own bucket.
 */
export function throttlePolicy(
  limits: Partial<ThrottleLimits> = {},
  shared: Partial<Record<ThrottleScope, SharedBudget>> = {},
): ThrottlePolicy {
  const merged = { ...DEFAULT_THROTTLE_LIMITS, ...limits }
  const buckets: Record<ThrottleScope, TokenBucket> = {
    identityProtection: new TokenBucket(merged.identityProtection),
    directoryWrite: new TokenBucket(merged.directoryWrite),
    defenderForIdentity: new TokenBucket(merged.defenderForIdentity),
  }
  return {
    name: throttlePolicyName,
    buckets,
    async send(request, next) {
      for (const cost of request.throttle) {
        const share = shared[cost.scope]
        const waitedForShare = share === undefined ? 0 : await share.take(cost.tokens, request.signal)
        const waited = waitedForShare + (await buckets[cost.scope].take(cost.tokens, request.signal))
        if (waited > 0) publishThrottleWait({ scope: cost.scope, waitMs: waited })
      }
      if (request.throttle.length === 0) return next(request)
      // The service counts a request when it arrives, not when its token was granted: a request
      // that reaches the wire late (a connection being set up, a busy event loop) must push the
      // next one back by as much, or the two arrive closer than the budget allows.
      const grantedAt = Date.now()
      const onSent = request.onSent
      const response = await next({
        ...request,
        onSent: (at) => {
          for (const cost of request.throttle) buckets[cost.scope].spentLate(cost.tokens, at - grantedAt)
          onSent?.(at)
        },
      })
      if (response.status === 429) {
        for (const cost of request.throttle) buckets[cost.scope].drain()
      }
      return response
    },
  }
}
