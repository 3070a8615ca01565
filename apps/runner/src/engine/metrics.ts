import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CHANNELS, type ResponseMessage } from '@tourniquet/core'

const IDENTITY_PROTECTION = /\/identityProtection\//i

/**
 * Counts the Graph requests a run makes (every attempt) from the client's diagnostics channel, and
 * those to Identity Protection: the tenant's scarcest budget (1 request/s for every app together).
 */
export function countRequests(): {
  requests: number
  throttled: number
  identityProtection: number
  stop(): void
} {
  const counts = {
    requests: 0,
    throttled: 0,
    identityProtection: 0,
    stop: () => unsubscribe(CHANNELS.response, onResponse),
  }
  const onResponse = (message: unknown): void => {
    const m = message as ResponseMessage
    counts.requests++
    if (m.status === 429) counts.throttled++
    if (IDENTITY_PROTECTION.test(m.url)) counts.identityProtection++
  }
  subscribe(CHANNELS.response, onResponse)
  return counts
}
