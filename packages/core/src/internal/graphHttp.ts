/**
 * Turns an operation into a pipeline request and its response into data or a typed error. The
 * response body is parsed with the operation's zod schema; a mismatch is a ContractError naming
 * the field, never a crash further up.
 */
import type { z } from 'zod'
import {
  ContractError,
  GraphError,
  type GraphErrorDetails,
  PermissionError,
  ThrottledError,
} from '../errors.js'
import type { GraphRequest, GraphResponse, HttpMethod, ThrottleCost } from './http.js'
import type { GraphOperation } from './permissions.js'
import { permissionFor } from './permissions.js'
import type { SendRequest } from './pipeline/pipeline.js'
import { parseRetryAfter } from './pipeline/retryStrategies.js'
import { graphErrorBodySchema } from './schemas.js'

export interface CallSpec<S extends z.ZodType | undefined> {
  operation: GraphOperation
  method: HttpMethod
  url: URL
  body?: unknown
  idempotent?: boolean
  throttle?: ThrottleCost[]
  headers?: Record<string, string>
  schema: S
  signal?: AbortSignal | undefined
}

export interface CallResult<T> {
  data: T
  response: GraphResponse
}

/** Renders a zod issue path as `value[3].riskLevel`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(root)' : out
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  operation: GraphOperation,
  requestId: string | undefined,
  where = '',
): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = where + (issue ? issuePath(issue.path) : '(root)')
  const message = issue?.message ?? 'invalid'
  throw new ContractError(
    `${operation}: the response does not match the Graph contract at ${path}: ${message}`,
    {
      operation,
      path,
      requestId,
    },
  )
}

export function parseJson(body: string, operation: GraphOperation, requestId: string | undefined): unknown {
  if (body.trim() === '') return undefined
  try {
    return JSON.parse(body)
  } catch {
    throw new ContractError(`${operation}: the response body is not valid JSON (${body.length} bytes)`, {
      operation,
      path: '(body)',
      requestId,
    })
  }
}

export function errorDetails(
  response: GraphResponse,
  operation: GraphOperation,
): { details: GraphErrorDetails; message: string } {
  let graphCode: string | undefined
  let message: string | undefined
  let date: string | undefined = response.headers.date
  let requestId = response.requestId
  let clientRequestId = response.clientRequestId
  try {
    const parsed = graphErrorBodySchema.safeParse(JSON.parse(response.body))
    if (parsed.success) {
      const inner = parsed.data.error.innerError ?? parsed.data.error.innererror
      graphCode = parsed.data.error.code
      message = parsed.data.error.message
      date = inner?.date ?? date
      requestId = requestId ?? inner?.['request-id'] ?? undefined
      clientRequestId = clientRequestId ?? inner?.['client-request-id'] ?? undefined
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the status alone describes it.
  }
  return {
    details: {
      status: response.status,
      graphCode,
      graphMessage: message,
      requestId,
      clientRequestId,
      date,
      operation,
    },
    message: message ?? '',
  }
}

/** The typed error for a non-success response. */
export function errorForResponse(response: GraphResponse, operation: GraphOperation): GraphError {
  const { details, message } = errorDetails(response, operation)
  const said = `${details.graphCode ?? `HTTP ${response.status}`}${message ? `: ${message}` : ''}`
  if (response.status === 403) {
    const { permission, note } = permissionFor(operation)
    return new PermissionError(
      `${operation}: access denied (${said}); the app needs the Microsoft Graph application permission ${permission}${note ? `; ${note}` : ''}`,
      { ...details, permission },
    )
  }
  if (response.status === 429) {
    return new ThrottledError(`${operation}: throttled by Microsoft Graph (${said})`, {
      ...details,
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
    })
  }
  return new GraphError(`${operation}: Microsoft Graph answered ${response.status} (${said})`, details)
}

export class GraphHttp {
  constructor(
    private readonly send: SendRequest,
    readonly graphRoot: string,
    readonly apiVersion: string,
  ) {}

  /** Absolute URL for a path relative to the versioned root, e.g. `/identityProtection/riskyUsers`. */
  url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(`${this.graphRoot}/${this.apiVersion}${path}`)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v)
    return url
  }

  async call<S extends z.ZodType>(spec: CallSpec<S>): Promise<CallResult<z.output<S>>>
  async call(spec: CallSpec<undefined>): Promise<CallResult<undefined>>
  async call(spec: CallSpec<z.ZodType | undefined>): Promise<CallResult<unknown>> {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers }
    let body: string | undefined
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body)
      headers['content-type'] = 'application/json'
    }
    const request: GraphRequest = {
      method: spec.method,
      url: spec.url,
      headers,
      body,
      signal: spec.signal,
      operation: spec.operation,
      idempotent:
        spec.idempotent ??
        (spec.method === 'GET' ||
          spec.method === 'PATCH' ||
          spec.method === 'PUT' ||
          spec.method === 'DELETE'),
      throttle: spec.throttle ?? [],
      attempt: 1,
    }
    const response = await this.send(request)
    if (response.status < 200 || response.status > 299) throw errorForResponse(response, spec.operation)
    if (spec.schema === undefined) return { data: undefined, response }
    const json =
      'json' in response ? response.json : parseJson(response.body, spec.operation, response.requestId)
    return { data: parseWith(spec.schema, json, spec.operation, response.requestId), response }
  }
}
