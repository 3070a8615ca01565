// riskDetections through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  type ContractError,
  isContractError,
  isGraphError,
  RISK_DETECTION_SELECT,
  riskDetectionFilter,
} from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()

describe('riskDetections', () => {
  it('reads one detection by id, and a detection that does not exist is a 404 GraphError', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskDetections/:id`, ({ params }) =>
        params.id === 'd1'
          ? HttpResponse.json({
              id: 'd1',
              userId: 'u1',
              riskEventType: 'leakedCredentials',
              riskLevel: 'high',
              detectedDateTime: '2026-12-04T09:00:00Z',
            })
          : graphError(404, 'NotFound', 'not found'),
      ),
    )
    const client = testClient()
    await expect(client.riskDetections.get('d1')).resolves.toMatchObject({ id: 'd1', userId: 'u1' })
    const error = await client.riskDetections.get('invented').catch((e: unknown) => e)
    expect(isGraphError(error) && error.status).toBe(404)
    await client.close()
  })
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

  it('filters by last update with gt and an unquoted time (a late offline detection keeps its old detectedDateTime)', () => {
    const at = new Date('2026-12-01T10:00:00Z')
    expect(riskDetectionFilter({ updatedAfter: at })).toBe('lastUpdatedDateTime gt 2026-12-01T10:00:00.000Z')
    expect(riskDetectionFilter({ since: at, updatedAfter: at })).toBe(
      '(detectedDateTime ge 2026-12-01T10:00:00.000Z) and (lastUpdatedDateTime gt 2026-12-01T10:00:00.000Z)',
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
