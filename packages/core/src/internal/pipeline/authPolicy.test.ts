import { describe, expect, it, vi } from 'vitest'
import { isConfigError } from '../../errors.js'
import type { GraphRequest, GraphResponse } from '../http.js'
import { authPolicy, type TokenProvider } from './authPolicy.js'
import { clientRequestIdPolicy } from './clientRequestIdPolicy.js'
import { composePipeline } from './pipeline.js'

const req = (url = 'https://graph.test/v1.0/users/1'): GraphRequest => ({
  method: 'GET',
  url: new URL(url),
  headers: {},
  operation: 'users.get',
  idempotent: true,
  throttle: [],
  attempt: 1,
})
const res = (status: number): GraphResponse => ({
  status,
  headers: {},
  body: '',
  requestId: undefined,
  clientRequestId: undefined,
})

function tokens(): TokenProvider & { getToken: ReturnType<typeof vi.fn> } {
  let n = 0
  return { description: 'stub', getToken: vi.fn(async () => ({ token: `t${++n}`, expiresOnMs: 0 })) }
}

describe('auth policy', () => {
  it('signs the request with a bearer token', async () => {
    const next = vi.fn(async (_r: GraphRequest) => res(200))
    await authPolicy(tokens(), 'https://graph.test').send(req(), next)
    expect(next.mock.calls[0]?.[0].headers.authorization).toBe('Bearer t1')
  })

  it('answers a 401 with exactly one forced refresh and one resend', async () => {
    const provider = tokens()
    const next = vi.fn(async (_r: GraphRequest) => res(401))
    const out = await authPolicy(provider, 'https://graph.test').send(req(), next)
    expect(out.status).toBe(401)
    expect(next).toHaveBeenCalledTimes(2)
    expect(provider.getToken.mock.calls.map((c) => c[0].forceRefresh)).toEqual([false, true])
    expect(next.mock.calls[1]?.[0].headers.authorization).toBe('Bearer t2')
  })

  it('refuses to send the token to any origin but the configured Graph root', async () => {
    const next = vi.fn(async () => res(200))
    const error = await authPolicy(tokens(), 'https://graph.test')
      .send(req('https://evil.example/v1.0/users'), next)
      .catch((e: unknown) => e)
    expect(isConfigError(error)).toBe(true)
    expect(next).not.toHaveBeenCalled()
  })
})

describe('client-request-id policy', () => {
  it('adds one id per logical request and keeps a caller-provided one', async () => {
    const seen: string[] = []
    const transport = {
      send: async (r: { headers: Record<string, string> }) => {
        seen.push(r.headers['client-request-id'] ?? '')
        return { status: 200, headers: { 'request-id': 'srv' }, body: '' }
      },
      close: async () => undefined,
    }
    let n = 0
    const send = composePipeline([clientRequestIdPolicy(() => `id-${++n}`)], transport)
    const a = await send(req())
    await send({ ...req(), headers: { 'client-request-id': 'mine' } })
    expect(seen).toEqual(['id-1', 'mine'])
    expect(a).toMatchObject({ requestId: 'srv', clientRequestId: 'id-1' })
  })

  it('rejects a pipeline with the same policy twice', () => {
    expect(() =>
      composePipeline([clientRequestIdPolicy(), clientRequestIdPolicy()], { send: vi.fn(), close: vi.fn() }),
    ).toThrow(/twice/)
  })
})
