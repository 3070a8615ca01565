/**
 * Redaction by allow-list. Only the headers and query parameters named here are ever logged or put
 * in an error; everything else prints as REDACTED, and bodies are never logged at all. Free text
 * (error messages from the service, for instance) additionally loses anything shaped like a bearer
 * token and any value registered with `registerSecret`.
 */

export const REDACTED = 'REDACTED'

const SAFE_HEADERS = new Set([
  'client-request-id',
  'request-id',
  'retry-after',
  'content-type',
  'content-length',
  'date',
  'location',
  'x-ms-ags-diagnostic',
  'x-ms-resource-unit',
  'x-ms-throttle-limit-percentage',
  'x-ms-throttle-scope',
  'x-ms-throttle-information',
])

const SAFE_QUERY = new Set(['$top', '$select', '$filter', '$expand', '$count', 'api-version'])

const secrets = new Set<string>()

/** Values registered here (the client secret, generated passwords) are cut out of every redacted text. */
export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; no real secret is that short.
  if (value !== undefined && value.length >= 8) secrets.add(value)
}

export function sanitizeHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    out[lower] = SAFE_HEADERS.has(lower)
      ? redactText(Array.isArray(value) ? value.join(', ') : value)
      : REDACTED
  }
  return out
}

export function sanitizeUrl(url: string | URL): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return REDACTED
  }
  parsed.username = ''
  parsed.password = ''
  parsed.hash = ''
  const params = [...parsed.searchParams.entries()]
  if (params.length === 0) return parsed.toString()
  const query = params
    .map(
      ([k, v]) =>
        `${encodeURIComponent(k)}=${SAFE_QUERY.has(k) ? encodeURIComponent(redactText(v)) : REDACTED}`,
    )
    .join('&')
  parsed.search = ''
  return `${parsed.toString()}?${query}`
}

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi
// `sig` is a SAS token's signature (a ledger blob URL may carry one): the only part that grants access.
const FORM_SECRET = /\b(client_secret|client_assertion|password|access_token|refresh_token|sig)=([^&\s"]+)/gi
const JSON_SECRET =
  /"(client_secret|client_assertion|password|access_token|refresh_token)"\s*:\s*"(?:[^"\\]|\\.)*"/gi

/**
 * An Entra ID client secret as the portal and Graph issue them: three characters, a digit, `Q~`,
 * then 31 to 34 more (URL-unreserved characters only). Recognised without registration, because the
 * likely leak is a secret pasted into the wrong variable, where nothing registered it.
 */
const ENTRA_CLIENT_SECRET =
  /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g

export function redactText(text: string): string {
  let out = text
    .replace(JWT, REDACTED)
    .replace(ENTRA_CLIENT_SECRET, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(FORM_SECRET, `$1=${REDACTED}`)
    .replace(JSON_SECRET, `"$1":"${REDACTED}"`)
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  }
  return out
}
