import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTokenProvider, isAuthError, isConfigError } from '../src/index.js'
import { aadstsError, type FakeAuthority, okToken, startFakeAuthority } from './support/fakeAuthority.js'
import { TENANT } from './support/fixtures.js'

const SECRET = 'not-a-real-secret-value-0123456789'

describe('token acquisition against a fake authority over https with a test CA', () => {
  // Made once per run by test/support/pki.ts, not in a hook of this file.
  const pki = inject('loopbackPki')
  let authority: FakeAuthority

  afterEach(async () => {
    await authority?.close()
  })

  // msal refuses the same request for ~60 s after a 5xx/429, and caches tokens: a fresh provider per test.
  const provider = (extra: Partial<Parameters<typeof createTokenProvider>[0]> = {}) =>
    createTokenProvider({
      tenantId: TENANT,
      clientId: 'app-id',
      credential: { kind: 'secret', clientSecret: SECRET },
      authorityHost: authority.origin,
      transport: { ca: pki.caPem },
      ...extra,
    })

  it('gets a token with one request only: the token POST (no instance discovery, no metadata fetch)', async () => {
    authority = await startFakeAuthority(pki)
    authority.answer = () => okToken('token-abc')
    const tokens = provider()
    const t = await tokens.getToken({ forceRefresh: false })
    expect(t.token).toBe('token-abc')
    expect(authority.requests).toHaveLength(1)
    const [req] = authority.requests
    expect(new URL(req?.path ?? '', 'http://x').pathname).toBe(`/${TENANT}/oauth2/v2.0/token`)
    expect(req?.form.get('grant_type')).toBe('client_credentials')
    expect(req?.form.get('scope')).toBe('https://graph.microsoft.com/.default')
    expect(req?.form.get('client_secret')).toBe(SECRET)
    await tokens.close()
  })

  it('serves the second call from the cache and refreshes when forced', async () => {
    authority = await startFakeAuthority(pki)
    let n = 0
    authority.answer = () => okToken(`token-${++n}`)
    const tokens = provider()
    expect((await tokens.getToken({ forceRefresh: false })).token).toBe('token-1')
    expect((await tokens.getToken({ forceRefresh: false })).token).toBe('token-1')
    expect((await tokens.getToken({ forceRefresh: true })).token).toBe('token-2')
    expect(authority.requests).toHaveLength(2)
    await tokens.close()
  })

  it('uses the national cloud scope (usgov)', async () => {
    authority = await startFakeAuthority(pki)
    const tokens = provider({ cloud: 'usgov' })
    await tokens.getToken({ forceRefresh: false })
    expect(authority.requests[0]?.form.get('scope')).toBe('https://graph.microsoft.us/.default')
    await tokens.close()
  })

  it.each([
    [7000215, 'invalid_client', 'Invalid client secret provided.', /secret value \(not its id\)/],
    [
      7000222,
      'invalid_client',
      'The provided client secret keys are expired.',
      /secret has expired: issue a new one/,
    ],
    [700016, 'unauthorized_client', 'Application not found in the directory.', /\(clientId\) was not found/],
    [90002, 'invalid_request', "Tenant 'x' not found.", /\(tenantId\) was not found/],
  ])('maps AADSTS%i to an AuthError with advice', async (code, error, description, advice) => {
    authority = await startFakeAuthority(pki)
    authority.answer = () => aadstsError(code, error, description)
    const tokens = provider()
    const failure = await tokens.getToken({ forceRefresh: false }).catch((e: unknown) => e)
    expect(isAuthError(failure)).toBe(true)
    const e = failure as { aadsts: string; advice: string; message: string }
    expect(e.aadsts).toBe(String(code))
    expect(e.advice).toMatch(advice)
    expect(e.message).toContain(`AADSTS${code}`)
    expect(e.message).not.toContain(SECRET)
    expect(JSON.stringify(failure)).not.toContain(SECRET)
    await tokens.close()
  })

  it('refuses an authority whose certificate is not trusted (no CA given)', async () => {
    authority = await startFakeAuthority(pki)
    const tokens = provider({ transport: {} })
    const failure = await tokens.getToken({ forceRefresh: false }).catch((e: unknown) => e)
    expect(isAuthError(failure)).toBe(true)
    expect(authority.requests).toHaveLength(0)
    await tokens.close()
  })

  it('signs a client assertion with the certificate (x5t#S256 of the certificate, no secret sent)', async () => {
    authority = await startFakeAuthority(pki)
    const cert = inject('clientCertificate')
    const tokens = provider({ credential: { kind: 'certificate', pem: cert.pem } })
    await tokens.getToken({ forceRefresh: false })
    const form = authority.requests[0]?.form
    expect(form?.get('client_secret')).toBeNull()
    expect(form?.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    const header = JSON.parse(
      Buffer.from(String(form?.get('client_assertion')).split('.')[0] ?? '', 'base64url').toString('utf8'),
    )
    expect(Buffer.from(header['x5t#S256'], 'base64url').toString('hex')).toBe(cert.thumbprintSha256)
    await tokens.close()
  })

  it('rejects a certificate file without a private key, naming what is missing', () => {
    expect(() =>
      createTokenProvider({
        tenantId: TENANT,
        clientId: 'app',
        credential: {
          kind: 'certificate',
          pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
        },
      }),
    ).toThrow(/no private key/)
  })
})

describe('authority host rules', () => {
  it('accepts plain http only for a loopback authority', async () => {
    const authority = await startFakeAuthority()
    const tokens = createTokenProvider({
      tenantId: TENANT,
      clientId: 'app',
      credential: { kind: 'secret', clientSecret: SECRET },
      authorityHost: authority.origin,
    })
    expect((await tokens.getToken({ forceRefresh: false })).token).toBe('fake-access-token')
    expect(authority.requests).toHaveLength(1)
    await tokens.close()
    await authority.close()
  })

  it.each([
    'http://login.example.com',
    'http://10.0.0.5:8080',
    'ftp://login.example.com',
    'https://login.example.com/some/path',
    'not a url',
  ])('refuses %s as an authority host before any request', (host) => {
    let error: unknown
    try {
      createTokenProvider({
        tenantId: TENANT,
        clientId: 'app',
        credential: { kind: 'secret', clientSecret: SECRET },
        authorityHost: host,
      })
    } catch (e) {
      error = e
    }
    expect(isConfigError(error)).toBe(true)
    expect((error as { field: string }).field).toBe('authorityHost')
  })
})

describe('managed identity (user-assigned, by client id)', () => {
  let server: ReturnType<typeof createServer>
  const seen: IncomingMessage[] = []
  let saved: Record<string, string | undefined>

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          access_token: 'mi-token',
          expires_on: Math.floor(Date.now() / 1000) + 3600,
          resource: 'https://graph.microsoft.com',
          token_type: 'Bearer',
        }),
      )
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    // The App Service / Container Apps identity endpoint contract, as msal detects it from the environment.
    saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER }
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${port}/msi/token`
    process.env.IDENTITY_HEADER = 'identity-header-value'
  })
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('asks the local identity endpoint for a Graph token for the given client id', async () => {
    const tokens = createTokenProvider({
      tenantId: TENANT,
      clientId: '',
      credential: { kind: 'managedIdentity', clientId: 'uami-client-id' },
    })
    const t = await tokens.getToken({ forceRefresh: false })
    expect(t.token).toBe('mi-token')
    expect(tokens.description).toBe('user-assigned managed identity')
    const url = new URL(seen[0]?.url ?? '', 'http://x')
    expect(url.searchParams.get('resource')).toBe('https://graph.microsoft.com')
    expect(url.searchParams.get('client_id')).toBe('uami-client-id')
    expect(seen[0]?.headers['x-identity-header']).toBe('identity-header-value')
    await tokens.close()
  })
})
