/**
 * The fake tenant as one function: `handle(Request) -> Response | RESET`. The msw adapter and the
 * loopback server both call it, so in-process tests, the demo and the benchmarks all meet the same
 * behaviour: latency, faults, authentication, throttling, permissions, state, request log.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type MockCloud, servedIn } from './clouds.js'
import { runRoute, scopeOf } from './graph.js'
import { graphError, json, type MockResult, RESET } from './http.js'
import { handleIdentity, type TokenClaims, TokenIssuer } from './identity.js'
import { ServiceBucket } from './limits.js'
import { type Random, seeded } from './random.js'
import { namedScenario, type ScenarioName } from './scenarios.js'
import type { Tenant } from './tenant.js'

export interface LimitOptions {
  /** Enforce Graph's budgets (default true). */
  enabled?: boolean
  /** Identity Protection: requests per second per tenant (default 1). */
  identityProtectionPerSecond?: number
  /** Directory writes per app and tenant: capacity per window (default 3,000 per 150 s). */
  directoryWriteCapacity?: number
  directoryWriteWindowMs?: number
}

export interface FaultOptions {
  seed?: number
  /** Share of Graph requests answered 429 (before processing). */
  rate429?: number
  /** Whether an injected 429 carries Retry-After (Identity Protection 429s never do). */
  retryAfter?: 'always' | 'never' | 'mixed'
  /** Share answered 503 (before processing). */
  rate503?: number
  /** Share answered 504 after the request WAS processed (the ambiguous case). */
  rate504?: number
  /** Share whose connection is reset before processing. */
  rateReset?: number
  /** Share processed and then answered with a truncated JSON body. */
  rateMalformed?: number
  /** Share of token requests answered 503. */
  tokenFailureRate?: number
  /** Every nextLink points to another origin. */
  forgedNextLink?: string
  /**
   * The reported service quirk: the last page of riskyUsers carries an @odata.nextLink that
   * answers 400 (MDC issue #2329; microsoft-graph-docs issue #16332).
   */
  riskyUsersLastPage400?: boolean
  /** Every collection page's @odata.nextLink is the page's own URL: a client must detect the cycle. */
  selfNextLink?: boolean
  /**
   * Collections never end: past the last item come empty pages, each with a fresh nextLink. With
   * latency, a collection that outlasts any run: the client's deadline must bound it.
   */
  endlessPages?: boolean
  /** Extra latency in ms, fixed part and uniform jitter. */
  latencyMs?: number
  latencyJitterMs?: number
  /** Share of requests that take `latencySpikeMs` more. */
  latencySpikeRate?: number
  latencySpikeMs?: number
}

export interface MockGraphOptions {
  /** The national cloud to behave as: which APIs exist, the federated audience (default global). */
  cloud?: MockCloud
  /**
   * Answer 400 to filters on properties no docs page lists as filterable (riskyUsers by
   * riskLastUpdatedDateTime), as a service that keeps only to its docs would. Off by default: the
   * real service is reported to accept them.
   */
  strictFilters?: boolean
  /**
   * The largest `$top` the risky service principals' list takes (default 500, the users'
   * documented maximum). Its page documents `$top` with no maximum, so a client must survive a
   * smaller one: set it lower to be that service.
   */
  riskyServicePrincipalsMaxTop?: number
  tenant?: Tenant
  scenario?: ScenarioName
  /** Speeds the service up: every rate limit x timeScale, every latency / timeScale (benchmarks). */
  timeScale?: number
  limits?: LimitOptions
  faults?: FaultOptions
  tokenLifetimeSec?: number
  now?: () => number
}

export interface RequestLogEntry {
  id: number
  time: number
  method: string
  path: string
  query: string
  status: number | 'reset'
  appId: string | undefined
  /** JSON body of a Graph write (passwords replaced by '[redacted]'); token requests are not logged with bodies. */
  body: unknown
  /** Set on entries that were items inside a $batch. */
  batchId: string | undefined
  fault: string | undefined
  durationMs: number
}

function redactBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body
  const b = body as Record<string, unknown>
  if (typeof b.passwordProfile === 'object' && b.passwordProfile !== null) {
    return { ...b, passwordProfile: { ...(b.passwordProfile as object), password: '[redacted]' } }
  }
  return body
}

export class MockGraph {
  readonly tenant: Tenant
  readonly log: RequestLogEntry[] = []
  readonly options: MockGraphOptions
  private readonly issuer: TokenIssuer
  /** The clock the mock judges by (`options.now`, or Date.now). */
  readonly now: () => number
  private readonly random: Random
  private readonly ip: ServiceBucket
  private readonly writes = new Map<string, ServiceBucket>()
  private seq = 0

  constructor(options: MockGraphOptions = {}) {
    this.options = options
    this.now = options.now ?? Date.now
    this.tenant = options.tenant ?? namedScenario(options.scenario ?? 'demo')
    this.issuer = new TokenIssuer(options.tokenLifetimeSec ?? 3599, this.now)
    this.random = seeded(options.faults?.seed ?? 42)
    const scale = options.timeScale ?? 1
    this.ip = new ServiceBucket(
      1,
      ((options.limits?.identityProtectionPerSecond ?? 1) * scale) / 1000,
      this.now,
    )
  }

  /** Invalidates every access token issued so far: the next Graph call answers 401. */
  revokeTokens(): void {
    this.issuer.rotate()
  }

  /** Replaces the fault settings (e.g. turn faults off between phases of a test). */
  setFaults(faults: FaultOptions | undefined): void {
    this.options.faults = faults
  }

  private writeBucket(appId: string): ServiceBucket {
    let b = this.writes.get(appId)
    if (!b) {
      const cap = this.options.limits?.directoryWriteCapacity ?? 3_000
      const window = this.options.limits?.directoryWriteWindowMs ?? 150_000
      b = new ServiceBucket(cap, (cap / window) * (this.options.timeScale ?? 1), this.now)
      this.writes.set(appId, b)
    }
    return b
  }

  private chance(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.random() < rate
  }

  private async delay(): Promise<void> {
    const f = this.options.faults
    if (!f) return
    let ms = (f.latencyMs ?? 0) + (f.latencyJitterMs ?? 0) * this.random()
    if (this.chance(f.latencySpikeRate)) ms += f.latencySpikeMs ?? 0
    ms /= this.options.timeScale ?? 1
    if (ms > 0) await sleep(ms)
  }

  private record(entry: Omit<RequestLogEntry, 'id'>): void {
    this.log.push({ id: ++this.seq, ...entry })
  }

  /** Handles one request; RESET means "drop the connection without an answer". */
  async handle(request: Request, arrivedAt?: number): Promise<MockResult> {
    const started = arrivedAt ?? this.now()
    const url = new URL(request.url)
    await this.delay()
    const out = await this.dispatch(request, url, started)
    const result = out.result
    if (result !== RESET) {
      result.headers.set('request-id', randomUUID())
      // Every answer carries the service's clock, as an origin server with a clock must (RFC 9110
      // 6.6.1; CONTRACT.md "date-header"): a client may take Graph's time from it.
      if (!result.headers.has('date')) result.headers.set('date', new Date(this.now()).toUTCString())
      const crid = request.headers.get('client-request-id')
      if (crid) result.headers.set('client-request-id', crid)
    }
    this.record({
      time: started,
      method: request.method,
      path: url.pathname,
      query: url.search,
      status: result === RESET ? 'reset' : result.status,
      appId: out.appId,
      body: out.body,
      batchId: undefined,
      fault: out.fault,
      durationMs: this.now() - started,
    })
    return result
  }

  private async dispatch(
    request: Request,
    url: URL,
    /** When the request arrived, before the simulated latency: the time throttling judges. */
    arrivedAt: number,
  ): Promise<{ result: MockResult; appId?: string; body?: unknown; fault?: string }> {
    const origin = url.origin
    if (!/^\/(v1\.0|beta)(\/|$)/.test(url.pathname)) {
      if (url.pathname.endsWith('/oauth2/v2.0/token') && this.chance(this.options.faults?.tokenFailureRate)) {
        return {
          result: json(503, {
            error: 'temporarily_unavailable',
            error_description: 'AADSTS90033: A transient error has occurred.',
          }),
          fault: 'token503',
        }
      }
      const identity = await handleIdentity(request, url, {
        tenant: this.tenant,
        issuer: this.issuer,
        now: this.now,
        origin,
        cloud: this.options.cloud ?? 'global',
      })
      return { result: identity ?? graphError(404, 'NotFound', `No route for ${url.pathname}`) }
    }

    const f = this.options.faults
    // A reset is a network event: it happens whoever is asking.
    if (this.chance(f?.rateReset)) return { result: RESET, fault: 'reset' }
    const claims = this.authenticate(request)
    if (!claims)
      return {
        result: graphError(401, 'InvalidAuthenticationToken', 'Access token is empty, invalid or expired.'),
      }

    if (this.chance(f?.rate503))
      return {
        result: graphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.', {
          'Retry-After': '1',
        }),
        appId: claims.appid,
        fault: '503',
      }
    if (this.chance(f?.rate429)) {
      const withHeader = f?.retryAfter === 'always' || (f?.retryAfter === 'mixed' && this.random() < 0.5)
      return {
        result: graphError(
          429,
          'TooManyRequests',
          'Too many requests.',
          withHeader ? { 'Retry-After': '1' } : {},
        ),
        appId: claims.appid,
        fault: '429',
      }
    }

    const version = url.pathname.startsWith('/beta') ? 'beta' : 'v1.0'
    const path = url.pathname.slice(version.length + 1) || '/'
    const text = request.method === 'GET' ? '' : await request.text()
    let body: unknown
    if (text !== '') {
      try {
        body = JSON.parse(text)
      } catch {
        return {
          result: graphError(400, 'BadRequest', 'Unable to read JSON request payload.'),
          appId: claims.appid,
        }
      }
    }
    const base = `${origin}/${version}`
    let result: Response
    if (request.method === 'POST' && path === '/$batch')
      result = await this.batch(claims, base, body, arrivedAt)
    else result = this.single(claims, base, request.method, path, url, body, arrivedAt)

    if (this.chance(f?.rate504))
      return {
        result: graphError(504, 'GatewayTimeout', 'The gateway timed out.'),
        appId: claims.appid,
        body: redactBody(body),
        fault: '504',
      }
    if (this.chance(f?.rateMalformed) && result.status !== 204) {
      const full = await result.text()
      return {
        result: new Response(full.slice(0, Math.max(1, Math.floor(full.length / 2))), {
          status: result.status,
          headers: { 'content-type': 'application/json' },
        }),
        appId: claims.appid,
        body: redactBody(body),
        fault: 'malformed',
      }
    }
    return { result, appId: claims.appid, body: redactBody(body) }
  }

  private authenticate(request: Request): TokenClaims | undefined {
    const header = request.headers.get('authorization') ?? ''
    const m = /^Bearer (.+)$/i.exec(header)
    return m?.[1] ? this.issuer.verify(m[1]) : undefined
  }

  /** Throttling first (as the service counts refused requests too), then the route. */
  private single(
    claims: TokenClaims,
    base: string,
    method: string,
    path: string,
    url: URL,
    body: unknown,
    arrivedAt: number,
  ): Response {
    // An API the cloud does not offer has no segment there (CONTRACT.md "cloud-availability"; the
    // answer's shape is Graph's for an unknown segment, our choice: the docs do not show one).
    if (!servedIn(this.options.cloud ?? 'global', path))
      return graphError(
        400,
        'BadRequest',
        `Resource not found for the segment '${path.split('/')[1] ?? ''}'.`,
      )
    const unlicensed = this.featureOff(path)
    if (unlicensed) return unlicensed
    const limited = this.limit(claims, method, path, arrivedAt)
    if (limited) return limited
    return runRoute(
      {
        tenant: this.tenant,
        claims,
        base,
        nextLinkOrigin: this.options.faults?.forgedNextLink,
        strictFilters: this.options.strictFilters === true,
        riskyServicePrincipalsMaxTop: this.options.riskyServicePrincipalsMaxTop ?? 500,
        riskyUsersLastPage400: this.options.faults?.riskyUsersLastPage400 === true,
        selfNextLink: this.options.faults?.selfNextLink === true,
        endlessPages: this.options.faults?.endlessPages === true,
      },
      method,
      path,
      url,
      body,
    )
  }

  /**
   * A tenant without the licence or the product an API needs. The docs show no error body for
   * this; the shape is Graph's usual 403 and the codes are our choice (CONTRACT.md "licence"): a
   * client must tell it from a missing permission by the token's roles, not by the code.
   */
  private featureOff(path: string): Response | undefined {
    // riskyServicePrincipals needs Workload ID Premium (its pages' note); detections of service
    // principals are served without it, with limited information (graph.ts).
    if (path.startsWith('/identityProtection/riskyServicePrincipals')) {
      if (this.tenant.features.workloadIdentitiesPremium) return undefined
      return graphError(
        403,
        'Forbidden',
        'Your tenant is not licensed for this feature (Microsoft Entra Workload ID Premium).',
      )
    }
    if (path.startsWith('/identityProtection/servicePrincipalRiskDetections')) return undefined
    if (path.startsWith('/identityProtection/') && !this.tenant.features.entraIdP2)
      return graphError(
        403,
        'Forbidden',
        'Your tenant is not licensed for this feature (Microsoft Entra ID P2).',
      )
    if (path.startsWith('/security/identities/') && !this.tenant.features.defenderForIdentity)
      return graphError(403, 'Forbidden', 'Microsoft Defender for Identity is not set up for this tenant.')
    return undefined
  }

  private limit(claims: TokenClaims, method: string, path: string, arrivedAt: number): Response | undefined {
    if (this.options.limits?.enabled === false) return undefined
    const scope = scopeOf(method, path)
    if (scope === 'identityProtection') {
      // Identity Protection's 429 carries no Retry-After. Judged at arrival (CONTRACT.md
      // "ip-throttle"): the mock's simulated latency and its own busy event loop are not the client's.
      if (!this.ip.tryTake(1, arrivedAt).ok) return graphError(429, 'TooManyRequests', 'Too many requests.')
    } else if (scope === 'directoryWrite') {
      const r = this.writeBucket(claims.appid).tryTake()
      if (!r.ok) {
        const retry = (r.retryAfterMs / 1000).toFixed(3)
        return graphError(429, 'TooManyRequests', 'Too many requests.', {
          'Retry-After': retry,
          'x-ms-throttle-scope': `Tenant_Application/Write/${claims.appid}/${this.tenant.tenantId}`,
          'x-ms-throttle-information': 'WriteLimitExceeded',
        })
      }
    }
    return undefined
  }

  private async batch(
    claims: TokenClaims,
    base: string,
    body: unknown,
    arrivedAt: number,
  ): Promise<Response> {
    const requests = (body as { requests?: unknown } | undefined)?.requests
    if (!Array.isArray(requests) || requests.length === 0)
      return graphError(400, 'BadRequest', 'Invalid batch payload: requests is required.')
    if (requests.length > 20)
      return graphError(400, 'BadRequest', 'Number of requests in a batch must not exceed 20.')
    const ids = new Set<string>()
    for (const r of requests) {
      const item = r as {
        id?: unknown
        method?: unknown
        url?: unknown
        body?: unknown
        headers?: Record<string, string>
      }
      if (typeof item.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
        return graphError(400, 'BadRequest', 'Invalid batch payload: each request needs id, method and url.')
      }
      if (ids.has(item.id))
        return graphError(400, 'BadRequest', `Invalid batch payload: duplicate id '${item.id}'.`)
      if (/^https?:/i.test(item.url))
        return graphError(400, 'BadRequest', 'Invalid batch payload: url must be relative.')
      // The service validates every item before running any: a write without a body or without
      // the header fails the outer request (CONTRACT.md "batch-write-body"). The header is matched
      // as spelled, `Content-Type`: a lower-case spelling was refused (MDC issue #8032).
      if (
        ['POST', 'PATCH', 'PUT'].includes(item.method.toUpperCase()) &&
        (item.body === undefined || item.headers?.['Content-Type'] === undefined)
      ) {
        return graphError(
          400,
          'BadRequest',
          `Write request id : ${item.id} does not contain Content-Type header or body.`,
        )
      }
      ids.add(item.id)
    }
    const batchId = randomUUID()
    const statuses = new Map<string, number>()
    const responses: Array<{ id: string; status: number; headers: Record<string, string>; body: unknown }> =
      []
    for (const r of requests as Array<{
      id: string
      method: string
      url: string
      body?: unknown
      dependsOn?: string[]
    }>) {
      const started = this.now()
      const failedDep = (r.dependsOn ?? []).find((d) => {
        const s = statuses.get(d)
        return s === undefined || s < 200 || s > 299
      })
      let res: Response
      let fault: string | undefined
      if (failedDep !== undefined) {
        res = graphError(424, 'FailedDependency', `The request depends on '${failedDep}', which failed.`)
      } else if (this.chance(this.options.faults?.rate429)) {
        fault = '429'
        res = graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': '1' })
      } else {
        const url = new URL(`${base}${r.url.startsWith('/') ? '' : '/'}${r.url}`)
        const path = url.pathname.slice(new URL(base).pathname.length)
        res = this.single(claims, base, r.method.toUpperCase(), path, url, r.body, arrivedAt)
      }
      statuses.set(r.id, res.status)
      const text = await res.text()
      const headers: Record<string, string> = {}
      res.headers.forEach((v, k) => {
        headers[k === 'retry-after' ? 'Retry-After' : k] = v
      })
      responses.push({ id: r.id, status: res.status, headers, body: text === '' ? null : JSON.parse(text) })
      this.record({
        time: started,
        method: r.method.toUpperCase(),
        path: new URL(`${base}${r.url}`).pathname,
        query: new URL(`${base}${r.url}`).search,
        status: res.status,
        appId: claims.appid,
        body: redactBody(r.body),
        batchId,
        fault,
        durationMs: this.now() - started,
      })
    }
    // The service answers in any order: clients must match by id.
    for (let i = responses.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      ;[responses[i], responses[j]] = [
        responses[j] as (typeof responses)[number],
        responses[i] as (typeof responses)[number],
      ]
    }
    return json(200, { responses })
  }

  /** Requests that changed state, per user and kind: the one-liner for "nothing twice". */
  duplicates(kind?: Parameters<Tenant['duplicates']>[0]): ReturnType<Tenant['duplicates']> {
    return this.tenant.duplicates(kind)
  }
}

export function createMockGraph(options: MockGraphOptions = {}): MockGraph {
  return new MockGraph(options)
}
