import { describe, expect, it } from 'vitest'
import { RESET } from '../src/http.js'
import {
  BREAK_GLASS_GROUP_ID,
  createMockGraph,
  DEFAULT_TENANT_ID,
  EXPIRED_APP_ID,
  EXPIRED_APP_SECRET,
  generateTenant,
  type MockGraph,
  namedScenario,
  pageCount,
  READER_APP_ID,
  READER_APP_SECRET,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
} from '../src/index.js'

const ORIGIN = 'https://mock.test'
const G = `${ORIGIN}/v1.0`

async function token(
  mock: MockGraph,
  clientId = REMEDIATION_APP_ID,
  secret = REMEDIATION_APP_SECRET,
  scope = 'https://graph.microsoft.com/.default',
): Promise<Response> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    scope,
  })
  return (await mock.handle(
    new Request(`${ORIGIN}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, { method: 'POST', body }),
  )) as Response
}

async function client(mock: MockGraph, clientId = REMEDIATION_APP_ID, secret = REMEDIATION_APP_SECRET) {
  const { access_token } = (await (await token(mock, clientId, secret)).json()) as { access_token: string }
  return async (method: string, path: string, body?: unknown): Promise<Response> => {
    const r = await mock.handle(
      new Request(path.startsWith('http') ? path : `${G}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${access_token}`,
          'content-type': 'application/json',
          'client-request-id': 'crid-1',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
    if (r === RESET) throw new Error('reset')
    return r
  }
}

const unlimited = { enabled: false }

describe('identity platform', () => {
  it('issues a bearer token for a known app and secret', async () => {
    const res = await token(createMockGraph())
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599 })
  })
  it.each([
    ['wrong secret', REMEDIATION_APP_ID, 'nope-nope-nope', 401, 'invalid_client', 7000215],
    ['expired secret', EXPIRED_APP_ID, EXPIRED_APP_SECRET, 401, 'invalid_client', 7000222],
    ['unknown app', '00000000-0000-0000-0000-000000000000', 'x', 400, 'unauthorized_client', 700016],
  ])('answers %s in the AADSTS shape', async (_n, id, secret, status, error, code) => {
    const res = await token(createMockGraph(), id, secret)
    expect(res.status).toBe(status)
    const body = (await res.json()) as { error: string; error_codes: number[]; error_description: string }
    expect(body.error).toBe(error)
    expect(body.error_codes).toEqual([code])
    expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}:`))
  })
  it('answers an unknown tenant with AADSTS90002', async () => {
    const mock = createMockGraph()
    const res = (await mock.handle(
      new Request(`${ORIGIN}/nobody.example/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      }),
    )) as Response
    expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([90002])
  })
  it('requires a /.default scope (AADSTS70011)', async () => {
    const res = await token(createMockGraph(), REMEDIATION_APP_ID, REMEDIATION_APP_SECRET, 'User.Read')
    expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([70011])
  })
  it('serves OpenID metadata and instance discovery', async () => {
    const mock = createMockGraph()
    const meta = (await mock.handle(
      new Request(`${ORIGIN}/${DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration`),
    )) as Response
    expect(await meta.json()).toMatchObject({
      token_endpoint: `${ORIGIN}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`,
    })
    const disco = (await mock.handle(
      new Request(`${ORIGIN}/common/discovery/instance?api-version=1.1`),
    )) as Response
    expect(((await disco.json()) as { metadata: unknown[] }).metadata).toHaveLength(1)
  })
})

describe('graph: authentication, permissions, errors', () => {
  it('answers 401 without a valid token', async () => {
    const mock = createMockGraph()
    const res = (await mock.handle(
      new Request(`${G}/users/x`, { headers: { authorization: 'Bearer forged.token.value' } }),
    )) as Response
    expect(res.status).toBe(401)
  })
  it('answers 403 Authorization_RequestDenied when the token lacks the permission', async () => {
    const mock = createMockGraph()
    const call = await client(mock, READER_APP_ID, READER_APP_SECRET)
    const res = await call('POST', '/identityProtection/riskyUsers/confirmCompromised', { userIds: ['x'] })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({
      error: { code: 'Authorization_RequestDenied', innerError: { 'request-id': expect.any(String) } },
    })
    expect(mock.tenant.actions).toHaveLength(0)
  })
  // Each row: roles the app holds, the request, whether the docs' include file lists those roles.
  it.each([
    ['User.ReadWrite.All', 'POST', 'revoke', false],
    ['Directory.ReadWrite.All', 'POST', 'revoke', false],
    ['User.RevokeSessions.All', 'POST', 'revoke', true],
    ['IdentityRiskyUser.ReadWrite.All', 'GET', '/identityProtection/riskyUsers', false],
    ['IdentityRiskyUser.Read.All', 'GET', '/identityProtection/riskyUsers', true],
    ['GroupMember.ReadBasic.All', 'GET', 'members', true],
    ['Group.ReadBasic.All', 'GET', 'members', true],
    ['User.Read.All', 'GET', 'members', false],
  ] as const)(
    'with only %s, %s %s is allowed: %s (the include file set, nothing more)',
    async (role, method, target, ok) => {
      const mock = createMockGraph({ limits: unlimited })
      const app = mock.tenant.apps.get(READER_APP_ID)
      if (app) app.roles = [role]
      const call = await client(mock, READER_APP_ID, READER_APP_SECRET)
      const user = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === null && !u.isAdmin)
      const path =
        target === 'revoke'
          ? `/users/${user?.id}/revokeSignInSessions`
          : target === 'members'
            ? `/groups/${BREAK_GLASS_GROUP_ID}/transitiveMembers`
            : target
      const res = await call(method, path, method === 'POST' ? {} : undefined)
      expect(res.status === 403).toBe(!ok)
    },
  )
  it('echoes client-request-id and always sends request-id', async () => {
    const call = await client(createMockGraph({ limits: unlimited }))
    const res = await call('GET', '/identityProtection/riskyUsers')
    expect(res.headers.get('client-request-id')).toBe('crid-1')
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
  it('answers 404 Request_ResourceNotFound for unknown users', async () => {
    const call = await client(createMockGraph())
    const res = await call('GET', '/users/nobody')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'Request_ResourceNotFound' } })
  })
})

describe('graph: throttling as the service does it', () => {
  it('limits Identity Protection to 1 request/s per tenant and answers 429 without Retry-After', async () => {
    let now = 1_000_000
    const mock = createMockGraph({ now: () => now })
    const call = await client(mock)
    expect((await call('GET', '/identityProtection/riskyUsers')).status).toBe(200)
    const second = await call('GET', '/identityProtection/riskDetections')
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).toBeNull()
    now += 1_000
    expect((await call('GET', '/identityProtection/riskyUsers')).status).toBe(200)
  })
  it("judges Identity Protection's rate when a request arrived, not when its busy loop handled it", async () => {
    let now = 1_000_000
    const mock = createMockGraph({ now: () => now })
    const { access_token } = (await (await token(mock)).json()) as { access_token: string }
    const at = (arrivedAt: number) =>
      mock.handle(
        new Request(`${G}/identityProtection/riskyUsers`, {
          headers: { authorization: `Bearer ${access_token}` },
        }),
        arrivedAt,
      ) as Promise<Response>
    // Handled 400 ms late: the next one, handled only 600 ms later, arrived a full second later.
    now = 1_000_400
    expect((await at(1_000_000)).status).toBe(200)
    now = 1_001_000
    expect((await at(1_001_000)).status).toBe(200)
    // Handled 1.6 s after the last, but it arrived 500 ms after it.
    now = 1_002_600
    expect((await at(1_001_500)).status).toBe(429)
  })
  it('limits directory writes per app with a Retry-After', async () => {
    let now = 1_000_000
    const mock = createMockGraph({
      now: () => now,
      limits: { directoryWriteCapacity: 2, directoryWriteWindowMs: 2_000 },
    })
    const call = await client(mock)
    const id = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === null && !u.isAdmin)?.id
    expect((await call('POST', `/users/${id}/revokeSignInSessions`)).status).toBe(200)
    expect((await call('POST', `/users/${id}/revokeSignInSessions`)).status).toBe(200)
    const third = await call('POST', `/users/${id}/revokeSignInSessions`)
    expect(third.status).toBe(429)
    expect(Number(third.headers.get('retry-after'))).toBeCloseTo(1, 1)
    now += 1_000
    expect((await call('POST', `/users/${id}/revokeSignInSessions`)).status).toBe(200)
  })
})

describe('graph: state transitions', () => {
  const cloudUser = (mock: MockGraph) =>
    [...mock.tenant.users.values()].find((u) => u.userPrincipalName.startsWith('adele.vance')) as {
      id: string
      accountEnabled: boolean
    }

  it('confirmCompromised: high / confirmedCompromised / adminConfirmedUserCompromised, isProcessing for a while', async () => {
    let now = Date.now()
    const tenant = namedScenario('demo')
    const mock = createMockGraph({ tenant, limits: unlimited, now: () => now })
    ;(tenant as unknown as { now: () => number }).now = () => now
    const call = await client(mock)
    const id = cloudUser(mock).id
    expect(
      (await call('POST', '/identityProtection/riskyUsers/confirmCompromised', { userIds: [id] })).status,
    ).toBe(204)
    const after = (await (await call('GET', `/identityProtection/riskyUsers/${id}`)).json()) as Record<
      string,
      unknown
    >
    expect(after).toMatchObject({
      riskLevel: 'high',
      riskState: 'confirmedCompromised',
      riskDetail: 'adminConfirmedUserCompromised',
      isProcessing: true,
    })
    now += 5_000
    expect(
      (
        (await (await call('GET', `/identityProtection/riskyUsers/${id}`)).json()) as {
          isProcessing: boolean
        }
      ).isProcessing,
    ).toBe(false)
    const history = (await (await call('GET', `/identityProtection/riskyUsers/${id}/history`)).json()) as {
      value: Array<{ activity: { detail: string } }>
    }
    expect(history.value.at(-1)?.activity.detail).toBe('adminConfirmedUserCompromised')
  })
  it('dismiss: none / dismissed', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const id = cloudUser(mock).id
    await call('POST', '/identityProtection/riskyUsers/dismiss', { userIds: [id] })
    expect(mock.tenant.riskyUsers.get(id)).toMatchObject({
      riskLevel: 'none',
      riskState: 'dismissed',
      riskDetail: 'adminDismissedAllRiskForUser',
    })
  })
  it('refuses more than 60 ids in one call, applying nothing', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const res = await call('POST', '/identityProtection/riskyUsers/dismiss', {
      userIds: Array.from({ length: 61 }, (_, i) => `u${i}`),
    })
    expect(res.status).toBe(400)
    expect(mock.tenant.actions).toHaveLength(0)
  })
  it('disables a cloud user with PATCH accountEnabled and refuses a synced one with the directory error', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const cloud = cloudUser(mock)
    expect((await call('PATCH', `/users/${cloud.id}`, { accountEnabled: false })).status).toBe(204)
    expect(cloud.accountEnabled).toBe(false)
    const synced = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === true)
    const res = await call('PATCH', `/users/${synced?.id}`, { accountEnabled: false })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /on-premises mastered Directory Sync objects/,
    )
    expect(synced?.accountEnabled).toBe(true)
  })
  it('needs a privileged directory role to disable an admin', async () => {
    const mock = createMockGraph({ limits: unlimited })
    mock.tenant.apps.get(REMEDIATION_APP_ID)?.directoryRoles.splice(0)
    const call = await client(mock)
    const admin = [...mock.tenant.users.values()].find((u) => u.isAdmin)
    expect((await call('PATCH', `/users/${admin?.id}`, { accountEnabled: false })).status).toBe(403)
  })
  it('resets a password only when it meets complexity, and records no password', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const id = cloudUser(mock).id
    expect(
      (
        await call('PATCH', `/users/${id}`, {
          passwordProfile: { password: 'short', forceChangePasswordNextSignIn: true },
        })
      ).status,
    ).toBe(400)
    expect(
      (
        await call('PATCH', `/users/${id}`, {
          passwordProfile: { password: 'Str0ng!Passw0rd#', forceChangePasswordNextSignIn: true },
        })
      ).status,
    ).toBe(204)
    expect(mock.tenant.users.get(id)).toMatchObject({
      passwordResets: 1,
      forceChangePasswordNextSignIn: true,
    })
    expect(JSON.stringify(mock.log)).not.toContain('Str0ng!Passw0rd#')
  })
  it('revokes sessions with 200 {value:true}; for a guest it answers the same and does nothing', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const guest = [...mock.tenant.users.values()].find((u) => u.userType === 'Guest')
    const res = await call('POST', `/users/${guest?.id}/revokeSignInSessions`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ value: true })
    expect(mock.tenant.actions).toHaveLength(0)
    await call('POST', `/users/${cloudUser(mock).id}/revokeSignInSessions`)
    expect(mock.tenant.actionsOf('revokeSignInSessions')).toHaveLength(1)
  })
})

describe('graph: Defender for Identity', () => {
  it('lists with PascalCase provider keys, filters by SID, wraps get-by-id in value', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const identity = [...mock.tenant.identityAccounts.values()][0]
    const list = (await (
      await call(
        'GET',
        `/security/identities/identityAccounts?$filter=onPremisesSecurityIdentifier eq '${identity?.onPremisesSecurityIdentifier}'`,
      )
    ).json()) as { value: Array<{ id: string; accounts: Array<{ provider: string }> }> }
    expect(list.value.map((v) => v.id)).toEqual([identity?.id])
    expect(list.value[0]?.accounts[0]?.provider).toBe('ActiveDirectory')
    const one = (await (
      await call('GET', `/security/identities/identityAccounts/${identity?.id}`)
    ).json()) as { value: { id: string } }
    expect(one.value.id).toBe(identity?.id)
  })
  it('applies invokeAction within the provider matrix and returns the wrapped correlationId', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const identity = [...mock.tenant.identityAccounts.values()][0]
    const ad = identity?.accounts.find((a) => a.provider === 'ActiveDirectory')
    const ok = await call('POST', `/security/identities/identityAccounts/${identity?.id}/invokeAction`, {
      accountId: ad?.identifier,
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({
      value: { accountId: ad?.identifier, action: 'disable', correlationId: expect.any(String) },
    })
    expect(identity?.isEnabled).toBe(false)
    expect(mock.tenant.users.get(identity?.userId ?? '')?.accountEnabled).toBe(false)
    const entra = identity?.accounts.find((a) => a.provider === 'EntraID')
    const refused = await call('POST', `/security/identities/identityAccounts/${identity?.id}/invokeAction`, {
      accountId: entra?.identifier,
      action: 'revokeAllSessions',
      identityProvider: 'entraID',
    })
    expect(refused.status).toBe(400)
    const noReset = await call('POST', `/security/identities/identityAccounts/${identity?.id}/invokeAction`, {
      accountId: ad?.identifier,
      action: 'forcePasswordReset',
      identityProvider: 'okta',
    })
    expect(noReset.status).toBe(400)
  })
})

const JSON_BODY = { headers: { 'Content-Type': 'application/json' }, body: {} }

describe('graph: $batch', () => {
  it.each([
    ['no body', { headers: { 'Content-Type': 'application/json' } }],
    ['no Content-Type', { body: {} }],
    ['a lower-case content-type', { headers: { 'content-type': 'application/json' }, body: {} }],
  ])('refuses the whole batch, running nothing, when a write item has %s', async (_n, extra) => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const user = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === null)
    const res = await call('POST', '/$batch', {
      requests: [
        {
          id: '1',
          method: 'PATCH',
          url: `/users/${user?.id}`,
          ...JSON_BODY,
          body: { accountEnabled: false },
        },
        { id: '2', method: 'POST', url: `/users/${user?.id}/revokeSignInSessions`, ...extra },
      ],
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'Write request id : 2 does not contain Content-Type header or body.',
    )
    expect(user?.accountEnabled).toBe(true)
    expect(mock.log.filter((l) => l.batchId !== undefined)).toHaveLength(0)
  })
  it('refuses more than 20 requests', async () => {
    const call = await client(createMockGraph({ limits: unlimited }))
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users/x' }))
    expect((await call('POST', '/$batch', { requests })).status).toBe(400)
  })
  it('answers each item on its own, 424 for a failed dependency, inner 429 with its own Retry-After', async () => {
    let now = 5_000_000
    const mock = createMockGraph({
      now: () => now,
      limits: { directoryWriteCapacity: 1, directoryWriteWindowMs: 1_000 },
    })
    const call = await client(mock)
    const users = [...mock.tenant.users.values()].filter(
      (u) => u.onPremisesSyncEnabled === null && !u.isAdmin && u.userType === 'Member',
    )
    const res = await call('POST', '/$batch', {
      requests: [
        { id: '1', method: 'POST', url: `/users/${users[0]?.id}/revokeSignInSessions`, ...JSON_BODY },
        { id: '2', method: 'POST', url: `/users/${users[1]?.id}/revokeSignInSessions`, ...JSON_BODY },
        { id: '3', method: 'GET', url: '/users/missing' },
        { id: '4', method: 'GET', url: `/users/${users[0]?.id}?$select=id,accountEnabled`, dependsOn: ['3'] },
      ],
    })
    expect(res.status).toBe(200)
    const { responses } = (await res.json()) as {
      responses: Array<{ id: string; status: number; headers: Record<string, string> }>
    }
    const byId = Object.fromEntries(responses.map((r) => [r.id, r]))
    expect(byId['1']?.status).toBe(200)
    expect(byId['2']?.status).toBe(429)
    expect(byId['2']?.headers['Retry-After']).toBeDefined()
    expect(byId['3']?.status).toBe(404)
    expect(byId['4']?.status).toBe(424)
    expect(mock.log.filter((l) => l.batchId !== undefined)).toHaveLength(4)
    now += 0
  })
})

describe('graph: paging and $filter', () => {
  it('pages riskDetections at 20 by default with opaque absolute nextLinks, caps $top at 500', async () => {
    const mock = createMockGraph({ tenant: generateTenant({ riskyUsers: 30, seed: 3 }), limits: unlimited })
    const call = await client(mock)
    const first = (await (await call('GET', '/identityProtection/riskDetections')).json()) as {
      value: unknown[]
      '@odata.nextLink': string
    }
    expect(first.value).toHaveLength(20)
    expect(first['@odata.nextLink']).toMatch(
      /^https:\/\/mock\.test\/v1\.0\/identityProtection\/riskDetections\?\$skiptoken=/,
    )
    let total = first.value.length
    const sizes: number[] = []
    let next: string | undefined = first['@odata.nextLink']
    while (next) {
      const page = (await (await call('GET', next)).json()) as {
        value: unknown[]
        '@odata.nextLink'?: string
      }
      total += page.value.length
      if (page['@odata.nextLink']) sizes.push(page.value.length)
      next = page['@odata.nextLink']
    }
    expect(total).toBe(mock.tenant.detections.length)
    // Server-driven paging: some pages hold fewer than $top while a nextLink still follows.
    expect(sizes.some((n) => n < 20)).toBe(true)
    // pageCount (what the bench's lower bound counts) is the number of pages just followed.
    expect(pageCount(mock.tenant.detections.length, 20)).toBe(sizes.length + 2)
    expect((await call('GET', '/identityProtection/riskDetections?$top=501')).status).toBe(400)
  })
  it('evaluates the filters the client builds, quotes escaped', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const since = new Date(Date.now() - 3 * 86_400_000).toISOString()
    const filter = `(detectedDateTime ge ${since}) and ((riskEventType eq 'leakedCredentials') or (riskEventType eq 'x'' or riskLevel eq ''low'))`
    const res = (await (
      await call('GET', `/identityProtection/riskDetections?$filter=${encodeURIComponent(filter)}`)
    ).json()) as { value: Array<{ riskEventType: string }> }
    expect(res.value.length).toBeGreaterThan(0)
    expect(res.value.every((d) => d.riskEventType === 'leakedCredentials')).toBe(true)
    expect(
      (
        await call(
          'GET',
          `/identityProtection/riskDetections?$filter=${encodeURIComponent("riskLevel eq 'high")}`,
        )
      ).status,
    ).toBe(400)
  })
  it('expands nested groups in transitiveMembers', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const res = (await (await call('GET', `/groups/${BREAK_GLASS_GROUP_ID}/transitiveMembers`)).json()) as {
      value: Array<{ '@odata.type': string }>
    }
    expect(res.value.map((v) => v['@odata.type']).sort()).toEqual([
      '#microsoft.graph.group',
      '#microsoft.graph.user',
    ])
  })
})

describe('faults', () => {
  it('answers 504 after processing (the ambiguous case) and can reset connections', async () => {
    const mock = createMockGraph({ limits: unlimited, faults: { rate504: 1 } })
    const call = await client(mock)
    const id = [...mock.tenant.users.values()].find(
      (u) => u.onPremisesSyncEnabled === null && u.userType === 'Member' && !u.isAdmin,
    )?.id
    expect((await call('POST', `/users/${id}/revokeSignInSessions`)).status).toBe(504)
    expect(mock.tenant.actionsOf('revokeSignInSessions')).toHaveLength(1)
    mock.setFaults({ rateReset: 1 })
    await expect(call('GET', `/users/${id}`)).rejects.toThrow('reset')
    expect(mock.log.at(-1)?.status).toBe('reset')
  })
  it('forges nextLinks to another origin on request', async () => {
    const mock = createMockGraph({
      limits: unlimited,
      tenant: generateTenant({ riskyUsers: 30 }),
      faults: { forgedNextLink: 'https://evil.example' },
    })
    const call = await client(mock)
    const page = (await (await call('GET', '/identityProtection/riskyUsers')).json()) as {
      '@odata.nextLink': string
    }
    expect(new URL(page['@odata.nextLink']).origin).toBe('https://evil.example')
  })
})

describe('scenario generator', () => {
  it('is deterministic for a seed and scales to the size asked', () => {
    const a = generateTenant({ riskyUsers: 500, seed: 9, now: 0 })
    const b = generateTenant({ riskyUsers: 500, seed: 9, now: 0 })
    expect([...a.riskyUsers.keys()]).toEqual([...b.riskyUsers.keys()])
    expect(a.riskyUsers.size).toBe(500)
    const synced = [...a.users.values()].filter((u) => u.onPremisesSyncEnabled === true).length
    expect(synced).toBeGreaterThan(50)
    expect(a.identityAccounts.size).toBe(synced)
    expect(a.detections.length).toBeGreaterThanOrEqual(500)
    expect(a.detections.length).toBeLessThanOrEqual(1_500)
  })
  it('adds risky service principals with detections, leaving the users as they were without them', () => {
    const users = generateTenant({ riskyUsers: 50, seed: 4, now: 0, highShare: 1 })
    const mixed = generateTenant({ riskyUsers: 50, seed: 4, now: 0, servicePrincipals: 200, highShare: 1 })
    expect([...mixed.riskyUsers.keys()]).toEqual([...users.riskyUsers.keys()])
    expect(mixed.riskyServicePrincipals.size).toBe(200)
    expect([...mixed.riskyServicePrincipals.values()].every((r) => r.riskLevel === 'high')).toBe(true)
    const named = new Set(mixed.servicePrincipalDetections.map((d) => d.servicePrincipalId))
    expect(named).toEqual(new Set(mixed.riskyServicePrincipals.keys()))
    expect(mixed.servicePrincipalDetections.length).toBeLessThanOrEqual(400)
    const sps = [...mixed.servicePrincipals.values()]
    const ours = sps.filter((sp) => sp.appOwnerOrganizationId === mixed.tenantId)
    expect(ours.length).toBeGreaterThan(150)
    expect(ours.length).toBeLessThan(200)
    for (const sp of ours) expect(mixed.applicationByAppId(sp.appId)?.passwordCredentials).toHaveLength(1)
    const again = generateTenant({ riskyUsers: 50, seed: 4, now: 0, servicePrincipals: 200, highShare: 1 })
    expect([...again.servicePrincipals.keys()]).toEqual(sps.map((sp) => sp.id))
  })
  it('one-liner: nothing done twice', async () => {
    const mock = createMockGraph({ limits: unlimited })
    const call = await client(mock)
    const id = [...mock.tenant.users.values()].find((u) => u.userPrincipalName.startsWith('adele'))?.id
    await call('PATCH', `/users/${id}`, { accountEnabled: false })
    await call('PATCH', `/users/${id}`, { accountEnabled: false })
    expect(mock.duplicates('disable')).toEqual([])
  })
})
