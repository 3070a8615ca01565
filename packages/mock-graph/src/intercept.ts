/**
 * In-process interception at the socket level. msw 3's default setupServer does not see undici's
 * own request/Pool; the HttpRequestInterceptor from @mswjs/interceptors does (docs/decisions/002).
 * Handlers run quietly: msw would otherwise print every request, authorization header included.
 */
import { HttpRequestInterceptor } from '@mswjs/interceptors/http'
import type { RequestHandler } from 'msw'
import { defineNetwork, InterceptorSource } from 'msw/experimental'

export interface InterceptedNetwork {
  use(...handlers: RequestHandler[]): void
  resetHandlers(...handlers: RequestHandler[]): void
  disable(): unknown
}

/** Starts intercepting every outgoing HTTP(S) request of this process; unmatched requests fail. */
export async function interceptNetwork(handlers: RequestHandler[] = []): Promise<InterceptedNetwork> {
  const network = defineNetwork({
    sources: [new InterceptorSource({ interceptors: [new HttpRequestInterceptor()] })],
    handlers,
    onUnhandledFrame: 'error',
    context: { quiet: true },
  })
  await network.enable()
  return network
}
