import { createMockGraph, serveMock } from '@tourniquet/mock-graph'
import { describe, expect, it } from 'vitest'
import { clientFor, GRAPH, matchedThrottle, TIME_SCALE } from '../support/contract.js'

// No in-process interception in this file: requests cross a real loopback socket.
describe('over a real loopback HTTPS socket', () => {
  it('works against serveMock with its generated CA', async () => {
    const mock = createMockGraph({ scenario: 'demo', timeScale: TIME_SCALE })
    const running = await serveMock(mock)
    try {
      const client = clientFor({
        authorityHost: running.url,
        graphRoot: running.url,
        transport: { ca: running.caPem },
        throttle: matchedThrottle(),
      })
      const ids: string[] = []
      for await (const u of client.riskyUsers.list()) ids.push(u.id)
      expect(ids.sort()).toEqual([...mock.tenant.riskyUsers.keys()].sort())
      await client.close()
    } finally {
      await running.close()
    }
  })

  it('the Graph root is where the client sends tokens, nowhere else', () => {
    expect(clientFor().endpoints.graphRoot).toBe(GRAPH)
  })
})
