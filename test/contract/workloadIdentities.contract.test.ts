/**
 * Core's workload-identity operations against the mock tenant (msw at the socket level): reads,
 * Identity Protection actions, disable/enable, credential removal, and the documented refusals
 * (licence, the 60-id dismiss limit, China, permissions, 404s).
 */
import { isGraphError, isPermissionError } from '@tourniquet/core'
import {
  DEFAULT_TENANT_ID,
  OTHER_TENANT_ID,
  READER_APP_ID,
  READER_APP_SECRET,
  WORKLOAD_APP_ID,
  WORKLOAD_APP_SECRET,
  WORKLOAD_IDS,
} from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractHarness, clientFor, GRAPH, LOGIN } from '../support/contract.js'

const h = new ContractHarness()
beforeAll(() => h.start())
afterAll(() => h.stop())

const workloadClient = () =>
  clientFor({ clientId: WORKLOAD_APP_ID, credential: { kind: 'secret', clientSecret: WORKLOAD_APP_SECRET } })
const drain = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
const ST = WORKLOAD_IDS.singleTenant

describe('workload identities: reads', () => {
  it('lists the risky service principals with their type, and the detections with their keyIds', async () => {
    h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const risky = await drain(client.riskyServicePrincipals.list({ riskStates: ['atRisk'] }))
    expect(new Map(risky.map((r) => [r.id, r.servicePrincipalType]))).toEqual(
      new Map([
        [ST.spId, 'Application'],
        [WORKLOAD_IDS.multiTenant.spId, 'Application'],
        [WORKLOAD_IDS.managedIdentity.spId, 'ManagedIdentity'],
        [WORKLOAD_IDS.excluded.spId, 'Application'],
        [WORKLOAD_IDS.self.spId, 'Application'],
      ]),
    )
    const detections = await drain(
      client.servicePrincipalRiskDetections.list({
        servicePrincipalIds: [ST.spId],
        since: new Date(Date.now() - 86_400_000),
      }),
    )
    expect(detections.map((d) => [d.riskEventType, d.keyIds])).toEqual([
      ['leakedCredentials', ['4e400000-0000-4000-a000-000000000002']],
    ])
    await expect(client.servicePrincipalRiskDetections.get(detections[0]?.id ?? '')).resolves.toMatchObject({
      servicePrincipalId: ST.spId,
    })
    await client.close()
  })

  it('reads the routing facts: owner tenant, type, credentials without secrets', async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const sp = await client.servicePrincipals.get(ST.spId)
    expect(sp).toMatchObject({ appOwnerOrganizationId: mock.tenant.tenantId, accountEnabled: true })
    const other = await client.servicePrincipals.getByAppId(WORKLOAD_IDS.multiTenant.appId)
    expect(other.appOwnerOrganizationId).toBe(OTHER_TENANT_ID)
    const app = await client.applications.getByAppId(ST.appId)
    expect(app.passwordCredentials.map((p) => p.hint)).toEqual(['Abc', 'Xyz'])
    expect(JSON.stringify([sp, app])).not.toMatch(/mock-secret-not-real/)
    await client.close()
  })

  it('reads many service principals and applications through $batch, a 404 for the foreign app', async () => {
    h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const sps = new Map<string, unknown>()
    for await (const [id, r] of client.servicePrincipals.getEach([
      ST.spId,
      WORKLOAD_IDS.managedIdentity.spId,
    ]))
      sps.set(id, r)
    expect(sps.get(WORKLOAD_IDS.managedIdentity.spId)).toMatchObject({
      servicePrincipalType: 'ManagedIdentity',
    })
    const apps = new Map<string, unknown>()
    for await (const [appId, r] of client.applications.getEachByAppId([
      ST.appId,
      WORKLOAD_IDS.multiTenant.appId,
    ]))
      apps.set(appId, r)
    expect(apps.get(ST.appId)).toMatchObject({ id: ST.appObjectId })
    expect(apps.get(WORKLOAD_IDS.multiTenant.appId)).toMatchObject({ status: 404 })
    await client.close()
  })

  it('resolves exclusions by object id or appId; one that names nothing resolves to null', async () => {
    h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    await expect(client.servicePrincipals.resolve(WORKLOAD_IDS.excluded.appId)).resolves.toBe(
      WORKLOAD_IDS.excluded.spId,
    )
    await expect(client.servicePrincipals.resolve(WORKLOAD_IDS.excluded.spId)).resolves.toBe(
      WORKLOAD_IDS.excluded.spId,
    )
    await expect(client.servicePrincipals.resolve('00000000-0000-4000-a000-0000000000ff')).resolves.toBeNull()
    await client.close()
  })

  it("answers 404 for another tenant's application: its credentials are not in this tenant", async () => {
    h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const error = await client.applications
      .getByAppId(WORKLOAD_IDS.multiTenant.appId)
      .catch((e: unknown) => e)
    expect(isGraphError(error)).toBe(true)
    expect(error).toMatchObject({ status: 404 })
    await client.close()
  })
})

describe('workload identities: actions', () => {
  it('confirms compromised and dismisses through Identity Protection, and the state reads back', async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const confirmed = await client.riskyServicePrincipals.confirmCompromised([ST.spId])
    expect(confirmed.failed).toEqual([])
    await expect(client.riskyServicePrincipals.get(ST.spId)).resolves.toMatchObject({
      riskLevel: 'high',
      riskState: 'confirmedCompromised',
    })
    await client.riskyServicePrincipals.dismiss([WORKLOAD_IDS.multiTenant.spId])
    await expect(client.riskyServicePrincipals.get(WORKLOAD_IDS.multiTenant.spId)).resolves.toMatchObject({
      riskLevel: 'none',
      riskState: 'dismissed',
    })
    expect(mock.tenant.actionsOf('sp:confirmCompromised').map((a) => a.userId)).toEqual([ST.spId])
    await client.close()
  })

  it('dismisses 61 ids as two calls: the mock refuses more than 60, as the dismiss page says', async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    for (let i = 0; i < 61; i++) {
      const id = `d15a0000-0000-4000-a000-${String(i).padStart(12, '0')}`
      mock.tenant.servicePrincipals.set(id, {
        id,
        appId: id,
        displayName: `app-${i}`,
        appOwnerOrganizationId: mock.tenant.tenantId,
        servicePrincipalType: 'Application',
        accountEnabled: true,
        passwordCredentials: [],
        keyCredentials: [],
        owners: [],
      })
    }
    const ids = [...mock.tenant.servicePrincipals.keys()].filter((k) => k.startsWith('d15a'))
    const client = workloadClient()
    const result = await client.riskyServicePrincipals.dismiss(ids)
    expect(result.failed).toEqual([])
    expect(result.succeeded.map((s) => s.ids.length)).toEqual([60, 1])
    // The same 61 in one request: the mock answers as the page documents.
    const token = (await mock.handle(
      new Request(`${LOGIN}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: WORKLOAD_APP_ID,
          client_secret: WORKLOAD_APP_SECRET,
          scope: 'https://graph.microsoft.com/.default',
        }),
      }),
    )) as Response
    const { access_token } = (await token.json()) as { access_token: string }
    await new Promise((r) => setTimeout(r, 100)) // past the Identity Protection slot at 50x
    const raw = (await mock.handle(
      new Request(`${GRAPH}/v1.0/identityProtection/riskyServicePrincipals/dismiss`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
        body: JSON.stringify({ servicePrincipalIds: ids }),
      }),
    )) as Response
    expect(raw.status).toBe(400)
    expect(await raw.text()).toMatch(/maximum count of service principals in one call is 60/)
    await client.close()
  })

  it('disables and re-enables a service principal with PATCH accountEnabled', async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    await client.servicePrincipals.setAccountEnabled(WORKLOAD_IDS.multiTenant.spId, false)
    expect((await client.servicePrincipals.get(WORKLOAD_IDS.multiTenant.spId)).accountEnabled).toBe(false)
    await client.servicePrincipals.setAccountEnabled(WORKLOAD_IDS.multiTenant.spId, true)
    expect(mock.tenant.servicePrincipals.get(WORKLOAD_IDS.multiTenant.spId)?.accountEnabled).toBe(true)
    expect(mock.tenant.actions.map((a) => a.kind)).toEqual(['sp:disable', 'sp:enable'])
    await client.close()
  })

  it("removes the application's new secret and certificate, keeping the old secret; records keyId and hint only", async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const result = await client.applications.removeCredentials(ST.appId, {
      passwordKeyIds: ['4e400000-0000-4000-a000-000000000002'],
      keyKeyIds: ['c4e70000-0000-4000-a000-00000000c001'],
    })
    expect(result.failed).toEqual([])
    expect(result.removed.map((r) => [r.kind, r.keyId, r.hint])).toEqual([
      ['password', '4e400000-0000-4000-a000-000000000002', 'Xyz'],
      ['key', 'c4e70000-0000-4000-a000-00000000c001', undefined],
    ])
    const app = mock.tenant.applications.get(ST.appObjectId)
    expect(app?.passwordCredentials.map((p) => p.displayName)).toEqual(['deploy (old)'])
    expect(app?.keyCredentials).toEqual([])
    expect(JSON.stringify(result)).not.toMatch(/mock-secret-not-real|mock certificate/)
    // A second run finds them gone: reported absent, nothing sent twice.
    const again = await client.applications.removeCredentials(ST.appId, {
      passwordKeyIds: ['4e400000-0000-4000-a000-000000000002'],
    })
    expect(again.absent).toEqual([{ kind: 'password', keyId: '4e400000-0000-4000-a000-000000000002' }])
    expect(mock.tenant.duplicates()).toEqual([])
    await client.close()
  })

  it("removes a service principal's own password", async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const result = await client.servicePrincipals.removeCredentials(ST.spId, {
      passwordKeyIds: ['5b0a0000-0000-4000-a000-000000000003'],
    })
    expect(result.removed.map((r) => r.hint)).toEqual(['Spq'])
    expect(mock.tenant.servicePrincipals.get(ST.spId)?.passwordCredentials).toEqual([])
    await client.close()
  })
})

describe('workload identities: refusals', () => {
  it('without Workload ID Premium, riskyServicePrincipals is refused and detections come with riskDetail hidden', async () => {
    const mock = h.use({ scenario: 'workload-identities' })
    mock.tenant.features.workloadIdentitiesPremium = false
    const client = workloadClient()
    const error = await drain(client.riskyServicePrincipals.list()).catch((e: unknown) => e)
    expect(isPermissionError(error)).toBe(true)
    expect((error as Error).message).toMatch(/not licensed.*Workload ID Premium/)
    const detections = await drain(client.servicePrincipalRiskDetections.list())
    expect(new Set(detections.map((d) => d.riskDetail))).toEqual(new Set(['hidden']))
    await client.close()
  })

  it('in the China cloud the workload risk APIs do not exist', async () => {
    h.use({ scenario: 'workload-identities', cloud: 'china' })
    const client = workloadClient()
    const error = await drain(client.riskyServicePrincipals.list()).catch((e: unknown) => e)
    expect(isGraphError(error)).toBe(true)
    expect(error).toMatchObject({ status: 400 })
    expect((error as Error).message).toMatch(/Resource not found for the segment 'identityProtection'/)
    await client.close()
  })

  it('an app without the workload permissions is refused with the permission named', async () => {
    h.use({ scenario: 'workload-identities' })
    const client = clientFor({
      clientId: READER_APP_ID,
      credential: { kind: 'secret', clientSecret: READER_APP_SECRET },
    })
    const confirm = await client.riskyServicePrincipals.confirmCompromised([ST.spId])
    expect(confirm.failed[0]?.error).toMatchObject({
      permission: 'IdentityRiskyServicePrincipal.ReadWrite.All',
    })
    const disable = await client.servicePrincipals.setAccountEnabled(ST.spId, false).catch((e: unknown) => e)
    expect(isPermissionError(disable)).toBe(true)
    expect(disable).toMatchObject({ permission: 'Application.ReadWrite.All' })
    await client.close()
  })

  it('an unknown service principal is 404', async () => {
    h.use({ scenario: 'workload-identities' })
    const client = workloadClient()
    const error = await client.servicePrincipals
      .get('00000000-0000-4000-a000-000000000404')
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 404 })
    const risky = await client.riskyServicePrincipals
      .get('00000000-0000-4000-a000-000000000404')
      .catch((e: unknown) => e)
    expect(risky).toMatchObject({ status: 404 })
    await client.close()
  })
})
