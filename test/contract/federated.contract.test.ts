import { type Credential, createGraphClient } from '@tourniquet/core'
import { DEFAULT_TENANT_ID, type MockGraph, REMEDIATION_APP_ID } from '@tourniquet/mock-graph'
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

function tenantWithIdentity(uami: string, trusted: boolean): MockGraph {
  const mock = h.use({ scenario: 'demo', limits: { enabled: false } }, [IDENTITY])
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

const client = (credential: Credential) =>
  createGraphClient({
    tenantId: DEFAULT_TENANT_ID,
    clientId: REMEDIATION_APP_ID,
    credential,
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

  it('an identity the app does not trust is refused (AADSTS70021)', async () => {
    tenantWithIdentity(UNTRUSTED, false)
    const c = client({ kind: 'federatedManagedIdentity', managedIdentityClientId: UNTRUSTED })
    const e = await c.users.get('x').catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'TQ_AUTH', aadsts: '70021' })
    await c.close()
  })
})
