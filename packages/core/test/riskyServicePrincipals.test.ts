// riskyServicePrincipals through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  isContractError,
  isOutcomeUnknownError,
  isPermissionError,
  RISKY_SERVICE_PRINCIPALS_CHUNK,
} from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()
const SP = '9089a539-a539-9089-39a5-899039a58990'

describe('riskyServicePrincipals', () => {
  it('lists with a riskLevel/riskState filter and the required properties in $select, following nextLinks', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskyServicePrincipals`, async ({ request }) => {
        await record(request)
        const url = new URL(request.url)
        return HttpResponse.json(
          url.searchParams.has('$skiptoken')
            ? {
                value: [
                  {
                    id: 'sp2',
                    riskLevel: 'medium',
                    riskState: 'atRisk',
                    servicePrincipalType: 'ManagedIdentity',
                  },
                ],
              }
            : {
                value: [{ id: SP, appId: 'app-1', riskLevel: 'high', riskState: 'atRisk', riskDetail: null }],
                '@odata.nextLink': `${url.href}&$skiptoken=p2`,
              },
        )
      }),
    )
    const client = testClient()
    const seen = []
    for await (const sp of client.riskyServicePrincipals.list({
      riskLevels: ['high', 'medium'],
      riskStates: ['atRisk'],
      select: ['appId', 'servicePrincipalType'],
    }))
      seen.push(sp)
    const first = new URL(log[0]?.url ?? '')
    expect(first.searchParams.get('$filter')).toBe(
      "((riskLevel eq 'high') or (riskLevel eq 'medium')) and (riskState eq 'atRisk')",
    )
    expect(first.searchParams.get('$select')).toBe('id,riskLevel,riskState,appId,servicePrincipalType')
    expect(seen.map((s) => [s.id, s.riskDetail, s.servicePrincipalType])).toEqual([
      [SP, undefined, undefined],
      ['sp2', undefined, 'ManagedIdentity'],
    ])
    expect(log).toHaveLength(2)
    await client.close()
  })

  it('takes each request from the Identity Protection budget', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskyServicePrincipals/:id`, ({ params }) =>
        HttpResponse.json({ id: params.id, riskLevel: 'high', riskState: 'atRisk' }),
      ),
    )
    const client = testClient({ throttle: { identityProtection: { capacity: 5, refillPerSecond: 0.001 } } })
    const before = client.throttle.identityProtection.available()
    await client.riskyServicePrincipals.get(SP)
    expect(before - client.throttle.identityProtection.available()).toBeCloseTo(1, 2)
    await client.close()
  })

  it('reads a single risky service principal bare or wrapped in value, as the get page shows it', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskyServicePrincipals/:id`, ({ params }) => {
        const entity = {
          id: params.id,
          riskLevel: 'high',
          riskState: 'atRisk',
          servicePrincipalType: 'Application',
        }
        return HttpResponse.json(params.id === 'wrapped' ? { value: entity } : entity)
      }),
    )
    const client = testClient()
    await expect(client.riskyServicePrincipals.get('wrapped')).resolves.toMatchObject({
      id: 'wrapped',
      riskState: 'atRisk',
    })
    await expect(client.riskyServicePrincipals.get('bare')).resolves.toMatchObject({ id: 'bare' })
    await client.close()
  })

  it('refuses an answer without riskState as a ContractError naming the field', async () => {
    network.use(
      http.get(`${V1}/identityProtection/riskyServicePrincipals/:id`, ({ params }) =>
        HttpResponse.json({ id: params.id, riskLevel: 'high' }),
      ),
    )
    const client = testClient()
    const error = await client.riskyServicePrincipals.get(SP).catch((e: unknown) => e)
    expect(isContractError(error)).toBe(true)
    expect((error as Error).message).toMatch(/riskState/)
    await client.close()
  })

  it('confirms compromised in chunks of at most 60 servicePrincipalIds, duplicates sent once', async () => {
    network.use(
      http.post(`${V1}/identityProtection/riskyServicePrincipals/confirmCompromised`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': `c-${log.length}` } })
      }),
    )
    const client = testClient()
    const ids = Array.from({ length: 125 }, (_, i) => `sp-${i}`)
    const result = await client.riskyServicePrincipals.confirmCompromised([...ids, 'sp-3'])
    expect(RISKY_SERVICE_PRINCIPALS_CHUNK).toBe(60)
    expect(log.map((l) => JSON.parse(l.body).servicePrincipalIds.length)).toEqual([60, 60, 5])
    expect(log.every((l) => !('userIds' in JSON.parse(l.body)))).toBe(true)
    expect(result.succeeded.map((c) => c.requestId)).toEqual(['c-1', 'c-2', 'c-3'])
    await client.close()
  })

  it('dismisses, reports a failed chunk with its ids, and does not resend after a 504', async () => {
    let calls = 0
    network.use(
      http.post(`${V1}/identityProtection/riskyServicePrincipals/dismiss`, () => {
        calls++
        return calls === 1
          ? graphError(504, 'GatewayTimeout', 'timeout')
          : new HttpResponse(null, { status: 204 })
      }),
    )
    const client = testClient()
    const result = await client.riskyServicePrincipals.dismiss(Array.from({ length: 61 }, (_, i) => `sp${i}`))
    expect(calls).toBe(2)
    expect(result.failed[0]?.ids).toHaveLength(60)
    expect(isOutcomeUnknownError(result.failed[0]?.error)).toBe(true)
    expect(result.succeeded[0]?.ids).toEqual(['sp60'])
    await client.close()
  })

  it('names the permission and the Workload ID Premium licence on a 403', async () => {
    network.use(
      http.post(`${V1}/identityProtection/riskyServicePrincipals/confirmCompromised`, () =>
        graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
      ),
    )
    const client = testClient()
    const result = await client.riskyServicePrincipals.confirmCompromised([SP])
    const error = result.failed[0]?.error
    expect(isPermissionError(error)).toBe(true)
    expect(error).toMatchObject({ permission: 'IdentityRiskyServicePrincipal.ReadWrite.All' })
    expect(error?.message).toMatch(/Workload ID Premium/)
    await client.close()
  })
})
