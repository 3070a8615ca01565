/**
 * Observability through named diagnostics channels: zero cost when nobody listens, and no logger
 * dependency in the client. The runner subscribes and writes what it wants. Messages carry only
 * sanitized fields (no headers but allow-listed ones, never a body).
 */
import { channel } from 'node:diagnostics_channel'
import type { GraphOperation } from './permissions.js'

export const CHANNELS = {
  request: 'tourniquet:graph:request',
  response: 'tourniquet:graph:response',
  retry: 'tourniquet:graph:retry',
  throttleWait: 'tourniquet:graph:throttle-wait',
  tokenRefresh: 'tourniquet:auth:token',
} as const

export interface RequestMessage {
  operation: GraphOperation
  method: string
  url: string
  attempt: number
  clientRequestId: string | undefined
}
export interface ResponseMessage extends RequestMessage {
  status: number | undefined
  requestId: string | undefined
  durationMs: number
  error: string | undefined
}
export interface RetryMessage {
  operation: GraphOperation
  attempt: number
  delayMs: number
  reason: string
}
export interface ThrottleWaitMessage {
  scope: string
  waitMs: number
}
export interface TokenMessage {
  kind: 'acquired' | 'refreshed-after-401' | 'failed'
  credential: string
}

const request = channel(CHANNELS.request)
const response = channel(CHANNELS.response)
const retry = channel(CHANNELS.retry)
const throttleWait = channel(CHANNELS.throttleWait)
const token = channel(CHANNELS.tokenRefresh)

export const publishRequest = (m: RequestMessage): void => {
  if (request.hasSubscribers) request.publish(m)
}
export const publishResponse = (m: ResponseMessage): void => {
  if (response.hasSubscribers) response.publish(m)
}
export const publishRetry = (m: RetryMessage): void => {
  if (retry.hasSubscribers) retry.publish(m)
}
export const publishThrottleWait = (m: ThrottleWaitMessage): void => {
  if (throttleWait.hasSubscribers) throttleWait.publish(m)
}
export const publishToken = (m: TokenMessage): void => {
  if (token.hasSubscribers) token.publish(m)
}
