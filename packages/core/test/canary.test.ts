import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GRAPH, testClient } from './support/fixtures.js'
import { interceptNetwork, type Network } from './support/network.js'

// If this fails, interception of undici stopped working and every other network test is suspect.
describe('canary: msw intercepts the undici transport at the socket level', () => {
  let network: Network
  beforeAll(async () => {
    network = await interceptNetwork([
      http.get(`${GRAPH}/v1.0/identityProtection/riskyUsers/:id`, ({ params, request }) =>
        HttpResponse.json(
          {
            id: params.id,
            riskLevel: 'high',
            riskState: 'atRisk',
            seenAuth: request.headers.get('authorization'),
          },
          { headers: { 'request-id': 'canary-request' } },
        ),
      ),
    ])
  })
  afterAll(async () => {
    await network.disable()
  })

  it('serves a request made through the real undici Agent from an msw handler', async () => {
    const client = testClient()
    const user = await client.riskyUsers.get('u-1')
    expect(user).toMatchObject({ id: 'u-1', riskLevel: 'high', riskState: 'atRisk' })
    await client.close()
  })
})
