import { randomUUID } from 'node:crypto'
import type { PipelinePolicy } from './pipeline.js'

export const clientRequestIdPolicyName = 'clientRequestId'

/**
 * Gives every logical request a `client-request-id` (kept across its retries, so the service and
 * our audit can correlate all attempts). Microsoft support asks for it with the `request-id`.
 */
export function clientRequestIdPolicy(generate: () => string = randomUUID): PipelinePolicy {
  return {
    name: clientRequestIdPolicyName,
    send(request, next) {
      const id = request.headers['client-request-id'] ?? generate()
      return next({ ...request, headers: { ...request.headers, 'client-request-id': id } })
    },
  }
}
