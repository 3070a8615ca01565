/**
 * The claims of an access token, read to say who signed in (`upn`, `appid`) or what it was granted
 * (`roles`). Never verified (the service does that) and never kept or shown: an unreadable token
 * has no claims.
 */
export function claimsOf(token: string | undefined): Record<string, unknown> {
  const payload = token?.split('.')[1]
  if (payload === undefined) return {}
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}
