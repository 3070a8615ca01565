import { inspect } from 'node:util'
import type { GraphOperation } from './internal/permissions.js'
import { redactText } from './internal/sanitizer.js'

/**
 * Stable error codes. Callers (the runner's exit-code mapping, tests) switch on these, never on
 * messages, so a code is never renamed once released.
 */
export const ErrorCode = {
  Graph: 'TQ_GRAPH',
  Auth: 'TQ_AUTH',
  Permission: 'TQ_PERMISSION',
  Throttled: 'TQ_THROTTLED',
  Contract: 'TQ_CONTRACT',
  Transport: 'TQ_TRANSPORT',
  OutcomeUnknown: 'TQ_OUTCOME_UNKNOWN',
  Aborted: 'TQ_ABORTED',
  Deadline: 'TQ_DEADLINE',
  Config: 'TQ_CONFIG',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const BRAND = Symbol.for('tourniquet.error')

export interface TourniquetErrorOptions {
  cause?: unknown
}

/**
 * The one base class of every error the client throws. Its message, toJSON and inspect output go
 * through the sanitizer, so printing or serialising an error can never leak a bearer token.
 */
export class TourniquetError extends Error {
  readonly code: ErrorCode
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options: TourniquetErrorOptions = {}) {
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = 'TourniquetError'
  }

  /** Fields safe to log; subclasses add theirs. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message }
  }

  [inspect.custom](): string {
    return `${this.name} [${this.code}]: ${this.message} ${JSON.stringify(this.toJSON())}`
  }
}

export interface GraphErrorDetails {
  status: number
  graphCode: string | undefined
  /** Graph's own words (error.message), sanitized like every message; absent when the body had none. */
  graphMessage?: string | undefined
  requestId: string | undefined
  clientRequestId: string | undefined
  date: string | undefined
  operation: GraphOperation
}

/** A Graph response with a non-success status that no other class describes better. */
export class GraphError extends TourniquetError {
  readonly status: number
  readonly graphCode: string | undefined
  readonly graphMessage: string | undefined
  readonly requestId: string | undefined
  readonly clientRequestId: string | undefined
  readonly date: string | undefined
  readonly operation: GraphOperation

  constructor(
    message: string,
    details: GraphErrorDetails,
    options: TourniquetErrorOptions = {},
    code: ErrorCode = ErrorCode.Graph,
  ) {
    super(code, message, options)
    this.name = 'GraphError'
    this.status = details.status
    this.graphCode = details.graphCode
    this.graphMessage = details.graphMessage === undefined ? undefined : redactText(details.graphMessage)
    this.requestId = details.requestId
    this.clientRequestId = details.clientRequestId
    this.date = details.date
    this.operation = details.operation
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      graphCode: this.graphCode,
      operation: this.operation,
      requestId: this.requestId,
      clientRequestId: this.clientRequestId,
    }
  }
}

/** 403 Authorization_RequestDenied: names the application permission the operation needs. */
export class PermissionError extends GraphError {
  readonly permission: string

  constructor(
    message: string,
    details: GraphErrorDetails & { permission: string },
    options: TourniquetErrorOptions = {},
  ) {
    super(message, details, options, ErrorCode.Permission)
    this.name = 'PermissionError'
    this.permission = details.permission
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), permission: this.permission }
  }
}

/** Still throttled after the retry budget, or a Retry-After longer than the time left. */
export class ThrottledError extends GraphError {
  readonly retryAfterMs: number | undefined

  constructor(
    message: string,
    details: GraphErrorDetails & { retryAfterMs: number | undefined },
    options: TourniquetErrorOptions = {},
  ) {
    super(message, details, options, ErrorCode.Throttled)
    this.name = 'ThrottledError'
    this.retryAfterMs = details.retryAfterMs
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs }
  }
}

/** Token acquisition failed. `aadsts` is the AADSTS number when the identity platform gave one. */
export class AuthError extends TourniquetError {
  readonly aadsts: string | undefined
  readonly advice: string

  constructor(
    message: string,
    details: { aadsts: string | undefined; advice: string },
    options: TourniquetErrorOptions = {},
  ) {
    super(ErrorCode.Auth, message, options)
    this.name = 'AuthError'
    this.aadsts = details.aadsts
    this.advice = details.advice
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), aadsts: this.aadsts, advice: this.advice }
  }
}

/** A response that does not have the shape the Graph contract promises; `path` names the field. */
export class ContractError extends TourniquetError {
  readonly operation: GraphOperation
  readonly path: string
  readonly requestId: string | undefined

  constructor(
    message: string,
    details: { operation: GraphOperation; path: string; requestId?: string | undefined },
    options: TourniquetErrorOptions = {},
  ) {
    super(ErrorCode.Contract, message, options)
    this.name = 'ContractError'
    this.operation = details.operation
    this.path = details.path
    this.requestId = details.requestId
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), operation: this.operation, path: this.path, requestId: this.requestId }
  }
}

export type TransportPhase = 'connect' | 'exchange'

/**
 * The request did not produce an HTTP response. `phase: 'connect'` means nothing reached the
 * server, so even a non-idempotent request may be sent again.
 */
export class TransportError extends TourniquetError {
  readonly phase: TransportPhase
  readonly causeCode: string | undefined

  constructor(
    message: string,
    details: { phase: TransportPhase; causeCode: string | undefined },
    options: TourniquetErrorOptions = {},
  ) {
    super(ErrorCode.Transport, message, options)
    this.name = 'TransportError'
    this.phase = details.phase
    this.causeCode = details.causeCode
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), phase: this.phase, causeCode: this.causeCode }
  }
}

/**
 * A non-idempotent request may or may not have been processed (the connection broke after it was
 * sent, or the service answered 504). The caller must read state before deciding to send it again.
 */
export class OutcomeUnknownError extends TourniquetError {
  readonly operation: GraphOperation

  constructor(message: string, details: { operation: GraphOperation }, options: TourniquetErrorOptions = {}) {
    super(ErrorCode.OutcomeUnknown, message, options)
    this.name = 'OutcomeUnknownError'
    this.operation = details.operation
  }
}

export class AbortedError extends TourniquetError {
  constructor(message = 'the operation was aborted', options: TourniquetErrorOptions = {}) {
    super(ErrorCode.Aborted, message, options)
    this.name = 'AbortedError'
  }
}

export class DeadlineError extends TourniquetError {
  constructor(message: string, options: TourniquetErrorOptions = {}) {
    super(ErrorCode.Deadline, message, options)
    this.name = 'DeadlineError'
  }
}

/** Invalid options given to the client (a bad URL, an http host that is not loopback, ...). */
export class ConfigError extends TourniquetError {
  readonly field: string

  constructor(field: string, message: string, options: TourniquetErrorOptions = {}) {
    super(ErrorCode.Config, `${field}: ${message}`, options)
    this.name = 'ConfigError'
    this.field = field
  }
}

function hasCode(error: unknown, code: ErrorCode): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    BRAND in error &&
    (error as { code?: unknown }).code === code
  )
}

// Guards check the brand and code, not only `instanceof`: two copies of this package can coexist.
export const isTourniquetError = (e: unknown): e is TourniquetError =>
  typeof e === 'object' && e !== null && BRAND in e
export const isGraphError = (e: unknown): e is GraphError =>
  hasCode(e, ErrorCode.Graph) || hasCode(e, ErrorCode.Permission) || hasCode(e, ErrorCode.Throttled)
export const isPermissionError = (e: unknown): e is PermissionError => hasCode(e, ErrorCode.Permission)
export const isThrottledError = (e: unknown): e is ThrottledError => hasCode(e, ErrorCode.Throttled)
export const isAuthError = (e: unknown): e is AuthError => hasCode(e, ErrorCode.Auth)
export const isContractError = (e: unknown): e is ContractError => hasCode(e, ErrorCode.Contract)
export const isTransportError = (e: unknown): e is TransportError => hasCode(e, ErrorCode.Transport)
export const isOutcomeUnknownError = (e: unknown): e is OutcomeUnknownError =>
  hasCode(e, ErrorCode.OutcomeUnknown)
export const isAbortedError = (e: unknown): e is AbortedError => hasCode(e, ErrorCode.Aborted)
export const isDeadlineError = (e: unknown): e is DeadlineError => hasCode(e, ErrorCode.Deadline)
export const isConfigError = (e: unknown): e is ConfigError => hasCode(e, ErrorCode.Config)
