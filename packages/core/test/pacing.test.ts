import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHANNELS, type RequestMessage, type TokenProvider } from '../src/index.js'
import { GRAPH, testClient } from './support/fixtures.js'
import { interceptNetwork, type Network } from './support/network.js'

// Regression: with throttle outside auth, the first request took its budget token, then waited for
// an access token, and reached the service bunched against the second one (a 429 from Identity
// Protection in the demo). Pacing must hold at the wire.
describe('Identity Protection pacing holds at the wire', () => {
  let network: Network
  const arrivals: number[] = []
  beforeAll(async () => {
    network = await interceptNetwork([
      http.get(`${GRAPH}/v1.0/users/:id`, ({ params }) => HttpResponse.json({ id: params.id })),
      http.get(`${GRAPH}/v1.0/identityProtection/riskyUsers/:id`, ({ params }) =>
        HttpResponse.json({ id: params.id, riskLevel: 'high', riskState: 'atRisk' }),
      ),
    ])
  })
  // When each request leaves the pipeline for the wire (the diagnostics policy sits next to the
  // transport). Measured here, not in the handler, so CPU load on the test machine cannot skew it.
  const onRequest = (m: unknown): void => {
    if ((m as RequestMessage).operation === 'riskyUsers.get') arrivals.push(performance.now())
  }
  beforeAll(() => subscribe(CHANNELS.request, onRequest))
  afterAll(async () => {
    unsubscribe(CHANNELS.request, onRequest)
    await network.disable()
  })

  it('keeps requests one budget interval apart even when the first waits for a token', async () => {
    let calls = 0
    const slowTokens: TokenProvider = {
      description: 'slow',
      async getToken() {
        // The second call (the first Identity Protection request) waits, as a token refresh would.
        if (++calls === 2) await new Promise((r) => setTimeout(r, 150))
        return { token: 't', expiresOnMs: Date.now() + 60_000 }
      },
    }
    const client = testClient({
      tokenProvider: slowTokens,
      throttle: { identityProtection: { capacity: 1, refillPerSecond: 5 } },
    })
    // Warm the connection first: connection setup is not what this test measures.
    await client.users.get('warm-up')
    await client.riskyUsers.get('a')
    await client.riskyUsers.get('b')
    await client.riskyUsers.get('c')
    // Three Identity Protection requests were seen at the wire; without this a filter that stops
    // matching would leave no gap to check, and the test would pass with nothing asserted.
    expect(arrivals).toHaveLength(3)
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number))
    // 200 ms apart at 5/s; with the old order the first gap was about 50 ms.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(180)
    await client.close()
  })
})
