/** The mock as msw handlers, for in-process tests (intercepted at the socket level by the caller). */
import { HttpResponse, http, type RequestHandler } from 'msw'
import { RESET } from './http.js'
import type { MockGraph } from './mock.js'

/** Handlers answering every request to the given origins (login and Graph may share one). */
export function mswHandlers(mock: MockGraph, origins: string[]): RequestHandler[] {
  return [...new Set(origins)].map((origin) =>
    http.all(`${origin}/*`, async ({ request }) => {
      const result = await mock.handle(request)
      return result === RESET ? HttpResponse.error() : result
    }),
  )
}
