import { type CloudName, type Credential, createGraphClient } from '@tourniquet/core'
import { DEFAULT_TENANT_ID, type MockCloud, type MockGraph, REMEDIATION_APP_ID } from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractHarness, GRAPH, LOGIN } from '../support/contract.js'

// A loopback identity endpoint, as Container Apps gives a job with a managed identity.
const IDENTITY = 'http://127.0.0.1:41999'
// msal-node caches managed identity tokens process-wide, per identity: each test uses its own.
const TRUSTED = 'c0ffee00-0000-4000-a000-00000000c0de'
const UNTRUSTED = 'c0ffee00-0000-4000-a000-0000000000ff'

const h = new ContractHarness()
const saved = {
  IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
  IDENTITY_HEADER: process.env.IDENTITY_HEADER,
}
beforeAll(async () => {
  await h.start()
  process.env.IDENTITY_ENDPOINT = `${IDENTITY}/msi/token`
  process.env.IDENTITY_HEADER = 'local-identity-header'
})
afterAll(async () => {
  await h.stop()
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

function tenantWithIdentity(uami: string, trusted: boolean, cloud: MockCloud = 'global'): MockGraph {
  const mock = h.use({ scenario: 'demo', limits: { enabled: false }, cloud }, [IDENTITY])
  mock.tenant.apps.set(uami, {
    clientId: uami,
    displayName: 'job identity',
    secrets: [],
    certificates: [],
    roles: [],
    directoryRoles: [],
    managedIdentityClientId: uami,
  })
  const app = mock.tenant.apps.get(REMEDIATION_APP_ID)
  if (app) {
    app.secrets = []
    app.federatedManagedIdentities = trusted ? [uami] : []
  }
  return mock
}

const client = (credential: Credential, cloud: CloudName = 'global') =>
  createGraphClient({
    tenantId: DEFAULT_TENANT_ID,
    clientId: REMEDIATION_APP_ID,
    credential,
    cloud,
    authorityHost: LOGIN,
    graphRoot: GRAPH,
  })

describe('secretless: a federated identity credential that trusts the job identity', () => {
  it("the job identity's token is the app's client assertion; no secret anywhere", async () => {
    const mock = tenantWithIdentity(TRUSTED, true)
    const c = client({ kind: 'federatedManagedIdentity', managedIdentityClientId: TRUSTED })
    expect(c.credentialDescription).toBe('federated managed identity')
    const id = [...mock.tenant.riskyUsers.keys()][0] ?? ''
    await expect(c.riskyUsers.get(id)).resolves.toMatchObject({ id })
    const msi = mock.log.find((l) => l.path === '/msi/token')
    expect(decodeURIComponent(msi?.query ?? '')).toMatch(/resource=api:\/\/AzureADTokenExchange/)
    expect(mock.log.filter((l) => l.path.endsWith('/oauth2/v2.0/token')).map((l) => l.status)).toEqual([200])
    await c.close()
  })

  it.each([
    ['usgov', 'c0ffee00-0000-4000-a000-0000000000a1', 'api://AzureADTokenExchangeUSGov'],
    ['usgovdod', 'c0ffee00-0000-4000-a000-0000000000a2', 'api://AzureADTokenExchangeUSGov'],
    ['china', 'c0ffee00-0000-4000-a000-0000000000a3', 'api://AzureADTokenExchangeChina'],
  ] as const)(
    'in %s the assertion is for the audience of that cloud, and is accepted',
    async (cloud, uami, aud) => {
      const mock = tenantWithIdentity(uami, true, cloud)
      const c = client({ kind: 'federatedManagedIdentity', managedIdentityClientId: uami }, cloud)
      const user = [...mock.tenant.users.keys()][0] ?? ''
      await expect(c.users.get(user)).resolves.toMatchObject({ id: user })
      const msi = mock.log.find((l) => l.path === '/msi/token')
      expect(new URLSearchParams(msi?.query ?? '').get('resource')).toBe(aud)
      await c.close()
    },
  )

  it('the global audience is refused in the US Government cloud (AADSTS70021)', async () => {
    const uami = 'c0ffee00-0000-4000-a000-0000000000a4'
    tenantWithIdentity(uami, true, 'usgov')
    const c = client({ kind: 'federatedManagedIdentity', managedIdentityClientId: uami }, 'global')
    const e = await c.users.get('x').catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'TQ_AUTH', aadsts: '70021' })
    await c.close()
  })

  it('an identity the app does not trust is refused (AADSTS70021)', async () => {
    tenantWithIdentity(UNTRUSTED, false)
    const c = client({ kind: 'federatedManagedIdentity', managedIdentityClientId: UNTRUSTED })
    const e = await c.users.get('x').catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'TQ_AUTH', aadsts: '70021' })
    await c.close()
  })
})
