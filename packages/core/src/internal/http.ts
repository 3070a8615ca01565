/** The wire-level request and response the pipeline passes around; no library types leak past here. */
import type { GraphOperation } from './permissions.js'

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

export interface HttpRequest {
  method: HttpMethod
  url: URL
  /** Header names in lower case. */
  headers: Record<string, string>
  body?: string | undefined
  signal?: AbortSignal | undefined
  /**
   * Called by the transport with `Date.now()` when the request's headers are written to a
   * connection, which can be later than when the pipeline handed it over (a connection being set
   * up, an event loop busy elsewhere). The throttle policy paces from this moment (decision 003).
   */
  onSent?: ((at: number) => void) | undefined
}

export interface HttpResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

export interface HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>
  close(): Promise<void>
}

/** Throttling scopes the client paces itself against (see throttle policy). */
export type ThrottleScope = 'identityProtection' | 'directoryWrite' | 'defenderForIdentity'

export interface ThrottleCost {
  scope: ThrottleScope
  tokens: number
}

/** A Graph call with what the policies need to know about it. */
export interface GraphRequest extends HttpRequest {
  /** Stable name of the operation, e.g. `riskyUsers.confirmCompromised`; used in errors and permission advice. */
  operation: GraphOperation
  /**
   * False for actions that change state and are not safe to repeat blindly (POST actions). The retry
   * policy resends those only when the service provably did not process them.
   */
  idempotent: boolean
  throttle: ThrottleCost[]
  /** 1 for the first try; set by the retry policy. */
  attempt: number
}

export interface GraphResponse extends HttpResponse {
  requestId: string | undefined
  clientRequestId: string | undefined
  /** The body already parsed as JSON (by the bodyIntegrity policy), so it is parsed once. */
  json?: unknown
}
