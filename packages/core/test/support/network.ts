/**
 * In-process interception at the socket level. msw 3's default setupServer does not see undici's own
 * request/Pool; the HttpRequestInterceptor from @mswjs/interceptors does (see docs/decisions/002).
 */
import { HttpRequestInterceptor } from '@mswjs/interceptors/http'
import type { RequestHandler } from 'msw'
import { defineNetwork, InterceptorSource } from 'msw/experimental'

export interface Network {
  use: (...handlers: RequestHandler[]) => void
  resetHandlers: (...handlers: RequestHandler[]) => void
  disable: () => unknown
}

export async function interceptNetwork(handlers: RequestHandler[] = []): Promise<Network> {
  const network = defineNetwork({
    sources: [new InterceptorSource({ interceptors: [new HttpRequestInterceptor()] })],
    handlers,
    onUnhandledFrame: 'error',
    // msw would otherwise print every request, authorization header included.
    context: { quiet: true },
  })
  await network.enable()
  return network
}
