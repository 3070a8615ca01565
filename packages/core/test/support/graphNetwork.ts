/** What every resource test file shares: Graph's versioned root, its error shape, and the interception. */
import { HttpResponse, type RequestHandler } from 'msw'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { GRAPH } from './fixtures.js'
import { interceptNetwork, type Network } from './network.js'

export const V1 = `${GRAPH}/v1.0`

export const graphError = (status: number, code: string, message: string) =>
  HttpResponse.json(
    { error: { code, message, innerError: { 'request-id': 'inner-r', date: '2026-11-26T10:00:00' } } },
    { status, headers: { 'request-id': `r-${status}` } },
  )

export interface LoggedRequest {
  method: string
  url: string
  body: string
}

/**
 * Intercepts this test file's network for its whole run (nothing leaves the process: an unmatched
 * request fails) and gives each test a clean slate: no handlers, an empty log.
 */
export function useGraphNetwork(): {
  network: Pick<Network, 'use'>
  log: LoggedRequest[]
  record: (request: Request) => Promise<void>
} {
  let intercepted: Network | undefined
  const log: LoggedRequest[] = []
  beforeAll(async () => {
    intercepted = await interceptNetwork()
  })
  afterAll(async () => {
    await intercepted?.disable()
  })
  beforeEach(() => {
    log.length = 0
    intercepted?.resetHandlers()
  })
  return {
    network: {
      use(...handlers: RequestHandler[]) {
        if (intercepted === undefined) throw new Error('the network is intercepted from beforeAll on')
        intercepted.use(...handlers)
      },
    },
    log,
    async record(request) {
      log.push({
        method: request.method,
        url: request.url,
        body: request.method === 'GET' ? '' : await request.clone().text(),
      })
    },
  }
}
