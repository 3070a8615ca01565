import { isContractError, isTourniquetError, userItems } from '@tourniquet/core'
import { generateTenant, type InterceptedNetwork, interceptNetwork } from '@tourniquet/mock-graph'
import fc from 'fast-check'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAST, SCALE, widePolicy } from '../faults/support.js'
import { clientFor, GRAPH } from '../support/contract.js'
import { runCli, Tenant } from '../support/e2e.js'

const V1 = `${GRAPH}/v1.0`
let network: InterceptedNetwork
let body: unknown = {}

// Every Graph answer is whatever fast-check made up; the client must turn each into data or a
// typed error (a ContractError naming the field), never a TypeError.
describe('Graph answers that break the schema', () => {
  beforeAll(async () => {
    const answer = () => HttpResponse.json(body as never)
    network = await interceptNetwork([
      http.post(`https://login.mock.invalid/:tenant/oauth2/v2.0/token`, () =>
        HttpResponse.json({ token_type: 'Bearer', expires_in: 3599, access_token: 'tok' }),
      ),
      http.get(`${V1}/identityProtection/riskyUsers`, answer),
      http.get(`${V1}/identityProtection/riskDetections`, answer),
      http.get(`${V1}/users/:id`, answer),
      http.get(`${V1}/security/identities/identityAccounts/:id`, answer),
      http.post(`${V1}/security/identities/identityAccounts/:id/invokeAction`, answer),
      http.post(`${V1}/$batch`, answer),
    ])
  })
  afterAll(async () => {
    await network.disable()
  })

  const operations = {
    riskyUsers: async (c: ReturnType<typeof clientFor>) => {
      for await (const _ of c.riskyUsers.list({ top: 5 })) break
    },
    riskDetections: async (c: ReturnType<typeof clientFor>) => {
      for await (const _ of c.riskDetections.list({ top: 5 })) break
    },
    user: (c: ReturnType<typeof clientFor>) => c.users.get('u1'),
    identity: (c: ReturnType<typeof clientFor>) => c.identityAccounts.get('i1'),
    invokeAction: (c: ReturnType<typeof clientFor>) =>
      c.identityAccounts.invokeAction({
        identityAccountId: 'i',
        accountId: 'a',
        action: 'disable',
        identityProvider: 'activeDirectory',
      }),
    batch: (c: ReturnType<typeof clientFor>) => c.batch.execute([userItems.get('u1')]),
  }

  it.each(Object.keys(operations))('%s: data or a typed error, for any JSON', async (name) => {
    const client = clientFor({ retry: { maxAttempts: 1 } })
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        body = value
        try {
          await operations[name as keyof typeof operations](client)
        } catch (e) {
          expect(isTourniquetError(e), `${name} threw ${(e as Error)?.stack}`).toBe(true)
          if (isContractError(e)) expect(e.path.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 150 },
    )
    await client.close()
  })
})

describe('a schema break reaching the runner', () => {
  let t: Tenant
  beforeAll(async () => {
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 10, seed: 3, highShare: 1 }),
      timeScale: SCALE,
    })
  })
  afterAll(() => t.stop())

  it('stops before acting: exit 1, the field named, nothing applied, no stack trace', async () => {
    const victim = [...t.mock.tenant.riskyUsers.values()][3]
    if (victim) (victim as unknown as { userPrincipalName: unknown }).userPrincipalName = 7
    const r = await runCli(['run', '--apply'], t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t) }))
    expect(r.code).toBe(1)
    const error = r.lines.find((l) => l.event === 'error')
    expect(String(error?.message)).toMatch(
      /TQ_CONTRACT: riskyUsers\.list: the response does not match the Graph contract at value\[\d+\]\.userPrincipalName/,
    )
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    expect(t.mock.tenant.actions).toEqual([])
  })
})
