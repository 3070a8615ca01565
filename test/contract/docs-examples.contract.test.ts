/**
 * The documentation's own examples (test/fixtures/graph-docs, one file per docs page, values made
 * up, shapes as the page shows them): for every Graph operation the client calls, the client sends
 * the documented request (method, path, body shape, Content-Type) and parses the documented answer,
 * quirks included. Placeholders whose JSON type is wrong (`"isDeleted": "Boolean"`) are left out and
 * listed in each file's `placeholdersLeftOut`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type GraphClient, userItems } from '@tourniquet/core'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractHarness, clientFor, GRAPH } from '../support/contract.js'
import { shapeMismatches } from '../support/shape.js'

interface DocExample {
  page: string
  commit: string
  operation: string
  request: { method: string; path: string; contentType?: string; body?: unknown }
  response: { status: number; body: unknown }
  quirks: string[]
  placeholdersLeftOut: string[]
}

const DIR = join(import.meta.dirname, '..', 'fixtures', 'graph-docs')
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
  )
const EXAMPLES = files(DIR).map((f) => ({
  name: relative(DIR, f),
  doc: JSON.parse(readFileSync(f, 'utf8')) as DocExample,
}))

const ID = 'd0d0d0d0-0000-4000-a000-000000000001'
const drain = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** The client call for each documented operation, and what it must have understood. */
const CALLS: Record<string, (c: GraphClient) => Promise<unknown>> = {
  'riskDetections.list': async (c) =>
    (await drain(c.riskDetections.list({ since: new Date(0) })))[0]?.riskEventType,
  'riskyUsers.list': async (c) => (await drain(c.riskyUsers.list({})))[0]?.id,
  'riskyUsers.get': async (c) => (await c.riskyUsers.get(ID)).id,
  'riskyUsers.history': async (c) => (await drain(c.riskyUsers.history(ID)))[0]?.activity?.detail,
  'riskyUsers.confirmCompromised': async (c) =>
    (
      await c.riskyUsers.confirmCompromised([
        'c0c0c0c0-0000-4000-a000-000000000001',
        'c0c0c0c0-0000-4000-a000-000000000002',
      ])
    ).failed.length,
  'riskyUsers.dismiss': async (c) =>
    (
      await c.riskyUsers.dismiss([
        'c0c0c0c0-0000-4000-a000-000000000001',
        'c0c0c0c0-0000-4000-a000-000000000002',
      ])
    ).failed.length,
  'riskyUsers.confirmSafe': async (c) =>
    (
      await c.riskyUsers.confirmSafe([
        'c0c0c0c0-0000-4000-a000-000000000001',
        'c0c0c0c0-0000-4000-a000-000000000002',
      ])
    ).failed.length,
  'users.get': async (c) => (await c.users.get(ID)).userPrincipalName,
  'users.revokeSignInSessions': async (c) => 'clientRequestId' in (await c.users.revokeSignInSessions(ID)),
  'users.resetPassword': async (c) => 'clientRequestId' in (await c.users.resetPassword(ID)),
  'groups.transitiveMembers': async (c) => (await drain(c.groups.transitiveMembers(ID)))[0]?.id,
  'identityAccounts.list': async (c) =>
    (await drain(c.identityAccounts.list({ onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1001' }))).map((i) =>
      i.accounts.map((a) => a.provider),
    ),
  'identityAccounts.get': async (c) =>
    (await c.identityAccounts.get(ID)).accounts.map((a) => [a.provider, a.actions]),
  'identityAccounts.invokeAction': async (c) =>
    (
      await c.identityAccounts.invokeAction({
        identityAccountId: ID,
        accountId: 'f0f0f0f0-0000-4000-a000-000000000001',
        action: 'disable',
        identityProvider: 'activeDirectory',
      })
    ).correlationId,
  'riskyServicePrincipals.list': async (c) => (await drain(c.riskyServicePrincipals.list({})))[0]?.appId,
  'riskyServicePrincipals.get': async (c) => (await c.riskyServicePrincipals.get(ID)).servicePrincipalType,
  'riskyServicePrincipals.confirmCompromised': async (c) =>
    (await c.riskyServicePrincipals.confirmCompromised([ID])).failed.length,
  'riskyServicePrincipals.dismiss': async (c) => (await c.riskyServicePrincipals.dismiss([ID])).failed.length,
  'servicePrincipalRiskDetections.list': async (c) =>
    (await drain(c.servicePrincipalRiskDetections.list({}))).map((d) => [d.servicePrincipalId, d.keyIds]),
  'servicePrincipals.setAccountEnabled': async (c) =>
    'clientRequestId' in (await c.servicePrincipals.setAccountEnabled(ID, false)),
  'servicePrincipals.removePassword': async (c) =>
    'clientRequestId' in
    (await c.servicePrincipals.removePassword(ID, '9c9c9c9c-0000-4000-a000-000000000001')),
  'applications.removePassword': async (c) =>
    'clientRequestId' in (await c.applications.removePassword(ID, '9c9c9c9c-0000-4000-a000-000000000001')),
  batch: async (c) => {
    const r = await c.batch.execute([
      userItems.get(ID, ['id'], '1'),
      userItems.revokeSignInSessions('d0d0d0d0-0000-4000-a000-000000000002', '2'),
    ])
    return [
      r.get('1')?.status,
      r.get('2')?.status,
      r.get('2')?.error?.message.includes('required permissions'),
    ]
  },
}

const UNDERSTOOD: Record<string, unknown> = {
  'riskDetections.list': 'unfamiliarFeatures',
  'riskyUsers.list': 'd1d4a5d4-0000-4000-a000-000000000001',
  'riskyUsers.get': 'd1d4a5d4-0000-4000-a000-000000000001',
  'riskyUsers.history': 'userPerformedSecuredPasswordReset',
  'riskyUsers.confirmCompromised': 0,
  'riskyUsers.dismiss': 0,
  'riskyUsers.confirmSafe': 0,
  'users.get': 'test.user@contoso.example',
  'users.revokeSignInSessions': true,
  'users.resetPassword': true,
  'groups.transitiveMembers': 'e0e0e0e0-0000-4000-a000-000000000001',
  'identityAccounts.list': [['activeDirectory', 'entraID', 'okta'], ['okta']],
  'identityAccounts.get': [
    ['activeDirectory', ['enable']],
    ['entraID', []],
    ['okta', ['revokeAllSessions']],
  ],
  'identityAccounts.invokeAction': 'a1a1a1a1-0000-4000-a000-000000000001',
  batch: [200, 403, true],
  'riskyServicePrincipals.list': '9b9b9b9b-0000-4000-a000-000000000001',
  'riskyServicePrincipals.get': 'Application',
  'riskyServicePrincipals.confirmCompromised': 0,
  'riskyServicePrincipals.dismiss': 0,
  'servicePrincipalRiskDetections.list': [
    ['9a9a9a9a-0000-4000-a000-00000000grg1', ['9c9c9c9c-0000-4000-a000-000000000001']],
  ],
  'servicePrincipals.setAccountEnabled': true,
  'servicePrincipals.removePassword': true,
  'applications.removePassword': true,
}

const h = new ContractHarness()
beforeAll(() => h.start())
afterAll(() => h.stop())

describe('documentation examples', () => {
  it('cover every operation the client calls', () => {
    expect(new Set(EXAMPLES.map((e) => e.doc.operation))).toEqual(new Set(Object.keys(CALLS)))
  })

  it.each(EXAMPLES)(
    '$name: the client sends the documented request and parses the documented answer',
    async ({ doc }) => {
      h.use()
      const sent: Array<{ method: string; path: string; contentType: string | null; body: unknown }> = []
      const route = `${GRAPH}/v1.0${doc.request.path.replace(/\{id\}/g, ':id')}`
      const method = doc.request.method.toLowerCase() as 'get' | 'post' | 'patch'
      h.network.use(
        http[method](route, async ({ request }) => {
          const text = request.method === 'GET' ? '' : await request.text()
          sent.push({
            method: request.method,
            path: new URL(request.url).pathname,
            contentType: request.headers.get('content-type'),
            body: text === '' ? undefined : JSON.parse(text),
          })
          return doc.response.body === null
            ? new HttpResponse(null, { status: doc.response.status })
            : HttpResponse.json(doc.response.body, { status: doc.response.status })
        }),
      )
      const client = clientFor()
      const call = CALLS[doc.operation]
      expect(call, `no client call for ${doc.operation}`).toBeDefined()
      expect(await call?.(client)).toEqual(UNDERSTOOD[doc.operation])
      await client.close()
      expect(sent).toHaveLength(1)
      expect(sent[0]?.method).toBe(doc.request.method)
      if (doc.request.body !== undefined) {
        expect(sent[0]?.contentType).toMatch(new RegExp(`^${doc.request.contentType ?? 'application/json'}`))
        expect(shapeMismatches(doc.request.body, sent[0]?.body)).toEqual([])
      }
    },
  )
})
