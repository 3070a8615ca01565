import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type ContractError,
  isContractError,
  isGraphError,
  isOutcomeUnknownError,
  isPermissionError,
  isThrottledError,
  RISK_DETECTION_SELECT,
  riskDetectionFilter,
  userItems,
} from '../src/index.js'
import { GRAPH, testClient } from './support/fixtures.js'
import { interceptNetwork, type Network } from './support/network.js'

const V1 = `${GRAPH}/v1.0`
const graphError = (status: number, code: string, message: string) =>
  HttpResponse.json(
    { error: { code, message, innerError: { 'request-id': 'inner-r', date: '2026-11-26T10:00:00' } } },
    { status, headers: { 'request-id': `r-${status}` } },
  )

let network: Network
const log: Array<{ method: string; url: string; body: string }> = []

beforeAll(async () => {
  network = await interceptNetwork()
})
afterAll(async () => {
  await network.disable()
})
beforeEach(() => {
  log.length = 0
  network.resetHandlers()
})

async function record(request: Request): Promise<void> {
  log.push({
    method: request.method,
    url: request.url,
    body: request.method === 'GET' ? '' : await request.clone().text(),
  })
}

describe('riskDetections', () => {
  it('sends the typed filter with $top=500 and follows nextLink across pages, streaming', async () => {
    const pages = 4
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, async ({ request }) => {
        await record(request)
        const url = new URL(request.url)
        const page = Number(url.searchParams.get('$skiptoken') ?? '0')
        const value = Array.from({ length: page === 2 ? 0 : 3 }, (_, i) => ({
          id: `d-${page}-${i}`,
          userId: `u-${i}`,
          riskEventType: 'leakedCredentials',
          riskLevel: 'high',
          detectedDateTime: '2026-11-26T01:00:00Z',
          brandNewField: { nested: true },
        }))
        const next =
          page + 1 < pages ? `${V1}/identityProtection/riskDetections?$skiptoken=${page + 1}` : undefined
        return HttpResponse.json({ value, ...(next ? { '@odata.nextLink': next } : {}) })
      }),
    )
    const client = testClient()
    const since = new Date('2026-11-25T00:00:00Z')
    const seen: string[] = []
    for await (const d of client.riskDetections.list({ since, riskLevels: ['high'] })) seen.push(d.id)
    // Page 2 is empty but carries a nextLink: paging must go on.
    expect(seen).toHaveLength(9)
    expect(log).toHaveLength(4)
    const first = new URL(log[0]?.url ?? '')
    expect(first.searchParams.get('$top')).toBe('500')
    expect(first.searchParams.get('$filter')).toBe(
      "(detectedDateTime ge 2026-11-25T00:00:00.000Z) and (riskLevel eq 'high')",
    )
    expect(log[1]?.url).toBe(`${V1}/identityProtection/riskDetections?$skiptoken=1`)
    await client.close()
  })

  it('asks only for the properties the caller names, plus the ones every detection must carry', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({ value: [] })
      }),
      http.get(`${V1}/identityProtection/riskyUsers`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({ value: [] })
      }),
    )
    const client = testClient()
    for await (const _ of client.riskDetections.list({ select: RISK_DETECTION_SELECT })) break
    for await (const _ of client.riskyUsers.list({ select: ['userPrincipalName'] })) break
    for await (const _ of client.riskyUsers.list()) break
    const selects = log.map((l) => new URL(l.url).searchParams.get('$select'))
    expect(selects[0]?.split(',').sort()).toEqual(
      [
        'detectedDateTime',
        'detectionTimingType',
        'id',
        'lastUpdatedDateTime',
        'riskEventType',
        'riskLevel',
        'source',
        'userId',
      ].sort(),
    )
    expect(selects[1]).toBe('id,riskLevel,riskState,userPrincipalName')
    expect(selects[2]).toBeNull()
    await client.close()
  })

  it('refuses a nextLink that leads back to a page already read (a cycle), after one request per page', async () => {
    let hits = 0
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, ({ request }) => {
        hits++
        const url = new URL(request.url)
        // Page 1 links to page 2, which links back to page 2 itself.
        url.searchParams.set('$skiptoken', '2')
        return HttpResponse.json({ value: [], '@odata.nextLink': url.href })
      }),
    )
    const client = testClient()
    const error = await (async () => {
      for await (const _ of client.riskDetections.list()) {
        /* drain */
      }
    })().catch((e: unknown) => e)
    expect(isContractError(error)).toBe(true)
    expect((error as Error).message).toMatch(/leads back to a page already read/)
    expect(hits).toBe(2)
    await client.close()
  })

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
    expect((error as Error).message).toMatch(/deadline .* has passed; not sent/)
    expect(hits).toBe(0)
    await client.close()
  })

  it('refuses a nextLink to another origin without sending the token there', async () => {
    let evilHits = 0
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, () =>
        HttpResponse.json({
          value: [],
          '@odata.nextLink':
            'https://evil.tourniquet.invalid/v1.0/identityProtection/riskDetections?$skiptoken=1',
        }),
      ),
      http.get('https://evil.tourniquet.invalid/*', () => {
        evilHits++
        return HttpResponse.json({ value: [] })
      }),
    )
    const client = testClient()
    const error = await (async () => {
      for await (const _ of client.riskDetections.list()) {
        /* drain */
      }
    })().catch((e: unknown) => e)
    expect(isContractError(error)).toBe(true)
    expect((error as ContractError).path).toBe('@odata.nextLink')
    expect(evilHits).toBe(0)
    await client.close()
  })

  it('filters by last update with ge and an unquoted time (a late offline detection keeps its old detectedDateTime)', () => {
    const at = new Date('2026-12-01T10:00:00Z')
    expect(riskDetectionFilter({ updatedSince: at })).toBe('lastUpdatedDateTime ge 2026-12-01T10:00:00.000Z')
    expect(riskDetectionFilter({ since: at, updatedSince: at })).toBe(
      '(detectedDateTime ge 2026-12-01T10:00:00.000Z) and (lastUpdatedDateTime ge 2026-12-01T10:00:00.000Z)',
    )
  })

  it('escapes values in the filter (OData injection attempt)', () => {
    const filter = riskDetectionFilter({ riskEventTypes: ["x' or riskLevel eq 'low"] })
    expect(filter).toBe("riskEventType eq 'x'' or riskLevel eq ''low'")
  })

  it('turns a response that breaks the schema into a ContractError naming the field', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, () =>
        HttpResponse.json(
          { value: [{ id: 'd', userId: 'u', riskEventType: 'x', riskLevel: 7, detectedDateTime: 'now' }] },
          { headers: { 'request-id': 'bad-shape' } },
        ),
      ),
    )
    const client = testClient()
    const error = await client.riskDetections
      .list()
      .next()
      .catch((e: unknown) => e)
    expect(isContractError(error)).toBe(true)
    expect((error as ContractError).path).toBe('value[0].riskLevel')
    expect((error as ContractError).requestId).toBe('bad-shape')
    await client.close()
  })

  it('sends a read again when its answer was cut short, and says so when it always is', async () => {
    let calls = 0
    network.use(
      http.get(`${V1}/identityProtection/riskDetections`, () => {
        calls++
        return calls === 1
          ? new HttpResponse('{"value":[{"id":', { headers: { 'content-type': 'application/json' } })
          : HttpResponse.json({ value: [] })
      }),
    )
    const client = testClient()
    await expect(client.riskDetections.list().next()).resolves.toMatchObject({ done: true })
    expect(calls).toBe(2)
    network.use(
      http.get(
        `${V1}/identityProtection/riskDetections`,
        () => new HttpResponse('{"value":[', { headers: { 'content-type': 'application/json' } }),
      ),
    )
    const error = await client.riskDetections
      .list()
      .next()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TQ_TRANSPORT', causeCode: 'TQ_TRUNCATED_BODY' })
    expect((error as Error).message).toMatch(/cut short/)
    await client.close()
  })
})

describe('riskyUsers', () => {
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

describe('Defender for Identity identityAccounts', () => {
  const account = {
    id: 'mdi-1',
    displayName: 'jdoe',
    domain: 'corp.contoso.local',
    onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1001',
    isEnabled: true,
    accounts: [
      { provider: 'ActiveDirectory', identifier: 'ad-1', actions: ['Disable', 'forcePasswordReset'] },
      { identityProvider: 'entraID', identifier: 'entra-1', actions: [] },
      { provider: 'Okta', identifier: 'okta-1', actions: ['revokeAllSessions'] },
    ],
  }

  it('lists by SID with an escaped filter and normalizes provider keys and enum case', async () => {
    network.use(
      http.get(`${V1}/security/identities/identityAccounts`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({ value: [account] })
      }),
    )
    const client = testClient()
    const found = []
    for await (const a of client.identityAccounts.list({
      onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1001',
    }))
      found.push(a)
    expect(new URL(log[0]?.url ?? '').searchParams.get('$filter')).toBe(
      "onPremisesSecurityIdentifier eq 'S-1-5-21-1-2-3-1001'",
    )
    expect(found[0]?.accounts).toEqual([
      { identifier: 'ad-1', provider: 'activeDirectory', actions: ['disable', 'forcePasswordReset'] },
      { identifier: 'entra-1', provider: 'entraID', actions: [] },
      { identifier: 'okta-1', provider: 'okta', actions: ['revokeAllSessions'] },
    ])
    await client.close()
  })

  it('accepts get-by-id wrapped in value (as the docs show) or not', async () => {
    network.use(
      http.get(`${V1}/security/identities/identityAccounts/:id`, ({ params }) =>
        params.id === 'wrapped'
          ? HttpResponse.json({ value: { ...account, id: 'wrapped' } })
          : HttpResponse.json({ ...account, id: String(params.id) }),
      ),
    )
    const client = testClient()
    expect((await client.identityAccounts.get('wrapped')).id).toBe('wrapped')
    expect((await client.identityAccounts.get('plain')).id).toBe('plain')
    await client.close()
  })

  it('invokes an action with accountId, action and identityProvider, and reads the wrapped correlationId', async () => {
    network.use(
      http.post(`${V1}/security/identities/identityAccounts/:id/invokeAction`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({
          value: {
            accountId: 'ad-1',
            action: 'disable',
            provider: 'ActiveDirectory',
            correlationId: 'corr-1',
          },
        })
      }),
    )
    const client = testClient()
    const result = await client.identityAccounts.invokeAction({
      identityAccountId: 'mdi-1',
      accountId: 'ad-1',
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(JSON.parse(log[0]?.body ?? '')).toEqual({
      accountId: 'ad-1',
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(result).toMatchObject({ correlationId: 'corr-1', identityProvider: 'activeDirectory' })
    await client.close()
  })
})

describe('groups', () => {
  it('pages transitive members', async () => {
    network.use(
      http.get(`${V1}/groups/:id/transitiveMembers`, ({ request }) => {
        const page = new URL(request.url).searchParams.get('$skiptoken')
        if (page === null) {
          return HttpResponse.json({
            value: [{ '@odata.type': '#microsoft.graph.user', id: 'a', userPrincipalName: 'a@c.com' }],
            '@odata.nextLink': `${V1}/groups/g/transitiveMembers?$skiptoken=2`,
          })
        }
        return HttpResponse.json({ value: [{ '@odata.type': '#microsoft.graph.group', id: 'nested' }] })
      }),
    )
    const client = testClient()
    const ids: string[] = []
    for await (const m of client.groups.transitiveMembers('g')) ids.push(m.id)
    expect(ids).toEqual(['a', 'nested'])
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
