/**
 * The only module that imports undici. One Agent keeps a keep-alive pool per origin; tests inject
 * their own Dispatcher. Retries are deliberately not configured here: retry lives in exactly one
 * layer, the pipeline's retry policy.
 */
import { Agent, type Dispatcher, request } from 'undici'
import { AbortedError, TransportError, type TransportPhase } from '../../errors.js'
import type { HttpRequest, HttpResponse, HttpTransport } from '../http.js'

export interface TransportOptions {
  /** Use this dispatcher instead of the built-in keep-alive Agent (tests, proxies). */
  dispatcher?: Dispatcher
  connectTimeoutMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
  keepAliveTimeoutMs?: number
  /** Extra trusted CA certificates (PEM). NODE_EXTRA_CA_CERTS works without this. */
  ca?: string | string[]
  /** Largest response body accepted, in bytes. */
  maxResponseBytes?: number
}

export const DEFAULT_TRANSPORT_OPTIONS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  maxResponseBytes: 64 * 1024 * 1024,
} as const

// Failures that happen before the request leaves this machine: nothing reached the service.
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

function toTransportError(error: unknown, req: HttpRequest): Error {
  if (req.signal?.aborted) return new AbortedError('the request was aborted', { cause: error })
  const code = errorCode(error)
  const phase: TransportPhase = code !== undefined && CONNECT_CODES.has(code) ? 'connect' : 'exchange'
  const what = phase === 'connect' ? 'could not connect to' : 'lost the connection to'
  return new TransportError(`${what} ${req.url.origin} (${code ?? 'unknown error'})`, {
    phase,
    causeCode: code,
  })
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

const SENT = Symbol('tourniquet.onSent')

/**
 * Reports when undici writes a request's headers to a connection: `onRequestStart` runs right
 * before that write, once a connection is free and set up, which a queued request waits for.
 */
const reportSent: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const onSent = (opts as { [SENT]?: (at: number) => void })[SENT]
  if (onSent === undefined) return dispatch(opts, handler)
  return dispatch(opts, {
    onRequestStart: (controller, context) => {
      onSent(Date.now())
      handler.onRequestStart?.(controller, context)
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) =>
      handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) =>
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  })
}

export function createUndiciTransport(options: TransportOptions = {}): HttpTransport {
  const o = { ...DEFAULT_TRANSPORT_OPTIONS, ...options }
  const owned =
    options.dispatcher === undefined
      ? new Agent({
          connect: { timeout: o.connectTimeoutMs, ...(o.ca === undefined ? {} : { ca: o.ca }) },
          headersTimeout: o.headersTimeoutMs,
          bodyTimeout: o.bodyTimeoutMs,
          keepAliveTimeout: o.keepAliveTimeoutMs,
        })
      : undefined
  const dispatcher: Dispatcher = (options.dispatcher ?? (owned as Dispatcher)).compose(reportSent)

  return {
    async send(req: HttpRequest): Promise<HttpResponse> {
      try {
        const res = await request(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          dispatcher,
          signal: req.signal,
          ...(req.onSent === undefined ? {} : { [SENT]: req.onSent }),
        })
        const declared = Number(res.headers['content-length'] ?? '0')
        if (declared > o.maxResponseBytes) {
          res.body.destroy()
          throw new TransportError(
            `response from ${req.url.origin} is larger than ${o.maxResponseBytes} bytes`,
            {
              phase: 'exchange',
              causeCode: 'TQ_RESPONSE_TOO_LARGE',
            },
          )
        }
        // Counted while reading, not trusted from content-length: a chunked body declares nothing.
        const chunks: Buffer[] = []
        let received = 0
        for await (const chunk of res.body) {
          received += (chunk as Buffer).length
          if (received > o.maxResponseBytes) {
            res.body.destroy()
            throw new TransportError(
              `response from ${req.url.origin} is larger than ${o.maxResponseBytes} bytes`,
              { phase: 'exchange', causeCode: 'TQ_RESPONSE_TOO_LARGE' },
            )
          }
          chunks.push(chunk as Buffer)
        }
        const body = Buffer.concat(chunks).toString('utf8')
        return { status: res.statusCode, headers: flattenHeaders(res.headers), body }
      } catch (error) {
        if (error instanceof TransportError) throw error
        throw toTransportError(error, req)
      }
    },
    async close(): Promise<void> {
      await owned?.close()
    },
  }
}
