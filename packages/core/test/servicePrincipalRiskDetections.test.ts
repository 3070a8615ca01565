// servicePrincipalRiskDetections through the whole client, against Graph answered by msw.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isPermissionError, servicePrincipalRiskDetectionFilter } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()

const detection = {
  id: '2856d6e87c5c3a74021ff70291fa68107570c150d8dc145bdea5',
  riskEventType: 'investigationsThreatIntelligence',
  riskLevel: 'high',
  detectedDateTime: '2026-12-04T09:00:00Z',
  // The docs example's ids are not GUIDs: they must still parse.
  servicePrincipalId: '99b8d28b-11ae-4e84-9bef-0e767e286grg',
  keyIds: ['9d9fea30-d8e3-481b-b57c-0ef569a989e5'],
}

describe('servicePrincipalRiskDetections', () => {
  it('filters by detection time (ge), level, type and service principal, quoting literals', () => {
    expect(
      servicePrincipalRiskDetectionFilter({
        since: new Date('2026-12-01T00:00:00Z'),
        riskEventTypes: ['leakedCredentials'],
        servicePrincipalIds: ["o'brien"],
      }),
    ).toBe(
      "(detectedDateTime ge 2026-12-01T00:00:00.000Z) and (riskEventType eq 'leakedCredentials') and (servicePrincipalId eq 'o''brien')",
    )
  })

  it('lists without $top (the page documents $filter and $select only) and keeps keyIds', async () => {
    network.use(
      http.get(`${V1}/identityProtection/servicePrincipalRiskDetections`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({ value: [detection, { ...detection, id: 'd2', keyIds: null }] })
      }),
    )
    const client = testClient()
    const seen = []
    for await (const d of client.servicePrincipalRiskDetections.list({
      since: new Date('2026-12-01T00:00:00Z'),
    }))
      seen.push(d)
    const url = new URL(log[0]?.url ?? '')
    expect(url.searchParams.has('$top')).toBe(false)
    expect(url.searchParams.get('$filter')).toBe('detectedDateTime ge 2026-12-01T00:00:00.000Z')
    expect(seen.map((d) => d.keyIds)).toEqual([['9d9fea30-d8e3-481b-b57c-0ef569a989e5'], []])
    await client.close()
  })

  it('gets one detection, and names IdentityRiskEvent.Read.All on a 403', async () => {
    network.use(
      http.get(`${V1}/identityProtection/servicePrincipalRiskDetections/:id`, ({ params }) =>
        params.id === 'denied'
          ? graphError(
              403,
              'Authorization_RequestDenied',
              'Insufficient privileges to complete the operation.',
            )
          : HttpResponse.json({ ...detection, id: params.id }),
      ),
    )
    const client = testClient()
    await expect(client.servicePrincipalRiskDetections.get('d1')).resolves.toMatchObject({ id: 'd1' })
    const error = await client.servicePrincipalRiskDetections.get('denied').catch((e: unknown) => e)
    expect(isPermissionError(error)).toBe(true)
    expect(error).toMatchObject({ permission: 'IdentityRiskEvent.Read.All' })
    await client.close()
  })
})
