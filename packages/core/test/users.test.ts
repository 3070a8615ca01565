// users through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isGraphError } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()

describe('users', () => {
  it('treats revokeSignInSessions 200 {value:true} (not the documented 204) as success', async () => {
    network.use(
      http.post(`${V1}/users/:id/revokeSignInSessions`, () =>
        HttpResponse.json(
          { '@odata.context': `${V1}/$metadata#Edm.Boolean`, value: true },
          { headers: { 'request-id': 'rv' } },
        ),
      ),
    )
    const client = testClient()
    await expect(client.users.revokeSignInSessions('u1')).resolves.toMatchObject({ requestId: 'rv' })
    await client.close()
  })

  it('disables with PATCH accountEnabled false', async () => {
    network.use(
      http.patch(`${V1}/users/:id`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const client = testClient()
    await client.users.setAccountEnabled('u1', false)
    expect(JSON.parse(log[0]?.body ?? '')).toEqual({ accountEnabled: false })
    await client.close()
  })

  it('resets the password with a generated temporary one it never returns', async () => {
    network.use(
      http.patch(`${V1}/users/:id`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': 'pw' } })
      }),
    )
    const client = testClient()
    const result = await client.users.resetPassword('u1')
    const sent = JSON.parse(log[0]?.body ?? '').passwordProfile
    expect(sent.forceChangePasswordNextSignIn).toBe(true)
    expect(sent.password).toHaveLength(24)
    expect(JSON.stringify(result)).not.toContain(sent.password)
    await client.close()
  })

  it('reads the directory facts with $select', async () => {
    network.use(
      http.get(`${V1}/users/:id`, async ({ request, params }) => {
        await record(request)
        return HttpResponse.json({
          id: params.id,
          userPrincipalName: 'a@contoso.com',
          accountEnabled: true,
          onPremisesSyncEnabled: null,
          userType: 'Member',
        })
      }),
    )
    const client = testClient()
    const user = await client.users.get('u1')
    expect(user).toMatchObject({
      id: 'u1',
      accountEnabled: true,
      onPremisesSyncEnabled: undefined,
      userType: 'Member',
    })
    expect(new URL(log[0]?.url ?? '').searchParams.get('$select')).toContain('onPremisesSyncEnabled')
    await client.close()
  })

  it('maps 404 Request_ResourceNotFound to a GraphError with the Graph code', async () => {
    network.use(
      http.get(`${V1}/users/:id`, () =>
        graphError(404, 'Request_ResourceNotFound', "Resource 'x' does not exist"),
      ),
    )
    const client = testClient()
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(isGraphError(error)).toBe(true)
    expect(error).toMatchObject({ status: 404, graphCode: 'Request_ResourceNotFound', requestId: 'r-404' })
    await client.close()
  })
})

describe('users.get through the pipeline', () => {
  it('refuses a response body larger than the limit while reading it, with no content-length to go by', async () => {
    network.use(
      http.get(`${V1}/users/:id`, () => {
        const chunk = new TextEncoder().encode(`{"id":"x","pad":"${'a'.repeat(1024)}`)
        const stream = new ReadableStream({
          start(controller) {
            for (let i = 0; i < 8; i++) controller.enqueue(chunk)
            controller.close()
          },
        })
        return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } })
      }),
    )
    const client = testClient({ transport: { maxResponseBytes: 4096 } })
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(error).toMatchObject({ causeCode: 'TQ_RESPONSE_TOO_LARGE' })
    await client.close()
  })

  it('sends nothing once the run deadline has passed (collection is bounded too)', async () => {
    let hits = 0
    network.use(
      http.get(`${V1}/users/:id`, () => {
        hits++
        return HttpResponse.json({ id: 'x' })
      }),
    )
    const client = testClient({ deadlineAt: Date.now() - 1 })
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TQ_DEADLINE' })
    expect((error as Error).message).toMatch(/the deadline has passed; not sent/)
    expect(hits).toBe(0)
    await client.close()
  })
})

describe('users.getEach', () => {
  it('yields each round of $batch answers before the next round is sent', async () => {
    let batches = 0
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        batches++
        const body = (await request.json()) as { requests: Array<{ id: string }> }
        return HttpResponse.json({
          responses: body.requests.map((r) => ({ id: r.id, status: 200, body: { id: r.id } })),
        })
      }),
    )
    const client = testClient()
    const ids = Array.from({ length: 200 }, (_, i) => `u-${i}`)
    const sentWhenYielded: number[] = []
    const seen = new Set<string>()
    for await (const [id, user] of client.users.getEach(ids)) {
      expect(user).toMatchObject({ id })
      seen.add(id)
      sentWhenYielded.push(batches)
    }
    expect(seen.size).toBe(200)
    // 10 batches of 20, 4 at a time: the first users arrive while 6 batches are still unsent.
    expect(batches).toBe(10)
    expect(sentWhenYielded[0]).toBe(4)
    expect(sentWhenYielded.at(-1)).toBe(10)
    await client.close()
  })
})

describe('401 handling end to end', () => {
  it('refreshes the token exactly once on a 401 and succeeds', async () => {
    const seen: string[] = []
    network.use(
      http.get(`${V1}/users/:id`, ({ request, params }) => {
        seen.push(request.headers.get('authorization') ?? '')
        if (seen.length === 1)
          return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired')
        return HttpResponse.json({ id: params.id })
      }),
    )
    const client = testClient()
    await expect(client.users.get('u1')).resolves.toMatchObject({ id: 'u1' })
    expect(seen).toEqual(['Bearer stub-token-1', 'Bearer stub-token-2'])
    await client.close()
  })
})
