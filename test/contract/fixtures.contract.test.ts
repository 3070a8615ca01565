import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type GraphClient, userItems } from '@tourniquet/core'
import {
  BREAK_GLASS_GROUP_ID,
  createMockGraph,
  DEFAULT_TENANT_ID,
  type MockGraph,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  seedWorkloadIdentities,
  WORKLOAD_IDS,
  WORKLOAD_ROLES,
} from '@tourniquet/mock-graph'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractHarness, clientFor, GRAPH, LOGIN } from '../support/contract.js'
import { shapeMismatches } from '../support/shape.js'

// biome-ignore lint/suspicious/noExplicitAny: fixtures are arbitrary JSON documents
const fixture = (name: string): any =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'graph', name), 'utf8'))

/** The mock's token endpoint, asked directly as the remediation app. */
async function tokenResponse(mock: MockGraph): Promise<Response> {
  return (await mock.handle(
    new Request(`${LOGIN}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: REMEDIATION_APP_ID,
        client_secret: REMEDIATION_APP_SECRET,
        scope: 'https://graph.microsoft.com/.default',
      }),
    }),
  )) as Response
}

/** Calls the mock directly (no client) and returns its JSON, to compare with the fixture. */
async function mockJson(mock: MockGraph, method: string, path: string, body?: unknown): Promise<unknown> {
  const tokenRes = await tokenResponse(mock)
  const { access_token } = (await tokenRes.json()) as { access_token: string }
  const res = (await mock.handle(
    new Request(`${GRAPH}/v1.0${path}`, {
      method,
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  )) as Response
  return res.json()
}

interface Case {
  fixture: string
  /** The msw route serving the fixture to the client. */
  route: { method: 'get' | 'post'; path: string }
  /** The client call that must parse the fixture; returns what to check. */
  core: (client: GraphClient) => Promise<unknown>
  expectCore: (result: unknown) => void
  /** The same call against the mock (raw JSON), for the shape comparison. */
  mock?: (mock: MockGraph) => Promise<unknown>
}

const first = async <T>(it: AsyncGenerator<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
const aUser = (m: MockGraph) =>
  [...m.tenant.users.values()].find(
    (u) => u.onPremisesSyncEnabled === null && u.userType === 'Member' && !u.isAdmin,
  )?.id ?? ''
const anIdentity = (m: MockGraph) => [...m.tenant.identityAccounts.values()][0]

/** The mock's workload identities, readable by the remediation app (which mockJson signs in as). */
const withWorkloads = (m: MockGraph): MockGraph => {
  seedWorkloadIdentities(m.tenant, Date.now(), 'fixture-self')
  m.tenant.apps.get(REMEDIATION_APP_ID)?.roles.push(...WORKLOAD_ROLES)
  return m
}

const CASES: Case[] = [
  {
    fixture: 'riskyServicePrincipals.page.json',
    route: { method: 'get', path: '/v1.0/identityProtection/riskyServicePrincipals' },
    core: (c) => first(c.riskyServicePrincipals.list()),
    expectCore: (r) =>
      expect(r).toMatchObject([
        { riskLevel: 'high', riskState: 'atRisk', servicePrincipalType: 'Application' },
      ]),
    mock: (m) => mockJson(withWorkloads(m), 'GET', '/identityProtection/riskyServicePrincipals'),
  },
  {
    fixture: 'servicePrincipalRiskDetections.page.json',
    route: { method: 'get', path: '/v1.0/identityProtection/servicePrincipalRiskDetections' },
    core: (c) => first(c.servicePrincipalRiskDetections.list()),
    expectCore: (r) =>
      expect(r).toMatchObject([
        { riskEventType: 'leakedCredentials', keyIds: ['4e400000-0000-4000-a000-000000000002'] },
      ]),
    mock: (m) => mockJson(withWorkloads(m), 'GET', '/identityProtection/servicePrincipalRiskDetections'),
  },
  {
    fixture: 'servicePrincipal.json',
    route: { method: 'get', path: '/v1.0/servicePrincipals/:id' },
    core: (c) => c.servicePrincipals.get('5b1e0000-0000-4000-a000-0000000005b1'),
    expectCore: (r) =>
      expect(r).toMatchObject({
        appOwnerOrganizationId: '72f988bf-0000-4000-a000-000000000001',
        passwordCredentials: [{ keyId: '5b0a0000-0000-4000-a000-000000000003', hint: 'Spq' }],
      }),
    mock: (m) => mockJson(withWorkloads(m), 'GET', `/servicePrincipals/${WORKLOAD_IDS.singleTenant.spId}`),
  },
  {
    fixture: 'riskDetections.page.json',
    route: { method: 'get', path: '/v1.0/identityProtection/riskDetections' },
    core: (c) => first(c.riskDetections.list()),
    expectCore: (r) =>
      expect(r).toMatchObject([
        { riskEventType: 'leakedCredentials', riskLevel: 'high', detectionTimingType: 'offline' },
      ]),
    mock: (m) => mockJson(m, 'GET', '/identityProtection/riskDetections'),
  },
  {
    fixture: 'riskyUsers.page.json',
    route: { method: 'get', path: '/v1.0/identityProtection/riskyUsers' },
    core: (c) => first(c.riskyUsers.list()),
    expectCore: (r) =>
      expect(r).toMatchObject([{ riskLevel: 'high', riskState: 'atRisk', isProcessing: false }]),
    mock: (m) => mockJson(m, 'GET', '/identityProtection/riskyUsers'),
  },
  {
    fixture: 'riskyUser.json',
    route: { method: 'get', path: '/v1.0/identityProtection/riskyUsers/:id' },
    core: (c) => c.riskyUsers.get('4628e7df-0000-4000-a000-000000000001'),
    expectCore: (r) => expect(r).toMatchObject({ riskState: 'confirmedCompromised', isProcessing: true }),
    mock: (m) => mockJson(m, 'GET', `/identityProtection/riskyUsers/${[...m.tenant.riskyUsers.keys()][0]}`),
  },
  {
    fixture: 'riskyUserHistory.page.json',
    route: { method: 'get', path: '/v1.0/identityProtection/riskyUsers/:id/history' },
    core: (c) => first(c.riskyUsers.history('4628e7df-0000-4000-a000-000000000001')),
    expectCore: (r) =>
      expect(r).toMatchObject([
        { activity: { detail: 'adminConfirmedUserCompromised', riskEventTypes: [] } },
      ]),
    mock: async (m) => {
      const id = [...m.tenant.riskyUsers.keys()][0] ?? ''
      m.tenant.applyRiskAction('confirmCompromised', id, 'fixture')
      return mockJson(m, 'GET', `/identityProtection/riskyUsers/${id}/history`)
    },
  },
  {
    fixture: 'user.json',
    route: { method: 'get', path: '/v1.0/users/:id' },
    core: (c) => c.users.get('4628e7df-0000-4000-a000-000000000001'),
    expectCore: (r) =>
      expect(r).toMatchObject({ accountEnabled: true, userType: 'Member', onPremisesSyncEnabled: undefined }),
    mock: (m) =>
      mockJson(
        m,
        'GET',
        `/users/${aUser(m)}?$select=id,userPrincipalName,displayName,accountEnabled,onPremisesSyncEnabled,onPremisesSecurityIdentifier,userType`,
      ),
  },
  {
    fixture: 'revokeSignInSessions.json',
    route: { method: 'post', path: '/v1.0/users/:id/revokeSignInSessions' },
    core: (c) => c.users.revokeSignInSessions('4628e7df-0000-4000-a000-000000000001'),
    expectCore: (r) => expect(r).toHaveProperty('requestId'),
    mock: (m) => mockJson(m, 'POST', `/users/${aUser(m)}/revokeSignInSessions`),
  },
  {
    fixture: 'transitiveMembers.page.json',
    route: { method: 'get', path: '/v1.0/groups/:id/transitiveMembers' },
    core: (c) => first(c.groups.transitiveMembers(BREAK_GLASS_GROUP_ID)),
    expectCore: (r) => expect(r).toHaveLength(2),
    mock: (m) => mockJson(m, 'GET', `/groups/${BREAK_GLASS_GROUP_ID}/transitiveMembers`),
  },
  {
    fixture: 'identityAccounts.page.json',
    route: { method: 'get', path: '/v1.0/security/identities/identityAccounts' },
    core: (c) => first(c.identityAccounts.list()),
    expectCore: (r) =>
      expect(r).toMatchObject([
        {
          accounts: [
            { provider: 'activeDirectory', actions: ['disable', 'forcePasswordReset'] },
            { provider: 'entraID' },
          ],
        },
      ]),
    mock: (m) => mockJson(m, 'GET', '/security/identities/identityAccounts'),
  },
  {
    fixture: 'identityAccount.get.json',
    route: { method: 'get', path: '/v1.0/security/identities/identityAccounts/:id' },
    core: (c) => c.identityAccounts.get('11111111-0000-0000-0000-000000000001'),
    expectCore: (r) =>
      expect(r).toMatchObject({
        id: '11111111-0000-0000-0000-000000000001',
        accounts: [{ actions: ['enable'] }],
      }),
    mock: (m) => mockJson(m, 'GET', `/security/identities/identityAccounts/${anIdentity(m)?.id}`),
  },
  {
    fixture: 'invokeAction.json',
    route: { method: 'post', path: '/v1.0/security/identities/identityAccounts/:id/invokeAction' },
    core: (c) =>
      c.identityAccounts.invokeAction({
        identityAccountId: 'x',
        accountId: 'aaaaaaaa-0000-0000-0000-00000000000a',
        action: 'disable',
        identityProvider: 'activeDirectory',
      }),
    expectCore: (r) =>
      expect(r).toMatchObject({
        correlationId: '5f0c2d8e-1111-2222-3333-444455556666',
        identityProvider: 'activeDirectory',
      }),
    mock: (m) => {
      const identity = anIdentity(m)
      const ad = identity?.accounts.find((a) => a.provider === 'ActiveDirectory')
      return mockJson(m, 'POST', `/security/identities/identityAccounts/${identity?.id}/invokeAction`, {
        accountId: ad?.identifier,
        action: 'disable',
        identityProvider: 'activeDirectory',
      })
    },
  },
  {
    fixture: 'batch.response.json',
    route: { method: 'post', path: '/v1.0/$batch' },
    // The fixture throttles item 1 once; the client re-sends it alone and the same fixture answers 204 for it.
    core: async (c) => {
      const results = await c.batch.execute([
        userItems.revokeSignInSessions('a', '1'),
        userItems.setAccountEnabled('b', false, '2'),
      ])
      return Object.fromEntries([...results].map(([id, r]) => [id, r.status]))
    },
    expectCore: (r) => expect(r).toEqual({ '1': 204, '2': 204 }),
  },
]

const h = new ContractHarness()
beforeAll(() => h.start())
afterAll(() => h.stop())

describe('recorded-shape fixtures: the client parses them', () => {
  it.each(CASES)('$fixture', async (c) => {
    h.use()
    const body = fixture(c.fixture)
    let calls = 0
    const handler = http[c.route.method](`${GRAPH}${c.route.path}`, () => {
      calls++
      // For $batch: answer the re-sent item (now alone) with a plain success.
      if (c.fixture === 'batch.response.json' && calls > 1)
        return HttpResponse.json({ responses: [{ id: '1', status: 204, body: null }] })
      return HttpResponse.json(body)
    })
    h.network.use(handler)
    const client = clientFor({ retry: { baseDelayMs: 1, maxDelayMs: 2 } })
    c.expectCore(await c.core(client))
    await client.close()
  })

  it('the error fixture becomes a PermissionError naming the permission', async () => {
    h.use()
    h.network.use(
      http.get(`${GRAPH}/v1.0/users/:id`, () =>
        HttpResponse.json(fixture('error.403.json'), { status: 403 }),
      ),
    )
    const client = clientFor()
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'TQ_PERMISSION',
      graphCode: 'Authorization_RequestDenied',
      permission: 'User.Read.All',
      requestId: '1c9e2f0a-0000-4000-a000-000000000403',
    })
    await client.close()
  })
})

describe('recorded-shape fixtures: the mock answers in the same shape', () => {
  it.each(CASES.filter((c) => c.mock !== undefined))('$fixture', async (c) => {
    const mock = createMockGraph({ scenario: 'demo', limits: { enabled: false } })
    const actual = await c.mock?.(mock)
    expect(shapeMismatches(fixture(c.fixture), actual)).toEqual([])
  })

  it('error.403.json', async () => {
    const mock = createMockGraph({ scenario: 'demo' })
    mock.tenant.apps.get(REMEDIATION_APP_ID)?.roles.splice(0)
    expect(shapeMismatches(fixture('error.403.json'), await mockJson(mock, 'GET', '/users/x'))).toEqual([])
  })

  it('token.json', async () => {
    const mock = createMockGraph()
    const res = await tokenResponse(mock)
    expect(shapeMismatches(fixture('token.json'), await res.json())).toEqual([])
  })

  it('batch.response.json', async () => {
    const mock = createMockGraph({ scenario: 'demo', limits: { directoryWriteCapacity: 1 } })
    const [a, b] = [...mock.tenant.users.values()].filter(
      (u) => u.onPremisesSyncEnabled === null && u.userType === 'Member' && !u.isAdmin,
    )
    const actual = (await mockJson(mock, 'POST', '/$batch', {
      requests: [
        {
          id: '1',
          method: 'POST',
          url: `/users/${a?.id}/revokeSignInSessions`,
          headers: { 'Content-Type': 'application/json' },
          body: {},
        },
        {
          id: '2',
          method: 'PATCH',
          url: `/users/${b?.id}`,
          headers: { 'Content-Type': 'application/json' },
          body: { accountEnabled: false },
        },
      ],
    })) as { responses: Array<{ status: number }> }
    const throttled = actual.responses.find((r) => r.status === 429)
    const fx = fixture('batch.response.json') as { responses: unknown[] }
    expect(shapeMismatches(fx.responses[1], throttled)).toEqual([])
  })

  it('the shape check itself catches a renamed field', () => {
    expect(shapeMismatches({ value: [{ riskLevel: 'high' }] }, { value: [{ risk_level: 'high' }] })).toEqual([
      '$.value[0].riskLevel: missing',
    ])
  })
})
