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

  /** Takes `n` tokens if available; otherwise returns how many ms until they would be. */
  tryTake(n = 1): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs)
    this.updatedAt = now
    if (this.tokens >= n) {
      this.tokens -= n
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil((n - this.tokens) / this.refillPerMs) }
  }
}
