import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CHANNELS, type ResponseMessage } from '@tourniquet/core'

/** Counts the Graph requests a run makes (every attempt) from the client's diagnostics channel. */
export function countRequests(): { requests: number; throttled: number; stop(): void } {
  const counts = {
    requests: 0,
    throttled: 0,
    stop: () => unsubscribe(CHANNELS.response, onResponse),
  }
  const onResponse = (message: unknown): void => {
    counts.requests++
    if ((message as ResponseMessage).status === 429) counts.throttled++
  }
  subscribe(CHANNELS.response, onResponse)
  return counts
}
