import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  type MockGraph,
  type RunningMock,
  remediationTokenForm,
  serveMock,
} from '../src/index.js'

describe('loopback server', () => {
  let mock: MockGraph
  let running: RunningMock
  let agent: Agent

  beforeAll(async () => {
    mock = createMockGraph({ limits: { enabled: false } })
    running = await serveMock(mock)
    agent = new Agent({ connect: { ca: running.caPem } })
  })
  afterAll(async () => {
    await agent.close()
    await running.close()
  })

  it('serves the identity platform and Graph over HTTPS with its own CA', async () => {
    expect(running.url).toMatch(/^https:\/\/localhost:\d+$/)
    const tokenRes = await request(`${running.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: remediationTokenForm(),
    })
    const { access_token } = (await tokenRes.body.json()) as { access_token: string }
    const res = await request(`${running.url}/v1.0/identityProtection/riskyUsers?$top=5`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${access_token}` },
    })
    expect(res.statusCode).toBe(200)
    const page = (await res.body.json()) as { value: unknown[]; '@odata.nextLink'?: string }
    expect(page.value).toHaveLength(5)
    expect(page['@odata.nextLink']?.startsWith(`${running.url}/v1.0/`)).toBe(true)
  })

  it('refuses clients that do not trust its CA', async () => {
    await expect(request(`${running.url}/v1.0/users/x`)).rejects.toThrow()
  })

  it('drops the connection for an injected reset', async () => {
    mock.setFaults({ rateReset: 1 })
    await expect(
      request(`${running.url}/v1.0/users/x`, { dispatcher: agent, headers: { authorization: 'Bearer x' } }),
    ).rejects.toThrow()
    mock.setFaults(undefined)
  })
})
