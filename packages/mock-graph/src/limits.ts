/** Service-side throttling as Graph applies it: a token bucket per scope, refusing instead of waiting. */
export class ServiceBucket {
  private tokens: number
  private updatedAt: number

  constructor(
    readonly capacity: number,
    /** Tokens per ms. */
    readonly refillPerMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity
    this.updatedAt = now()
  }

  /**
   * Takes `n` tokens if available at `at` (default: now); otherwise returns how many ms until they
   * would be. Requests judged out of order (one that arrived earlier, judged later) refill nothing.
   */
  tryTake(n = 1, at = this.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = Math.max(at, this.updatedAt)
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs)
    this.updatedAt = now
    if (this.tokens >= n) {
      this.tokens -= n
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil((n - this.tokens) / this.refillPerMs) }
  }
}
