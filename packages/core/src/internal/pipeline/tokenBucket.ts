import { sleep } from '../timing.js'

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the largest burst. */
  capacity: number
  /** Tokens added per second. */
  refillPerSecond: number
  /** Tokens at start; defaults to capacity. */
  initial?: number
  /**
   * Milliseconds on a clock that never steps backwards; defaults to `performance.now()`. Not the
   * wall clock: a backward step of D would leave a debt of D x rate, and a shared budget (watch)
   * keeps that debt across runs.
   */
  clock?: () => number
}

const monotonic = (): number => performance.now()

/**
 * A token bucket with FIFO waiters. `take` resolves when the tokens are granted; waiting is
 * abortable and never spins: it sleeps exactly until enough tokens have accrued.
 */
export class TokenBucket {
  readonly capacity: number
  readonly refillPerMs: number
  private tokens: number
  private updatedAt: number
  private readonly now: () => number
  private tail: Promise<void> = Promise.resolve()

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0) || !(options.refillPerSecond > 0)) {
      throw new RangeError('token bucket capacity and refill rate must be positive')
    }
    this.capacity = options.capacity
    this.refillPerMs = options.refillPerSecond / 1000
    this.tokens = Math.min(options.initial ?? options.capacity, options.capacity)
    this.now = options.clock ?? monotonic
    this.updatedAt = this.now()
  }

  /** Takes `n` tokens (clamped to capacity); returns how long the caller waited in ms. */
  take(n: number, signal?: AbortSignal): Promise<number> {
    const want = Math.min(n, this.capacity)
    const started = this.now()
    const turn = this.tail.then(async () => {
      for (;;) {
        this.refill()
        if (this.tokens >= want) {
          this.tokens -= want
          return this.now() - started
        }
        await sleep(Math.ceil((want - this.tokens) / this.refillPerMs), signal)
      }
    })
    // A waiter that aborts must not block the ones behind it.
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    )
    return turn
  }

  /**
   * `n` tokens granted earlier were spent `lateMs` later than granted (the request reached the wire
   * then): the refill they make room for starts from that moment, as if they had been taken then.
   */
  spentLate(n: number, lateMs: number): void {
    if (!(lateMs > 0)) return
    this.refill()
    this.tokens -= Math.min(Math.min(n, this.capacity), lateMs * this.refillPerMs)
  }

  /** Empties the bucket: the service said the shared budget is spent (a 429 we did not predict). */
  drain(): void {
    this.refill()
    // Below zero already (tokens spent late): keep that debt.
    this.tokens = Math.min(this.tokens, 0)
  }

  available(): number {
    this.refill()
    return this.tokens
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs)
    this.updatedAt = now
  }
}
