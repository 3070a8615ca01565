// servicePrincipals through the whole client, against Graph answered by msw.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isGraphError, isPermissionError, SERVICE_PRINCIPAL_SELECT } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()
const SP = '59e617e5-e447-4adc-8b88-00af644d7c92'
const SECRET_TEXT = 'Zx9~not-a-real-secret-but-must-never-leak'
const KEY_DATA = 'MIIDAzCCAeugAwIBAgIQ-public-cert-data'

const sp = {
  id: SP,
  appId: '65415bb1-9267-4313-bbf5-ae259732ee12',
  displayName: 'Contoso build',
  appOwnerOrganizationId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  servicePrincipalType: 'Application',
  accountEnabled: true,
  passwordCredentials: [
    {
      keyId: 'p-1',
      displayName: 'ci',
      hint: 'Zx9',
      startDateTime: '2026-12-01T00:00:00Z',
      secretText: SECRET_TEXT,
    },
    { keyId: 'p-2', displayName: 'old', hint: 'abc', startDateTime: '2025-01-01T00:00:00Z' },
  ],
  keyCredentials: [
    { keyId: 'k-1', displayName: 'CN=new', type: 'AsymmetricX509Cert', usage: 'Verify', key: null },
    { keyId: 'k-2', displayName: 'CN=old', type: 'AsymmetricX509Cert', usage: 'Verify', key: null },
  ],
}

describe('servicePrincipals', () => {
  it('gets the routing facts with $select, and never keeps a secretText or key data', async () => {
    network.use(
      http.get(`${V1}/servicePrincipals/:id`, async ({ request }) => {
        await record(request)
        return HttpResponse.json(sp)
      }),
    )
    const client = testClient()
    const got = await client.servicePrincipals.get(SP)
    expect(new URL(log[0]?.url ?? '').searchParams.get('$select')).toBe(SERVICE_PRINCIPAL_SELECT.join(','))
    expect(got).toMatchObject({
      appOwnerOrganizationId: sp.appOwnerOrganizationId,
      servicePrincipalType: 'Application',
    })
    expect(JSON.stringify(got)).not.toContain(SECRET_TEXT)
    expect(got.keyCredentials[0]).not.toHaveProperty('key')
    await client.close()
  })

  it("addresses a service principal by appId as servicePrincipals(appId='...')", async () => {
    network.use(
      http.get(`${V1}/*`, async ({ request }) => {
        await record(request)
        return HttpResponse.json(sp)
      }),
    )
    const client = testClient()
    await client.servicePrincipals.getByAppId(sp.appId)
    expect(new URL(log[0]?.url ?? '').pathname).toBe(`/v1.0/servicePrincipals(appId='${sp.appId}')`)
    await client.close()
  })

  it('disables with PATCH accountEnabled false on the directory-write budget', async () => {
    network.use(
      http.patch(`${V1}/servicePrincipals/:id`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': 'patch-1' } })
      }),
    )
    const client = testClient({ throttle: { directoryWrite: { capacity: 5, refillPerSecond: 0.001 } } })
    const before = client.throttle.directoryWrite.available()
    const result = await client.servicePrincipals.setAccountEnabled(SP, false)
    expect(JSON.parse(log[0]?.body ?? '')).toEqual({ accountEnabled: false })
    expect(result.requestId).toBe('patch-1')
    expect(before - client.throttle.directoryWrite.available()).toBeCloseTo(1, 2)
    await client.close()
  })

  it('names Application.ReadWrite.All when a disable is refused', async () => {
    network.use(
      http.patch(`${V1}/servicePrincipals/:id`, () =>
        graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
      ),
    )
    const client = testClient()
    const error = await client.servicePrincipals.setAccountEnabled(SP, false).catch((e: unknown) => e)
    expect(isPermissionError(error)).toBe(true)
    expect(error).toMatchObject({ permission: 'Application.ReadWrite.All' })
    await client.close()
  })

  it('removes passwords with removePassword and keys with one PATCH of the kept list, recording keyId and hint only', async () => {
    network.use(
      http.get(`${V1}/servicePrincipals/:id`, async ({ request }) => {
        await record(request)
        const select = new URL(request.url).searchParams.get('$select')
        // The keyCredentials-only read returns each key's data, as the keyCredential page says.
        if (select === 'keyCredentials')
          return HttpResponse.json({
            keyCredentials: sp.keyCredentials.map((k) => ({ ...k, key: `${KEY_DATA}-${k.keyId}` })),
          })
        return HttpResponse.json(sp)
      }),
      http.post(`${V1}/servicePrincipals/:id/removePassword`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': 'rp' } })
      }),
      http.patch(`${V1}/servicePrincipals/:id`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': 'rk' } })
      }),
    )
    const client = testClient()
    const result = await client.servicePrincipals.removeCredentials(SP, {
      passwordKeyIds: ['p-1', 'gone'],
      keyKeyIds: ['k-1'],
    })
    const writes = log.filter((l) => l.method !== 'GET')
    expect(writes.map((w) => [w.method, new URL(w.url).pathname, JSON.parse(w.body)])).toEqual([
      ['POST', `/v1.0/servicePrincipals/${SP}/removePassword`, { keyId: 'p-1' }],
      // The kept key goes back with its data; the removed one is left out.
      [
        'PATCH',
        `/v1.0/servicePrincipals/${SP}`,
        { keyCredentials: [{ ...sp.keyCredentials[1], key: `${KEY_DATA}-k-2` }] },
      ],
    ])
    expect(result.removed).toEqual([
      { kind: 'password', keyId: 'p-1', displayName: 'ci', hint: 'Zx9', requestId: 'rp' },
      { kind: 'key', keyId: 'k-1', displayName: 'CN=new', hint: undefined, requestId: 'rk' },
    ])
    expect(result.absent).toEqual([{ kind: 'password', keyId: 'gone' }])
    const text = JSON.stringify(result)
    expect(text).not.toContain(SECRET_TEXT)
    expect(text).not.toContain(KEY_DATA)
    await client.close()
  })

  it('reports a refused removal per credential and goes on with the rest', async () => {
    network.use(
      http.get(`${V1}/servicePrincipals/:id`, () => HttpResponse.json(sp)),
      http.post(`${V1}/servicePrincipals/:id/removePassword`, async ({ request }) => {
        const { keyId } = (await request.json()) as { keyId: string }
        return keyId === 'p-1'
          ? graphError(400, 'Request_BadRequest', 'No password credential found with keyId p-1.')
          : new HttpResponse(null, { status: 204 })
      }),
    )
    const client = testClient()
    const result = await client.servicePrincipals.removeCredentials(SP, { passwordKeyIds: ['p-1', 'p-2'] })
    expect(result.failed.map((f) => f.keyId)).toEqual(['p-1'])
    expect(isGraphError(result.failed[0]?.error)).toBe(true)
    expect(result.removed.map((r) => r.keyId)).toEqual(['p-2'])
    await client.close()
  })
})

describe('servicePrincipals through $batch', () => {
  it('reads many in rounds of 20 and yields each, or the error of the one that failed', async () => {
    const batches: number[] = []
    network.use(
      http.post(`${V1}/$batch`, async ({ request }) => {
        const { requests } = (await request.json()) as { requests: Array<{ id: string; url: string }> }
        batches.push(requests.length)
        return HttpResponse.json({
          responses: requests.map((r) =>
            r.id === 'sp-missing'
              ? {
                  id: r.id,
                  status: 404,
                  body: { error: { code: 'Request_ResourceNotFound', message: 'gone' } },
                }
              : { id: r.id, status: 200, body: { ...sp, id: r.id } },
          ),
        })
      }),
    )
    const client = testClient()
    const ids = [...Array.from({ length: 24 }, (_, i) => `sp-${i}`), 'sp-missing']
    const got = new Map<string, unknown>()
    for await (const [id, result] of client.servicePrincipals.getEach(ids)) got.set(id, result)
    expect(batches).toEqual([20, 5])
    expect(got.size).toBe(25)
    expect(got.get('sp-3')).toMatchObject({ id: 'sp-3', appOwnerOrganizationId: sp.appOwnerOrganizationId })
    expect(isGraphError(got.get('sp-missing'))).toBe(true)
    await client.close()
  })
})

describe('servicePrincipals.resolve (exclusions)', () => {
  const answer = (byId: Record<string, string>, byAppId: Record<string, string> = {}, fail?: number) =>
    http.get(`${V1}/*`, async ({ request }) => {
      await record(request)
      if (fail !== undefined)
        return graphError(fail, 'Authorization_RequestDenied', 'Insufficient privileges')
      const path = decodeURIComponent(new URL(request.url).pathname)
      const appId = /appId='([^']+)'/.exec(path)?.[1]
      const id = appId === undefined ? byId[path.split('/').at(-1) ?? ''] : byAppId[appId]
      return id === undefined
        ? graphError(404, 'Request_ResourceNotFound', 'does not exist')
        : HttpResponse.json({ id, appId: 'x' })
    })

  it('resolves an object id directly, an appId on the second try, and neither to null', async () => {
    network.use(answer({ 'obj-1': 'obj-1' }, { 'app-2': 'obj-2' }))
    const client = testClient()
    await expect(client.servicePrincipals.resolve('obj-1')).resolves.toBe('obj-1')
    await expect(client.servicePrincipals.resolve('app-2')).resolves.toBe('obj-2')
    await expect(client.servicePrincipals.resolve('typo')).resolves.toBeNull()
    expect(log.map((l) => decodeURIComponent(new URL(l.url).pathname))).toEqual([
      '/v1.0/servicePrincipals/obj-1',
      '/v1.0/servicePrincipals/app-2',
      "/v1.0/servicePrincipals(appId='app-2')",
      '/v1.0/servicePrincipals/typo',
      "/v1.0/servicePrincipals(appId='typo')",
    ])
    await client.close()
  })

  it('throws when the lookup itself fails: an unchecked exclusion is not resolved', async () => {
    network.use(answer({}, {}, 403))
    const client = testClient()
    await expect(client.servicePrincipals.resolve('obj-1')).rejects.toMatchObject({ code: 'TQ_PERMISSION' })
    await client.close()
  })
})
