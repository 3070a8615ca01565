// The workload-identity routes of the mock, asked directly (core's view is in test/contract).
import { describe, expect, it } from 'vitest'
import { RESET } from '../src/http.js'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  type MockGraph,
  WORKLOAD_APP_ID,
  WORKLOAD_APP_SECRET,
  WORKLOAD_IDS,
} from '../src/index.js'

const ORIGIN = 'https://mock.test'

async function as(mock: MockGraph, clientId = WORKLOAD_APP_ID, secret = WORKLOAD_APP_SECRET) {
  const t = (await mock.handle(
    new Request(`${ORIGIN}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    }),
  )) as Response
  const { access_token } = (await t.json()) as { access_token: string }
  return async (method: string, path: string, body?: unknown): Promise<Response> => {
    const r = await mock.handle(
      new Request(`${ORIGIN}/v1.0${path}`, {
        method,
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
    if (r === RESET) throw new Error('reset')
    return r
  }
}

const ST = WORKLOAD_IDS.singleTenant
type WithKeys = { keyCredentials: Array<{ key: string | null }> }
const fresh = () => createMockGraph({ scenario: 'workload-identities', limits: { enabled: false } })

describe('workload identities in the mock', () => {
  it('serves key data only on $select=keyCredentials, and never a secretText', async () => {
    const mock = fresh()
    const call = await as(mock)
    const plain = (await (await call('GET', `/applications/${ST.appObjectId}`)).json()) as WithKeys
    expect(plain.keyCredentials[0]?.key).toBeNull()
    expect(JSON.stringify(plain)).not.toMatch(/mock-secret-not-real/)
    const keys = (await (
      await call('GET', `/applications/${ST.appObjectId}?$select=keyCredentials`)
    ).json()) as WithKeys
    expect(typeof keys.keyCredentials[0]?.key).toBe('string')
  })

  it('refuses a keyCredentials PATCH entry without its key data, and any passwordCredentials PATCH', async () => {
    const mock = fresh()
    const call = await as(mock)
    const noKey = await call('PATCH', `/applications/${ST.appObjectId}`, {
      keyCredentials: [{ keyId: 'c4e70000-0000-4000-a000-00000000c001' }],
    })
    expect(noKey.status).toBe(400)
    expect(await noKey.text()).toMatch(/needs its keyId and key/)
    const pw = await call('PATCH', `/servicePrincipals/${ST.spId}`, { passwordCredentials: [] })
    expect(pw.status).toBe(400)
    expect(mock.tenant.applications.get(ST.appObjectId)?.keyCredentials).toHaveLength(1)
  })

  it('answers an unknown keyId with 400 and changes nothing', async () => {
    const mock = fresh()
    const call = await as(mock)
    const r = await call('POST', `/applications/${ST.appObjectId}/removePassword`, { keyId: 'nope' })
    expect(r.status).toBe(400)
    expect(mock.tenant.actions).toEqual([])
  })

  it('lets Application.ReadWrite.OwnedBy write only the apps the caller owns', async () => {
    const mock = fresh()
    const app = mock.tenant.apps.get(WORKLOAD_APP_ID)
    if (!app) throw new Error('no workload app')
    app.roles = ['Application.ReadWrite.OwnedBy']
    const call = await as(mock)
    expect((await call('PATCH', `/servicePrincipals/${ST.spId}`, { accountEnabled: false })).status).toBe(403)
    mock.tenant.servicePrincipals.get(ST.spId)?.owners.push(WORKLOAD_APP_ID)
    expect((await call('PATCH', `/servicePrincipals/${ST.spId}`, { accountEnabled: false })).status).toBe(204)
    expect(mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled).toBe(false)
  })

  it('confirmCompromised records the principal as high / confirmedCompromised; an unknown id is 400', async () => {
    const mock = fresh()
    const call = await as(mock)
    expect(
      (
        await call('POST', '/identityProtection/riskyServicePrincipals/confirmCompromised', {
          servicePrincipalIds: ['nobody'],
        })
      ).status,
    ).toBe(400)
    expect(
      (
        await call('POST', '/identityProtection/riskyServicePrincipals/confirmCompromised', {
          servicePrincipalIds: [ST.spId],
        })
      ).status,
    ).toBe(204)
    const got = await (await call('GET', `/identityProtection/riskyServicePrincipals/${ST.spId}`)).json()
    expect(got).toMatchObject({
      riskLevel: 'high',
      riskState: 'confirmedCompromised',
      riskDetail: 'adminConfirmedServicePrincipalCompromised',
      isProcessing: true,
    })
  })

  it('counts service principal writes against the directory-write budget', async () => {
    const mock = createMockGraph({ scenario: 'workload-identities', limits: { directoryWriteCapacity: 1 } })
    const call = await as(mock)
    expect((await call('PATCH', `/servicePrincipals/${ST.spId}`, { accountEnabled: false })).status).toBe(204)
    const second = await call('PATCH', `/servicePrincipals/${ST.spId}`, { accountEnabled: true })
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).not.toBeNull()
  })
})
