import type { GraphRequest, GraphResponse, HttpTransport } from '../http.js'

export type SendRequest = (request: GraphRequest) => Promise<GraphResponse>

/** A named step that wraps every request: `(request, next) => response`. */
export interface PipelinePolicy {
  readonly name: string
  send(request: GraphRequest, next: SendRequest): Promise<GraphResponse>
}

/** Folds the policies, first = outermost, onto the transport. Duplicate names are a programming error. */
export function composePipeline(policies: readonly PipelinePolicy[], transport: HttpTransport): SendRequest {
  const names = new Set<string>()
  for (const p of policies) {
    if (names.has(p.name)) throw new Error(`pipeline policy '${p.name}' appears twice`)
    names.add(p.name)
  }
  const terminal: SendRequest = async (request) => {
    const res = await transport.send(request)
    return {
      ...res,
      requestId: res.headers['request-id'],
      clientRequestId: res.headers['client-request-id'] ?? request.headers['client-request-id'],
    }
  }
  return policies.reduceRight<SendRequest>(
    (next, policy) => (request) => policy.send(request, next),
    terminal,
  )
}
