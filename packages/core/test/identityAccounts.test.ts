// Defender for Identity identityAccounts through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { testClient } from './support/fixtures.js'
import { useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()

describe('Defender for Identity identityAccounts', () => {
  const account = {
    id: 'mdi-1',
    displayName: 'jdoe',
    domain: 'corp.contoso.local',
    onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1001',
    isEnabled: true,
    accounts: [
      { provider: 'ActiveDirectory', identifier: 'ad-1', actions: ['Disable', 'forcePasswordReset'] },
      { identityProvider: 'entraID', identifier: 'entra-1', actions: [] },
      { provider: 'Okta', identifier: 'okta-1', actions: ['revokeAllSessions'] },
    ],
  }

  it('lists by SID with an escaped filter and normalizes provider keys and enum case', async () => {
    network.use(
      http.get(`${V1}/security/identities/identityAccounts`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({ value: [account] })
      }),
    )
    const client = testClient()
    const found = []
    for await (const a of client.identityAccounts.list({
      onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1001',
    }))
      found.push(a)
    expect(new URL(log[0]?.url ?? '').searchParams.get('$filter')).toBe(
      "onPremisesSecurityIdentifier eq 'S-1-5-21-1-2-3-1001'",
    )
    expect(found[0]?.accounts).toEqual([
      { identifier: 'ad-1', provider: 'activeDirectory', actions: ['disable', 'forcePasswordReset'] },
      { identifier: 'entra-1', provider: 'entraID', actions: [] },
      { identifier: 'okta-1', provider: 'okta', actions: ['revokeAllSessions'] },
    ])
    await client.close()
  })

  it('accepts get-by-id wrapped in value (as the docs show) or not', async () => {
    network.use(
      http.get(`${V1}/security/identities/identityAccounts/:id`, ({ params }) =>
        params.id === 'wrapped'
          ? HttpResponse.json({ value: { ...account, id: 'wrapped' } })
          : HttpResponse.json({ ...account, id: String(params.id) }),
      ),
    )
    const client = testClient()
    expect((await client.identityAccounts.get('wrapped')).id).toBe('wrapped')
    expect((await client.identityAccounts.get('plain')).id).toBe('plain')
    await client.close()
  })

  it('invokes an action with accountId, action and identityProvider, and reads the wrapped correlationId', async () => {
    network.use(
      http.post(`${V1}/security/identities/identityAccounts/:id/invokeAction`, async ({ request }) => {
        await record(request)
        return HttpResponse.json({
          value: {
            accountId: 'ad-1',
            action: 'disable',
            provider: 'ActiveDirectory',
            correlationId: 'corr-1',
          },
        })
      }),
    )
    const client = testClient()
    const result = await client.identityAccounts.invokeAction({
      identityAccountId: 'mdi-1',
      accountId: 'ad-1',
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(JSON.parse(log[0]?.body ?? '')).toEqual({
      accountId: 'ad-1',
      action: 'disable',
      identityProvider: 'activeDirectory',
    })
    expect(result).toMatchObject({ correlationId: 'corr-1', identityProvider: 'activeDirectory' })
    await client.close()
  })
})
