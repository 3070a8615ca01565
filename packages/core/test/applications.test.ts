// applications (the credentials of an app registration) through the whole client, against msw.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isGraphError, isPermissionError } from '../src/index.js'
import { testClient } from './support/fixtures.js'
import { graphError, useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network, log, record } = useGraphNetwork()
const APP_ID = '65415bb1-9267-4313-bbf5-ae259732ee12'
const APP_OBJECT = 'f0b0b335-1d71-4883-8f98-567911bfdca6'

const app = {
  id: APP_OBJECT,
  appId: APP_ID,
  displayName: 'Contoso build',
  passwordCredentials: [{ keyId: 'p-1', displayName: 'ci', hint: 'Zx9' }],
  keyCredentials: [],
}

describe('applications', () => {
  it('finds the application by appId, then removes its password through its object id', async () => {
    network.use(
      http.get(`${V1}/*`, async ({ request }) => {
        await record(request)
        return HttpResponse.json(app)
      }),
      http.post(`${V1}/applications/:id/removePassword`, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 204, headers: { 'request-id': 'rp' } })
      }),
    )
    const client = testClient()
    const result = await client.applications.removeCredentials(APP_ID, { passwordKeyIds: ['p-1'] })
    expect(log.map((l) => [l.method, new URL(l.url).pathname])).toEqual([
      ['GET', `/v1.0/applications(appId='${APP_ID}')`],
      ['POST', `/v1.0/applications/${APP_OBJECT}/removePassword`],
    ])
    expect(result).toMatchObject({
      objectId: APP_OBJECT,
      removed: [{ kind: 'password', keyId: 'p-1', hint: 'Zx9' }],
    })
    await client.close()
  })

  it("answers 404 for another tenant's app: a GraphError, nothing removed", async () => {
    network.use(
      http.get(`${V1}/*`, () => graphError(404, 'Request_ResourceNotFound', "Resource 'x' does not exist.")),
    )
    const client = testClient()
    const error = await client.applications
      .removeCredentials(APP_ID, { passwordKeyIds: ['p-1'] })
      .catch((e: unknown) => e)
    expect(isGraphError(error)).toBe(true)
    expect(error).toMatchObject({ status: 404 })
    await client.close()
  })

  it('names Application.ReadWrite.All when a removal is refused', async () => {
    network.use(
      http.get(`${V1}/*`, () => HttpResponse.json(app)),
      http.post(`${V1}/applications/:id/removePassword`, () =>
        graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
      ),
    )
    const client = testClient()
    const result = await client.applications.removeCredentials(APP_ID, { passwordKeyIds: ['p-1'] })
    expect(isPermissionError(result.failed[0]?.error)).toBe(true)
    expect(result.failed[0]?.error).toMatchObject({ permission: 'Application.ReadWrite.All' })
    await client.close()
  })
})
