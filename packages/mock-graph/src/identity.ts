/**
 * The identity platform side: token endpoint (client secret or certificate assertion), OpenID
 * metadata, instance discovery, and a managed-identity endpoint. Tokens are HMAC-signed JWTs that
 * carry the app's roles; Graph handlers check those roles per endpoint.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual, verify, X509Certificate } from 'node:crypto'
import { type MockCloud, TOKEN_EXCHANGE_AUDIENCE } from './clouds.js'
import { json, type MockResult } from './http.js'
import type { MockApp } from './model.js'
import type { Tenant } from './tenant.js'

export interface TokenClaims {
  aud: string
  iss: string
  tid: string
  appid: string
  roles: string[]
  iat: number
  nbf: number
  exp: number
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

export class TokenIssuer {
  private key = randomBytes(32)
  constructor(
    private readonly lifetimeSec: number,
    private readonly now: () => number,
  ) {}

  issue(tenantId: string, app: MockApp, audience: string): { token: string; expiresIn: number } {
    const iat = Math.floor(this.now() / 1000)
    // The issuer of v1 app-only tokens; Azurite (the storage emulator) accepts tokens only from it.
    const claims: TokenClaims = {
      aud: audience,
      iss: `https://sts.windows.net/${tenantId}/`,
      tid: tenantId,
      appid: app.clientId,
      roles: [...app.roles],
      iat,
      nbf: iat - 300,
      exp: iat + this.lifetimeSec,
    }
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
    return {
      token: `${body}.${createHmac('sha256', this.key).update(body).digest('base64url')}`,
      expiresIn: this.lifetimeSec,
    }
  }

  /** Invalidates every token issued so far (the next Graph call gets a 401). */
  rotate(): void {
    this.key = randomBytes(32)
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('.')
    if (parts.length !== 3) return undefined
    const expected = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest()
    const given = Buffer.from(parts[2] ?? '', 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as TokenClaims
    return claims.exp * 1000 > this.now() ? claims : undefined
  }
}

function aadError(status: number, error: string, code: number, description: string): Response {
  const trace = randomUUID()
  const correlation = randomUUID()
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: `${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`,
    trace_id: trace,
    correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  })
}

function verifyAssertion(assertion: string, app: MockApp, audience: string, now: number): boolean {
  const [h, p, s] = assertion.split('.')
  if (!h || !p || !s) return false
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, string>
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>
    const thumb = header['x5t#S256']
      ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex')
      : undefined
    const cert = app.certificates.find((c) => c.thumbprintSha256 === thumb)
    if (!cert) return false
    const key = new X509Certificate(cert.pem).publicKey
    const algorithm = header.alg === 'PS256' ? { key, padding: 6, saltLength: 32 } : key
    if (
      !verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        algorithm as Parameters<typeof verify>[2],
        Buffer.from(s, 'base64url'),
      )
    )
      return false
    if (payload.sub !== app.clientId || payload.iss !== app.clientId) return false
    if (typeof payload.exp !== 'number' || payload.exp * 1000 < now) return false
    return typeof payload.aud === 'string' && payload.aud.split('?')[0] === audience
  } catch {
    return false
  }
}

export interface IdentityContext {
  tenant: Tenant
  issuer: TokenIssuer
  now: () => number
  /** Graph resources tokens may be requested for (any cloud root works against the mock). */
  origin: string
  /** The national cloud this identity platform belongs to: the token-exchange audience and Graph resource. */
  cloud: MockCloud
}

/** Handles the identity platform paths; undefined when the path is not one of them. */
export async function handleIdentity(
  request: Request,
  url: URL,
  ctx: IdentityContext,
): Promise<MockResult | undefined> {
  const { tenant } = ctx
  const segments = url.pathname.split('/').filter(Boolean)
  const knownTenant = (t: string | undefined): boolean =>
    t === tenant.tenantId || (t !== undefined && tenant.domains.includes(t.toLowerCase()))

  if (request.method === 'GET' && url.pathname === '/common/discovery/instance') {
    const host = url.host
    return json(200, {
      tenant_discovery_endpoint: `${ctx.origin}/${tenant.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    })
  }
  if (
    request.method === 'GET' &&
    segments.length === 4 &&
    segments[1] === 'v2.0' &&
    segments[2] === '.well-known' &&
    segments[3] === 'openid-configuration'
  ) {
    if (!knownTenant(segments[0]))
      return aadError(400, 'invalid_tenant', 90002, `Tenant '${segments[0]}' not found.`)
    const base = `${ctx.origin}/${tenant.tenantId}`
    return json(200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    })
  }
  if (request.method === 'GET' && url.pathname === '/msi/token') {
    // The App Service / Container Apps managed identity contract.
    if (!request.headers.get('x-identity-header'))
      return json(401, { error: 'unauthorized', error_description: 'missing X-IDENTITY-HEADER' })
    const clientId = url.searchParams.get('client_id')
    const app = [...tenant.apps.values()].find(
      (a) =>
        a.managedIdentityClientId !== undefined &&
        (clientId === null || a.managedIdentityClientId === clientId),
    )
    if (!app) return json(400, { error: 'invalid_request', error_description: 'Identity not found' })
    const resource = url.searchParams.get('resource') ?? ''
    const issued = ctx.issuer.issue(tenant.tenantId, app, resource)
    return json(200, {
      access_token: issued.token,
      expires_on: String(Math.floor(ctx.now() / 1000) + issued.expiresIn),
      resource,
      token_type: 'Bearer',
      client_id: app.managedIdentityClientId,
    })
  }
  if (
    !(segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token')
  )
    return undefined
  if (request.method !== 'POST')
    return json(405, { error: 'invalid_request', error_description: 'POST only' })

  const form = new URLSearchParams(await request.text())
  if (!knownTenant(segments[0])) {
    return aadError(
      400,
      'invalid_request',
      90002,
      `Tenant '${segments[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    )
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.')
  }
  const scope = form.get('scope') ?? ''
  if (!scope.endsWith('/.default') || scope.includes(' ')) {
    return aadError(
      400,
      'invalid_scope',
      70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    )
  }
  const app = tenant.apps.get(form.get('client_id') ?? '')
  if (!app) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${form.get('client_id')}' was not found in the directory '${tenant.tenantId}'.`,
    )
  }
  const secret = form.get('client_secret')
  const assertion = form.get('client_assertion')
  const now = ctx.now()
  if (secret !== null) {
    const match = app.secrets.find((s) => s.value === secret)
    if (!match)
      return aadError(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      )
    if (match.expiresAt <= now)
      return aadError(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired.`,
      )
  } else if (assertion !== null) {
    const audience = `${url.origin}${url.pathname}`
    // A managed identity's token for the cloud's token-exchange audience, trusted by a federated
    // credential; a token for another cloud's audience is refused like an untrusted identity.
    const federated = ctx.issuer.verify(assertion)
    if (federated) {
      if (
        federated.aud !== TOKEN_EXCHANGE_AUDIENCE[ctx.cloud] ||
        !(app.federatedManagedIdentities ?? []).includes(federated.appid)
      ) {
        return aadError(
          400,
          'invalid_client',
          70021,
          'No matching federated identity record found for presented assertion.',
        )
      }
    } else if (!verifyAssertion(assertion, app, audience, now)) {
      return aadError(
        401,
        'invalid_client',
        700027,
        'The certificate with identifier used to sign the client assertion is not registered on application.',
      )
    }
  } else {
    return aadError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
  }
  const issued = ctx.issuer.issue(tenant.tenantId, app, scope.slice(0, -'/.default'.length))
  return json(200, {
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ext_expires_in: issued.expiresIn,
    access_token: issued.token,
  })
}
