// $batch through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isGraphError, userItems } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network } = useGraphNetwork()

describe('$batch', () => {
  it('sends at most 20 per batch, matches shuffled answers by id, and re-batches only the throttled items after their Retry-After', async () => {
    const batches: string[][] = []
    let throttledOnce = false
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        const body = (await request.json()) as { requests: Array<{ id: string; url: string }> }
        batches.push(body.requests.map((r) => r.id))
        const responses = body.requests.map((r) => {
          if (r.id === 'u-3' && !throttledOnce) {
            throttledOnce = true
            return {
              id: r.id,
              status: 429,
              headers: { 'Retry-After': '0.01' },
              body: { error: { code: 'TooManyRequests', message: 'x' } },
            }
          }
          return { id: r.id, status: 204, body: null }
        })
        return HttpResponse.json({ responses: responses.reverse() })
      }),
    )
    const client = testClient()
    const items = Array.from({ length: 25 }, (_, i) => userItems.setAccountEnabled(`u-${i}`, false))
    const results = await client.batch.execute(items)
    expect(batches.map((b) => b.length)).toEqual([20, 5, 1])
    expect(batches[2]).toEqual(['u-3'])
    expect(results.get('u-3')).toMatchObject({ status: 204, attempts: 2, error: undefined })
    expect([...results.values()].every((r) => r.status === 204)).toBe(true)
    await client.close()
  })

  it('gives every write item a JSON body ({} for a revoke) and exactly `Content-Type`, and reads neither (Graph refuses the whole batch otherwise)', async () => {
    let sent: Array<Record<string, unknown>> = []
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        sent = ((await request.json()) as { requests: Array<Record<string, unknown>> }).requests
        return HttpResponse.json({
          responses: sent.map((r) => ({
            id: r.id,
            status: r.method === 'GET' ? 200 : 204,
            body: { id: r.id },
          })),
        })
      }),
    )
    const client = testClient()
    await client.batch.execute([
      userItems.revokeSignInSessions('a', 'revoke'),
      userItems.setAccountEnabled('b', false, 'disable'),
      userItems.get('c', ['id'], 'read'),
    ])
    const byId = new Map(sent.map((r) => [r.id, r]))
    expect(byId.get('revoke')).toEqual({
      id: 'revoke',
      method: 'POST',
      url: '/users/a/revokeSignInSessions',
      headers: { 'Content-Type': 'application/json' },
      body: {},
    })
    expect(byId.get('disable')).toMatchObject({
      headers: { 'Content-Type': 'application/json' },
      body: { accountEnabled: false },
    })
    expect(byId.get('read')).toEqual({ id: 'read', method: 'GET', url: '/users/c?$select=id' })
    await expect(
      client.batch.execute([{ id: 'x', method: 'GET', url: '/users/x', body: {}, operation: 'users.get' }]),
    ).rejects.toThrow(/carries no body/)
    await client.close()
  })

  it('fails an item at once, naming the wait, when its Retry-After passes the run deadline', async () => {
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        const body = (await request.json()) as { requests: Array<{ id: string }> }
        return HttpResponse.json({
          responses: body.requests.map((r) => ({
            id: r.id,
            status: 429,
            headers: { 'Retry-After': '600' },
            body: { error: { code: 'TooManyRequests', message: 'x' } },
          })),
        })
      }),
    )
    const client = testClient({ deadlineAt: Date.now() + 60_000 })
    const results = await client.batch.execute([userItems.setAccountEnabled('a', false)])
    expect(results.get('a')?.error?.message).toMatch(/due in 600 s .*deadline/)
    await client.close()
  })

  it('reports a partial failure per item with its own error', async () => {
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        const body = (await request.json()) as { requests: Array<{ id: string }> }
        return HttpResponse.json({
          responses: body.requests.map((r) =>
            r.id === 'b'
              ? {
                  id: r.id,
                  status: 400,
                  body: { error: { code: 'Request_BadRequest', message: 'Cannot update a synced user' } },
                }
              : { id: r.id, status: 204 },
          ),
        })
      }),
    )
    const client = testClient()
    const results = await client.batch.execute([
      userItems.setAccountEnabled('a', false),
      userItems.setAccountEnabled('b', false),
    ])
    expect(results.get('a')?.error).toBeUndefined()
    expect(results.get('b')).toMatchObject({ status: 400 })
    expect(results.get('b')?.error).toMatchObject({ graphCode: 'Request_BadRequest' })
    await client.close()
  })

  it('reads many users in one batch and keeps per-user errors', async () => {
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        const body = (await request.json()) as { requests: Array<{ id: string; url: string }> }
        return HttpResponse.json({
          responses: body.requests.map((r) =>
            r.id === 'gone'
              ? {
                  id: r.id,
                  status: 404,
                  body: { error: { code: 'Request_ResourceNotFound', message: 'gone' } },
                }
              : { id: r.id, status: 200, body: { id: r.id, accountEnabled: true, userType: 'Guest' } },
          ),
        })
      }),
    )
    const client = testClient()
    const users = await client.users.getMany(['a', 'gone', 'a'])
    expect(users.size).toBe(2)
    expect(users.get('a')).toMatchObject({ id: 'a', userType: 'Guest' })
    expect(isGraphError(users.get('gone'))).toBe(true)
    await client.close()
  })
})
