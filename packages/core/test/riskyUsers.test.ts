// riskyUsers through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isGraphError, isOutcomeUnknownError, isPermissionError, isThrottledError } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()

describe('riskyUsers', () => {
  it("asks for changes with gt (the operators Microsoft listed: eq, gt, lt) and tells each page's number and Date as it answers", async () => {
    const pages: string[] = []
    network.use(
      http.get(`${V1}/identityProtection/riskyUsers`, ({ request }) => {
        const url = new URL(request.url)
        pages.push(url.searchParams.get('$filter') ?? '')
        const second = url.searchParams.has('$skiptoken')
        return HttpResponse.json(
          second
            ? { value: [{ id: 'u2', riskLevel: 'high', riskState: 'atRisk' }] }
            : { value: [], '@odata.nextLink': `${url.href}&$skiptoken=p2` },
          { headers: { date: second ? 'Fri, 04 Dec 2026 10:00:05 GMT' : 'Fri, 04 Dec 2026 10:00:00 GMT' } },
        )
      }),
    )
    const client = testClient()
    const seen: unknown[] = []
    const users: string[] = []
    for await (const u of client.riskyUsers.list(
      { updatedAfter: new Date('2026-12-04T09:50:00Z') },
      { onPage: (page) => seen.push(page) },
    ))
      users.push(u.id)
    expect(pages[0]).toBe('riskLastUpdatedDateTime gt 2026-12-04T09:50:00.000Z')
    expect(users).toEqual(['u2'])
    // An empty first page is an answer: the caller can tell it from a refusal of the first request.
    expect(seen).toEqual([
      {
        number: 1,
        date: 'Fri, 04 Dec 2026 10:00:00 GMT',
        items: 0,
        nextLink: expect.stringContaining('$skiptoken=p2'),
      },
      { number: 2, date: 'Fri, 04 Dec 2026 10:00:05 GMT', items: 1, nextLink: undefined },
    ])
    await client.close()
  })

  it('retries an Identity Protection 429 that carries no Retry-After, then succeeds', async () => {
    let calls = 0
    network.use(
      http.get(`${V1}/identityProtection/riskyUsers/:id`, ({ params }) => {
        calls++
        if (calls < 3) return graphError(429, 'TooManyRequests', 'Too many requests')
        return HttpResponse.json({ id: params.id, riskLevel: 'high', riskState: 'atRisk' })
      }),
    )
    const client = testClient()
    await expect(client.riskyUsers.get('u1')).resolves.toMatchObject({ id: 'u1' })
    expect(calls).toBe(3)
    await client.close()
  })

  it('gives up with ThrottledError when the service keeps answering 429', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskyUsers/:id`, () =>
        graphError(429, 'TooManyRequests', 'slow down'),
      ),
    )
    const client = testClient({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } })
    const error = await client.riskyUsers.get('u1').catch((e: unknown) => e)
    expect(isThrottledError(error)).toBe(true)
    await client.close()
  })

  it('confirms compromised in chunks of at most 60 ids, each chunk one POST', async () => {
    network.use(
      http.post(`${V1}/identityProtection/riskyUsers/confirmCompromised`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': `chunk-${log.length}` } })
      }),
    )
    const client = testClient()
    const ids = Array.from({ length: 130 }, (_, i) => `user-${i}`)
    const result = await client.riskyUsers.confirmCompromised([...ids, 'user-0'])
    expect(log.map((l) => JSON.parse(l.body).userIds.length)).toEqual([60, 60, 10])
    expect(result.succeeded.map((c) => c.requestId)).toEqual(['chunk-1', 'chunk-2', 'chunk-3'])
    expect(result.failed).toEqual([])
    await client.close()
  })

  it('reports a failed chunk with its ids and goes on with the next', async () => {
    let n = 0
    network.use(
      http.post(`${V1}/identityProtection/riskyUsers/dismiss`, () =>
        ++n === 1
          ? graphError(400, 'badRequest', 'These requestIds do not exist')
          : new HttpResponse(null, { status: 204 }),
      ),
    )
    const client = testClient()
    const result = await client.riskyUsers.dismiss(Array.from({ length: 70 }, (_, i) => `u${i}`))
    expect(result.failed).toHaveLength(1)
    expect(result.failed[0]?.ids).toHaveLength(60)
    expect(isGraphError(result.failed[0]?.error)).toBe(true)
    expect(result.succeeded[0]?.ids).toHaveLength(10)
    await client.close()
  })

  it('does not resend confirmCompromised after a 504 (outcome unknown)', async () => {
    let calls = 0
    network.use(
      http.post(`${V1}/identityProtection/riskyUsers/confirmCompromised`, () => {
        calls++
        return graphError(504, 'GatewayTimeout', 'timeout')
      }),
    )
    const client = testClient()
    const result = await client.riskyUsers.confirmCompromised(['u1'])
    expect(calls).toBe(1)
    expect(isOutcomeUnknownError(result.failed[0]?.error)).toBe(true)
    await client.close()
  })

  it('names the missing permission on 403 Authorization_RequestDenied', async () => {
    network.use(
      http.post(`${V1}/identityProtection/riskyUsers/confirmSafe`, () =>
        graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
      ),
    )
    const client = testClient()
    const result = await client.riskyUsers.confirmSafe(['u1'])
    const error = result.failed[0]?.error
    expect(isPermissionError(error)).toBe(true)
    expect(error).toMatchObject({ permission: 'IdentityRiskyUser.ReadWrite.All', requestId: 'r-403' })
    expect(error?.message).toMatch(/IdentityRiskyUser\.ReadWrite\.All/)
    await client.close()
  })
})
