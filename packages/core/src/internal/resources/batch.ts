/**
 * JSON batching: at most 20 requests per `$batch`, results matched by id (the service answers in
 * any order). Each item is throttled on its own (the batch itself answers 200, MDC
 * concepts/json-batching.md): items that come back 429 (or 503/504 when safe to repeat) are sent
 * again, alone with the other failed items, once their own Retry-After has passed, or after an
 * exponential backoff with jitter when they carry none. The decision is the pipeline's
 * `decideRetry`, so items and whole requests follow one rule, and an item's 429 drains its scopes'
 * buckets as a whole request's 429 does in the throttle policy.
 */
import { DeadlineError, type GraphError } from '../../errors.js'
import { errorForResponse, type GraphHttp, parseWith } from '../graphHttp.js'
import type { GraphRequest, GraphResponse, HttpMethod, ThrottleCost, ThrottleScope } from '../http.js'
import type { GraphOperation } from '../permissions.js'
import { DEFAULT_RETRY_OPTIONS, decideRetry, type RetryOptions } from '../pipeline/retryStrategies.js'
import { batchResponseSchema } from '../schemas.js'
import { sleep } from '../timing.js'

export const BATCH_MAX_ITEMS = 20
const PARALLEL_BATCHES = 4

export interface BatchItem {
  /** Unique within one `execute` call. */
  id: string
  method: HttpMethod
  /** Relative to the versioned root, e.g. `/users/{id}`. */
  url: string
  body?: unknown
  operation: GraphOperation
  idempotent?: boolean
  throttle?: ThrottleCost[]
}

export interface BatchItemResult {
  id: string
  status: number
  headers: Record<string, string>
  body: unknown
  /** The item's own request-id, or the $batch request's when the item carries none. */
  requestId: string | undefined
  /** Set when the item did not succeed (status outside 2xx, or it was never answered). */
  error?: GraphError | Error | undefined
  attempts: number
}

export interface BatchOptions {
  signal?: AbortSignal | undefined
}

/** What a Batch shares with the client it belongs to. */
export interface BatchSettings {
  retry?: RetryOptions | undefined
  /** Jitter source for backoff; injected so tests are deterministic. */
  random?: (() => number) | undefined
  /** Absolute time (epoch ms) no item's wait may pass: the run's schedule. */
  deadlineAt?: number | undefined
  /**
   * The client's throttle buckets (the throttle policy's), drained when an item comes back 429: the
   * policy only sees the batch's 200, so it cannot tell that the scope's budget is spent.
   */
  buckets?: Readonly<Partial<Record<ThrottleScope, { drain(): void }>>> | undefined
}

interface Pending {
  item: BatchItem
  attempts: number
  dueAt: number
}

const WRITE_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PATCH', 'PUT'])

/**
 * One item of a `$batch` request body. Graph validates the whole batch before running any item, and
 * refuses it all (400 "Write request id : N does not contain Content-Type header or body.") when a
 * POST, PATCH or PUT item lacks either: so every write carries a JSON body, `{}` for operations that
 * take none (revokeSignInSessions), and the header spelled exactly `Content-Type` (MDC
 * concepts/json-batching.md; Softeria/ms-365-mcp-server issue 677). Reads carry neither.
 */
export function batchRequest(item: BatchItem): {
  id: string
  method: HttpMethod
  url: string
  headers?: Record<string, string>
  body?: unknown
} {
  const base = { id: item.id, method: item.method, url: item.url }
  if (!WRITE_METHODS.has(item.method)) return base
  return { ...base, headers: { 'Content-Type': 'application/json' }, body: item.body ?? {} }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
}

export class Batch {
  private readonly retry: RetryOptions
  private readonly random: () => number
  private readonly deadlineAt: number | undefined
  private readonly buckets: Readonly<Partial<Record<ThrottleScope, { drain(): void }>>>

  constructor(
    private readonly http: GraphHttp,
    settings: BatchSettings = {},
  ) {
    this.retry = settings.retry ?? DEFAULT_RETRY_OPTIONS
    this.random = settings.random ?? Math.random
    this.deadlineAt = settings.deadlineAt
    this.buckets = settings.buckets ?? {}
  }

  /** Sends every item (in batches of 20) and returns one result per item id. */
  async execute(
    items: readonly BatchItem[],
    options: BatchOptions = {},
  ): Promise<Map<string, BatchItemResult>> {
    const results = new Map<string, BatchItemResult>()
    for await (const round of this.stream(items, options)) for (const r of round) results.set(r.id, r)
    return results
  }

  /**
   * Sends every item (in batches of 20) and yields the final results of each round as it ends: a
   * caller that handles them as they come holds one round in memory, not the whole answer.
   * Every item ends in exactly one result.
   */
  async *stream(
    items: readonly BatchItem[],
    options: BatchOptions = {},
  ): AsyncGenerator<BatchItemResult[], void, undefined> {
    const seen = new Set<string>()
    for (const item of items) {
      if (seen.has(item.id)) throw new TypeError(`batch item id '${item.id}' is not unique`)
      if (!item.url.startsWith('/'))
        throw new TypeError(`batch item '${item.id}' url must be relative and start with '/'`)
      if (item.body !== undefined && !WRITE_METHODS.has(item.method))
        throw new TypeError(`batch item '${item.id}' is a ${item.method}: it carries no body`)
      seen.add(item.id)
    }
    let pending: Pending[] = items.map((item) => ({ item, attempts: 0, dueAt: 0 }))
    while (pending.length > 0) {
      const now = Date.now()
      const due = pending.filter((p) => p.dueAt <= now)
      if (due.length === 0) {
        const next = Math.min(...pending.map((p) => p.dueAt))
        if (this.deadlineAt !== undefined && next > this.deadlineAt) {
          yield pending.map((p) => ({
            id: p.item.id,
            status: 429,
            headers: {},
            body: undefined,
            requestId: undefined,
            attempts: p.attempts,
            error: new DeadlineError(
              `${p.item.operation}: throttled; the next attempt is due in ${Math.ceil((p.dueAt - now) / 1000)} s (the service's Retry-After, or a backoff when it gave none), which would pass the run's deadline`,
            ),
          }))
          return
        }
        await sleep(next - now, options.signal)
        continue
      }
      // Up to PARALLEL_BATCHES requests at once: directory reads and writes have generous budgets
      // (the client's throttle still paces writes), and each round trip would otherwise add up.
      const groups: Pending[][] = []
      for (let i = 0; i < due.length && groups.length < PARALLEL_BATCHES; i += BATCH_MAX_ITEMS)
        groups.push(due.slice(i, i + BATCH_MAX_ITEMS))
      const sent = new Set(groups.flat())
      pending = pending.filter((p) => !sent.has(p))
      const answered = await Promise.all(groups.map((g) => this.sendGroup(g, options)))
      for (const a of answered) pending.push(...a.retry)
      const done = answered.flatMap((a) => a.done)
      if (done.length > 0) yield done
    }
  }

  private async sendGroup(
    group: Pending[],
    options: BatchOptions,
  ): Promise<{ done: BatchItemResult[]; retry: Pending[] }> {
    const cost = new Map<ThrottleScope, number>()
    for (const p of group)
      for (const c of p.item.throttle ?? []) cost.set(c.scope, (cost.get(c.scope) ?? 0) + c.tokens)
    for (const p of group) p.attempts++
    const { data, response } = await this.http.call({
      operation: 'batch',
      method: 'POST',
      url: this.http.url('/$batch'),
      body: {
        requests: group.map((p) => batchRequest(p.item)),
      },
      idempotent: group.every((p) => p.item.idempotent ?? p.item.method !== 'POST'),
      throttle: [...cost].map(([scope, tokens]) => ({ scope, tokens })),
      schema: batchResponseSchema,
      signal: options.signal,
    })
    const byId = new Map(data.responses.map((r) => [r.id, r]))
    const done: BatchItemResult[] = []
    const retry: Pending[] = []
    const now = Date.now()
    for (const p of group) {
      const answer = byId.get(p.item.id)
      if (answer === undefined) {
        done.push({
          id: p.item.id,
          status: 0,
          headers: {},
          body: undefined,
          requestId: response.requestId,
          attempts: p.attempts,
          error: new Error(`${p.item.operation}: the $batch response has no entry for item '${p.item.id}'`),
        })
        continue
      }
      const headers = lowerKeys(answer.headers)
      const requestId = headers['request-id'] ?? response.requestId
      // Only a failed item needs a retry decision; a success goes straight to the results.
      let error: GraphError | Error | undefined
      if (answer.status === 429) for (const c of p.item.throttle ?? []) this.buckets[c.scope]?.drain()
      if (answer.status < 200 || answer.status > 299) {
        const itemResponse: GraphResponse = {
          status: answer.status,
          headers,
          body: answer.body === undefined ? '' : JSON.stringify(answer.body),
          requestId,
          clientRequestId: response.clientRequestId,
        }
        const itemRequest: GraphRequest = {
          method: p.item.method,
          url: this.http.url(p.item.url),
          headers: {},
          operation: p.item.operation,
          idempotent: p.item.idempotent ?? p.item.method !== 'POST',
          throttle: p.item.throttle ?? [],
          attempt: p.attempts,
        }
        const decision = decideRetry(
          { request: itemRequest, response: itemResponse, batchItem: true },
          this.retry,
          now,
          this.random,
        )
        if (decision.kind === 'retry' && p.attempts < this.retry.maxAttempts) {
          retry.push({ ...p, dueAt: now + decision.delayMs })
          continue
        }
        error = decision.kind === 'fail' ? decision.error : errorForResponse(itemResponse, p.item.operation)
      }
      done.push({
        id: p.item.id,
        status: answer.status,
        headers,
        body: answer.body,
        requestId,
        attempts: p.attempts,
        error,
      })
    }
    return { done, retry }
  }
}

/** Parses a successful item's body with a schema, naming the item in a ContractError. */
export function parseItem<T>(result: BatchItemResult, schema: import('zod').ZodType<T>): T {
  return parseWith(schema, result.body, 'batch', result.headers['request-id'], `item '${result.id}' body: `)
}
