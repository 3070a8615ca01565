import { ConfigError } from '../../errors.js'
import { publishToken } from '../diagnostics.js'
import type { GraphRequest } from '../http.js'
import type { PipelinePolicy } from './pipeline.js'

export const authPolicyName = 'auth'

export interface AccessToken {
  token: string
  expiresOnMs: number
}

/** Where bearer tokens come from (msal in production, a stub in tests). */
export interface TokenProvider {
  /** A short, secret-free name for logs: 'client secret', 'managed identity', ... */
  readonly description: string
  getToken(options: { forceRefresh: boolean; signal?: AbortSignal | undefined }): Promise<AccessToken>
}

function withToken(request: GraphRequest, token: AccessToken): GraphRequest {
  return { ...request, headers: { ...request.headers, authorization: `Bearer ${token.token}` } }
}

/**
 * Signs each attempt (it sits inside retry, so a retried request gets a current token). A 401 gets
 * exactly one forced refresh and one resend, never a loop. The token only ever goes to the
 * configured Graph origin: anything else is refused before a byte is sent.
 */
export function authPolicy(provider: TokenProvider, graphOrigin: string): PipelinePolicy {
  return {
    name: authPolicyName,
    async send(request, next) {
      if (request.url.origin !== graphOrigin) {
        throw new ConfigError(
          'url',
          `refusing to send a Graph token to ${request.url.origin}; only ${graphOrigin} is configured`,
        )
      }
      const token = await provider.getToken({ forceRefresh: false, signal: request.signal })
      const response = await next(withToken(request, token))
      if (response.status !== 401) return response
      const fresh = await provider.getToken({ forceRefresh: true, signal: request.signal })
      publishToken({ kind: 'refreshed-after-401', credential: provider.description })
      return next(withToken(request, fresh))
    },
  }
}
