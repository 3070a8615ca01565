import { publishRequest, publishResponse } from '../diagnostics.js'
import { sanitizeUrl } from '../sanitizer.js'
import type { PipelinePolicy } from './pipeline.js'

export const diagnosticsPolicyName = 'diagnostics'

/** Publishes every attempt as it goes on the wire, with its timing; sits next to the transport. */
export function diagnosticsPolicy(): PipelinePolicy {
  return {
    name: diagnosticsPolicyName,
    async send(request, next) {
      const base = {
        operation: request.operation,
        method: request.method,
        url: sanitizeUrl(request.url),
        attempt: request.attempt,
        clientRequestId: request.headers['client-request-id'],
      }
      publishRequest(base)
      const started = performance.now()
      try {
        const response = await next(request)
        publishResponse({
          ...base,
          status: response.status,
          requestId: response.requestId,
          durationMs: performance.now() - started,
          error: undefined,
        })
        return response
      } catch (error) {
        const code = (error as { code?: unknown }).code
        publishResponse({
          ...base,
          status: undefined,
          requestId: undefined,
          durationMs: performance.now() - started,
          error: typeof code === 'string' ? code : 'error',
        })
        throw error
      }
    },
  }
}
