import {
  type ContractError,
  isAuthError,
  isContractError,
  isGraphError,
  isPermissionError,
  userItems,
} from '@tourniquet/core'
import {
  BREAK_GLASS_GROUP_ID,
  createClientCertificate,
  EXPIRED_APP_ID,
  EXPIRED_APP_SECRET,
  generateTenant,
  type namedScenario,
  READER_APP_ID,
  READER_APP_SECRET,
  REMEDIATION_APP_ID,
} from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractHarness, clientFor } from '../support/contract.js'

const h = new ContractHarness()
beforeAll(() => h.start())
afterAll(() => h.stop())

const cloudMembers = (tenant: ReturnType<typeof namedScenario>) =>
  [...tenant.users.values()].filter(
    (u) => u.onPremisesSyncEnabled === null && u.userType === 'Member' && !u.isAdmin,
  )

describe('authentication through msal against the mock identity platform', () => {
  it('client secret: token, then Graph, with exactly one token request', async () => {
    const mock = h.use()
    const client = clientFor()
    for await (const _ of client.riskyUsers.list()) {
      /* drain */
    }
    await client.riskyUsers.list().next()
    expect(mock.log.filter((l) => l.path.endsWith('/oauth2/v2.0/token'))).toHaveLength(1)
    await client.close()
  })

  it('client certificate: a signed assertion the mock verifies against the registered certificate', async () => {
    const mock = h.use()
    const cert = await createClientCertificate()
    mock.tenant.apps
      .get(REMEDIATION_APP_ID)
      ?.certificates.push({ thumbprintSha256: cert.thumbprintSha256, pem: cert.certPem })
    const client = clientFor({ credential: { kind: 'certificate', pem: cert.pem } })
    await expect(client.users.get(cloudMembers(mock.tenant)[0]?.id ?? '')).resolves.toMatchObject({
      userType: 'Member',
    })
    await client.close()
  })

  it('an expired secret is an AuthError with AADSTS7000222 that says so', async () => {
    h.use()
    const client = clientFor({
      clientId: EXPIRED_APP_ID,
      credential: { kind: 'secret', clientSecret: EXPIRED_APP_SECRET },
    })
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(isAuthError(error)).toBe(true)
    expect(error).toMatchObject({ aadsts: '7000222' })
    expect((error as Error).message).toMatch(/the client secret has expired/)
    expect((error as Error).message).not.toContain(EXPIRED_APP_SECRET)
    await client.close()
  })

  it('an unknown tenant is AADSTS90002', async () => {
    h.use()
    const client = clientFor({ tenantId: 'nobody.example' })
    const error = await client.users.get('x').catch((e: unknown) => e)
    expect(error).toMatchObject({ aadsts: '90002' })
    await client.close()
  })

  it('a 401 from Graph triggers one token refresh and the call succeeds', async () => {
    const mock = h.use()
    const client = clientFor()
    const id = cloudMembers(mock.tenant)[0]?.id ?? ''
    await client.users.get(id)
    mock.revokeTokens()
    await expect(client.users.get(id)).resolves.toMatchObject({ id })
    expect(mock.log.filter((l) => l.path.endsWith('/oauth2/v2.0/token'))).toHaveLength(2)
    expect(h.statuses()).toEqual([200, 401, 200])
    await client.close()
  })
})

describe('Identity Protection', () => {
  it('pages riskDetections across many pages at $top=500, paced so the mock never answers 429', async () => {
    const mock = h.use({ tenant: generateTenant({ riskyUsers: 700, seed: 11 }) })
    const client = clientFor()
    let n = 0
    for await (const _ of client.riskDetections.list()) n++
    expect(n).toBe(mock.tenant.detections.length)
    expect(h.statuses().length).toBeGreaterThanOrEqual(3)
    expect(h.statuses().every((s) => s === 200)).toBe(true)
    await client.close()
  })

  it('filters risky users by level and state as the service does', async () => {
    const mock = h.use({ tenant: generateTenant({ riskyUsers: 300, seed: 5 }) })
    const client = clientFor()
    const ids: string[] = []
    for await (const u of client.riskyUsers.list({ riskLevels: ['high'], riskStates: ['atRisk'] }))
      ids.push(u.id)
    const expected = [...mock.tenant.riskyUsers.values()].filter(
      (r) => r.riskLevel === 'high' && r.riskState === 'atRisk',
    ).length
    expect(ids).toHaveLength(expected)
    await client.close()
  })

  it('retries the mock’s 429s that carry no Retry-After when the client is not paced', async () => {
    const mock = h.use()
    const client = clientFor({ throttle: { identityProtection: { capacity: 100, refillPerSecond: 100 } } })
    const users = [...mock.tenant.riskyUsers.keys()].slice(0, 4)
    const got = await Promise.all(users.map((id) => client.riskyUsers.get(id)))
    expect(got.map((u) => u.id)).toEqual(users)
    expect(h.statuses().filter((s) => s === 429).length).toBeGreaterThan(0)
    await client.close()
  })

  it('confirms 130 users compromised in 60-id calls and the state follows', async () => {
    const mock = h.use({ tenant: generateTenant({ riskyUsers: 130, seed: 2 }) })
    const client = clientFor()
    const ids = [...mock.tenant.riskyUsers.keys()]
    const result = await client.riskyUsers.confirmCompromised(ids)
    expect(result.failed).toEqual([])
    expect(
      mock.log
        .filter((l) => l.path.endsWith('/confirmCompromised') && l.status === 204)
        .map((l) => (l.body as { userIds: string[] }).userIds.length),
    ).toEqual([60, 60, 10])
    expect(
      [...mock.tenant.riskyUsers.values()].every(
        (r) => r.riskState === 'confirmedCompromised' && r.riskLevel === 'high',
      ),
    ).toBe(true)
    const after = await client.riskyUsers.get(ids[0] ?? '')
    expect(after).toMatchObject({ riskDetail: 'adminConfirmedUserCompromised', isProcessing: true })
    const history = []
    for await (const item of client.riskyUsers.history(ids[0] ?? '')) history.push(item)
    expect(history.at(-1)?.activity?.detail).toBe('adminConfirmedUserCompromised')
    await client.close()
  })

  it('dismisses and confirms safe', async () => {
    const mock = h.use()
    const client = clientFor()
    const [a, b] = [...mock.tenant.riskyUsers.keys()]
    await client.riskyUsers.dismiss([a ?? ''])
    await client.riskyUsers.confirmSafe([b ?? ''])
    expect(mock.tenant.riskyUsers.get(a ?? '')).toMatchObject({ riskState: 'dismissed', riskLevel: 'none' })
    expect(mock.tenant.riskyUsers.get(b ?? '')).toMatchObject({
      riskState: 'confirmedSafe',
      riskLevel: 'none',
    })
    await client.close()
  })

  it('a missing permission is a PermissionError that names it', async () => {
    h.use()
    const client = clientFor({
      clientId: READER_APP_ID,
      credential: { kind: 'secret', clientSecret: READER_APP_SECRET },
    })
    const result = await client.riskyUsers.confirmCompromised(['4628e7df-0000-4000-a000-000000000001'])
    const error = result.failed[0]?.error
    expect(isPermissionError(error)).toBe(true)
    expect(error).toMatchObject({
      permission: 'IdentityRiskyUser.ReadWrite.All',
      status: 403,
      graphCode: 'Authorization_RequestDenied',
    })
    expect(h.mock.tenant.actions).toEqual([])
    await client.close()
  })
})

describe('users and $batch', () => {
  it('reads, revokes (200 {value:true}), disables and resets a cloud user; the password never reaches the log', async () => {
    const mock = h.use()
    const client = clientFor()
    const user = cloudMembers(mock.tenant)[0]
    const id = user?.id ?? ''
    await expect(client.users.get(id)).resolves.toMatchObject({
      id,
      accountEnabled: true,
      onPremisesSyncEnabled: undefined,
    })
    await client.users.revokeSignInSessions(id)
    await client.users.setAccountEnabled(id, false)
    await client.users.resetPassword(id)
    expect(user).toMatchObject({
      accountEnabled: false,
      passwordResets: 1,
      forceChangePasswordNextSignIn: true,
    })
    expect(mock.tenant.actions.map((a) => a.kind)).toEqual([
      'revokeSignInSessions',
      'disable',
      'resetPassword',
    ])
    expect(JSON.stringify(mock.log)).toContain('[redacted]')
    await client.close()
  })

  it('reads many users through $batch (20 per call) with per-user errors', async () => {
    const mock = h.use({ tenant: generateTenant({ riskyUsers: 25, seed: 4 }) })
    const client = clientFor()
    const ids = [...mock.tenant.users.keys(), 'no-such-user']
    const users = await client.users.getMany(ids)
    expect(mock.log.filter((l) => l.path === '/v1.0/$batch')).toHaveLength(2)
    expect([...users.values()].filter((u) => u instanceof Error)).toHaveLength(1)
    expect(isGraphError(users.get('no-such-user'))).toBe(true)
    await client.close()
  })

  it('a partial $batch failure: the synced user is refused with the directory error, the others are disabled', async () => {
    const mock = h.use({ scenario: 'demo' })
    const client = clientFor()
    const synced = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === true)
    const cloud = cloudMembers(mock.tenant).slice(0, 2)
    const items = [synced, ...cloud].map((u) => userItems.setAccountEnabled(u?.id ?? '', false))
    const results = await client.batch.execute(items)
    expect(results.get(synced?.id ?? '')).toMatchObject({ status: 400 })
    expect(results.get(synced?.id ?? '')?.error).toMatchObject({ graphCode: 'Request_BadRequest' })
    expect(cloud.every((u) => results.get(u.id)?.status === 204 && !u.accountEnabled)).toBe(true)
    await client.close()
  })

  it('inner 429s with Retry-After are re-batched alone; every user revoked exactly once', async () => {
    const mock = h.use({ limits: { directoryWriteCapacity: 3, directoryWriteWindowMs: 100 * 50 } })
    const client = clientFor({ throttle: { directoryWrite: { capacity: 1_000, refillPerSecond: 1_000 } } })
    const users = cloudMembers(mock.tenant)
    const results = await client.batch.execute(users.map((u) => userItems.revokeSignInSessions(u.id)))
    expect([...results.values()].every((r) => r.status === 200)).toBe(true)
    expect(mock.log.filter((l) => l.batchId !== undefined && l.status === 429).length).toBeGreaterThan(0)
    expect(mock.duplicates('revokeSignInSessions')).toEqual([])
    expect(mock.tenant.actionsOf('revokeSignInSessions')).toHaveLength(users.length)
    await client.close()
  })

  it('maps 404 to a GraphError with Request_ResourceNotFound', async () => {
    h.use()
    const client = clientFor()
    const error = await client.users.get('nobody').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 404, graphCode: 'Request_ResourceNotFound', code: 'TQ_GRAPH' })
    await client.close()
  })
})

describe('Defender for Identity', () => {
  it('finds the synced user’s identity by SID and disables it in AD with invokeAction', async () => {
    const mock = h.use({ scenario: 'synced-user-at-risk' })
    const client = clientFor()
    const user = [...mock.tenant.users.values()].find((u) => u.onPremisesSyncEnabled === true)
    const found = []
    for await (const a of client.identityAccounts.list({
      onPremisesSecurityIdentifier: user?.onPremisesSecurityIdentifier ?? '',
    }))
      found.push(a)
    expect(found).toHaveLength(1)
    const identity = found[0]
    const ad = identity?.accounts.find((a) => a.provider === 'activeDirectory')
    // Empty, as in every docs example: the list is not the set of allowed actions.
    expect(ad?.actions).toEqual([])
    const again = await client.identityAccounts.get(identity?.id ?? '')
    expect(again.id).toBe(identity?.id)
    const result = await client.identityAccounts.invokeAction({
      identityAccountId: identity?.id ?? '',
      accountId: ad?.identifier ?? '',
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(result.correlationId).toBe(mock.tenant.actionsOf('mdi:disable')[0]?.correlationId)
    expect(user?.accountEnabled).toBe(false)
    await client.close()
  })

  it('an OData injection attempt in a filter value matches nothing', async () => {
    const mock = h.use({ tenant: generateTenant({ riskyUsers: 50, seed: 8 }) })
    expect(mock.tenant.identityAccounts.size).toBeGreaterThan(0)
    const client = clientFor()
    const found = []
    for await (const a of client.identityAccounts.list({
      onPremisesSecurityIdentifier: "x' or isEnabled eq true or displayName eq 'y",
    }))
      found.push(a)
    expect(found).toEqual([])
    await client.close()
  })
})

describe('groups', () => {
  it('expands nested exclusion groups', async () => {
    const mock = h.use()
    const client = clientFor()
    const upns: string[] = []
    for await (const m of client.groups.transitiveMembers(BREAK_GLASS_GROUP_ID))
      if (m.userPrincipalName) upns.push(m.userPrincipalName)
    expect(upns).toEqual(
      [...mock.tenant.users.values()].filter((u) => u.isAdmin).map((u) => u.userPrincipalName),
    )
    await client.close()
  })
})

describe('bad answers', () => {
  it('a JSON body cut short every time ends as a transport error after the retries', async () => {
    const mock = h.use()
    const client = clientFor()
    const id = cloudMembers(mock.tenant)[0]?.id ?? ''
    await client.users.get(id)
    mock.setFaults({ rateMalformed: 1 })
    const error = await client.users.get(id).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TQ_TRANSPORT', causeCode: 'TQ_TRUNCATED_BODY' })
    expect(mock.log.filter((l) => l.fault === 'malformed').length).toBe(8)
    await client.close()
  })

  it('a forged cross-origin nextLink is refused before the token goes there', async () => {
    h.use({
      tenant: generateTenant({ riskyUsers: 40, seed: 1 }),
      faults: { forgedNextLink: 'https://evil.mock.invalid' },
    })
    const client = clientFor()
    const error = await (async () => {
      for await (const _ of client.riskyUsers.list({ top: 10 })) {
        /* drain */
      }
    })().catch((e: unknown) => e)
    expect(isContractError(error)).toBe(true)
    expect((error as ContractError).path).toBe('@odata.nextLink')
    expect(h.mock.log.some((l) => l.path.includes('evil'))).toBe(false)
    await client.close()
  })
})
