import { TransportError } from '../../errors.js'
import type { PipelinePolicy } from './pipeline.js'

export const bodyIntegrityPolicyName = 'bodyIntegrity'

/**
 * A JSON answer cut short (a connection dropped mid-body, a proxy timeout) is a broken exchange, not
 * a contract violation: it becomes a TransportError of the exchange phase, so the retry policy sends
 * an idempotent request again and reports a non-idempotent one's outcome as unknown. A complete
 * body that is valid JSON of the wrong shape is still a ContractError, further up.
 */
export function bodyIntegrityPolicy(): PipelinePolicy {
  return {
    name: bodyIntegrityPolicyName,
    async send(request, next) {
      const response = await next(request)
      const type = response.headers['content-type'] ?? ''
      if (
        response.status >= 200 &&
        response.status < 300 &&
        type.includes('json') &&
        response.body.trim() !== ''
      ) {
        let json: unknown
        try {
          json = JSON.parse(response.body)
        } catch {
          throw new TransportError(
            `the answer from ${request.url.origin} was cut short (${response.body.length} bytes of invalid JSON)`,
            {
              phase: 'exchange',
              causeCode: 'TQ_TRUNCATED_BODY',
            },
          )
        }
        // Handed on, so the body is parsed once however large the page.
        return { ...response, json }
      }
      return response
    },
  }
}
