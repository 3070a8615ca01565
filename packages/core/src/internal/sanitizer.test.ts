import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AuthError, GraphError } from '../errors.js'
import { generateTemporaryPassword } from './password.js'
import { REDACTED, redactText, registerSecret, sanitizeHeaders, sanitizeUrl } from './sanitizer.js'

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJlLXZhbHVl'

describe('sanitizer', () => {
  it('keeps only allow-listed headers', () => {
    expect(
      sanitizeHeaders({
        Authorization: `Bearer ${JWT}`,
        'request-id': 'r1',
        cookie: 'a=b',
        'Retry-After': '3',
      }),
    ).toEqual({
      authorization: REDACTED,
      'request-id': 'r1',
      cookie: REDACTED,
      'retry-after': '3',
    })
  })
  it('keeps only allow-listed query parameters', () => {
    const out = sanitizeUrl('https://graph.test/v1.0/users?$select=id&$skiptoken=abc&code=xyz')
    expect(out).toBe(`https://graph.test/v1.0/users?%24select=id&%24skiptoken=${REDACTED}&code=${REDACTED}`)
  })
  it('cuts bearer tokens, JWTs, form and JSON secrets out of free text', () => {
    const text = `Bearer abc.def failed; token ${JWT}; client_secret=s3cr3t&x=1; {"password":"Pa55word!"}`
    const out = redactText(text)
    expect(out).not.toContain('abc.def')
    expect(out).not.toContain(JWT)
    expect(out).not.toContain('s3cr3t')
    expect(out).not.toContain('Pa55word!')
  })
  it('cuts an Entra client secret out of free text without it being registered', () => {
    // The shape Entra issues: 3 characters, a digit, Q~, then 34 more; made up, never a real one.
    const secret = 'xY78Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567'
    const out = redactText(`AZURE_CLIENT_ID: '${secret}' is not a GUID`)
    expect(out).toBe(`AZURE_CLIENT_ID: '${REDACTED}' is not a GUID`)
    // A GUID or an ordinary word next to a tilde is not one.
    expect(redactText('a11c0000-0000-4000-a000-00000000c11e ~Q')).toBe(
      'a11c0000-0000-4000-a000-00000000c11e ~Q',
    )
  })
  it("cuts a SAS token's signature out of free text", () => {
    const out = redactText(
      'GET https://acct.blob.core.windows.net/c/b?sv=2024-11-04&sig=c2VjcmV0c2ln%3D failed',
    )
    expect(out).not.toContain('c2VjcmV0c2ln')
    expect(out).toContain('sv=2024-11-04')
  })
  it('cuts registered secret values wherever they appear', () => {
    registerSecret('my-very-own-client-secret')
    expect(redactText('the secret my-very-own-client-secret leaked')).toBe(`the secret ${REDACTED} leaked`)
  })
  // The marker is spelled out, not taken from REDACTED: an empty marker would make a redacted
  // header, parameter or token vanish without a trace, and a reader could not tell it was cut.
  it('replaces each secret in free text with the word REDACTED and keeps the text around it', () => {
    expect(redactText(`Authorization: Bearer ${JWT}`)).toBe('Authorization: Bearer REDACTED')
    expect(redactText('header was Bearer   opaque.token-value~1 then more')).toBe(
      'header was Bearer REDACTED then more',
    )
    expect(redactText('grant_type=client_credentials&client_secret=s3cr3t-v4lue&scope=x')).toBe(
      'grant_type=client_credentials&client_secret=REDACTED&scope=x',
    )
    expect(redactText('refresh_token=abc123def456 sig=c2ln%3D')).toBe('refresh_token=REDACTED sig=REDACTED')
    expect(redactText('{"access_token": "eyQ\\"quoted\\"", "expires_in": 3599}')).toBe(
      '{"access_token":"REDACTED", "expires_in": 3599}',
    )
    expect(sanitizeHeaders({ authorization: 'x' })).toEqual({ authorization: 'REDACTED' })
    expect(sanitizeUrl('https://graph.test/v1.0/x?$skiptoken=abc')).toBe(
      'https://graph.test/v1.0/x?%24skiptoken=REDACTED',
    )
  })
  it.each([
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
  ])('keeps the diagnostic header %s (what a throttling or support case needs)', (name) => {
    expect(sanitizeHeaders({ [name.toUpperCase()]: 'value-1' })).toEqual({ [name]: 'value-1' })
  })
  it.each(['$top', '$select', '$filter', '$expand', '$count', 'api-version'])(
    'keeps the query parameter %s (it says what was asked, never who asked)',
    (name) => {
      expect(sanitizeUrl(`https://graph.test/v1.0/x?${name}=v`)).toBe(
        `https://graph.test/v1.0/x?${encodeURIComponent(name)}=v`,
      )
    },
  )
  it('joins a repeated header, drops an absent one, and still redacts tokens inside kept ones', () => {
    expect(
      sanitizeHeaders({
        date: ['Mon', 'Tue'],
        'request-id': undefined,
        cookie: undefined,
        location: `Bearer ${JWT}`,
      }),
    ).toEqual({ date: 'Mon, Tue', location: 'Bearer REDACTED' })
  })
  it('prints a URL without a query unchanged (minus credentials and fragment), and an unparsable one as REDACTED', () => {
    expect(sanitizeUrl('https://user:pw@graph.test/v1.0/users/abc#frag')).toBe(
      'https://graph.test/v1.0/users/abc',
    )
    expect(sanitizeUrl('not a url with a secret s3cr3t')).toBe('REDACTED')
  })
  it('ignores registered values shorter than 8 characters (they would cut ordinary words) and undefined', () => {
    registerSecret('seven77')
    registerSecret(undefined)
    expect(redactText('seven77 undefined words')).toBe('seven77 undefined words')
    registerSecret('eight888')
    expect(redactText('an eight888 value')).toBe('an REDACTED value')
  })
  it('errors redact their message, JSON and inspect output', () => {
    const e = new GraphError(`failed with Authorization: Bearer ${JWT}`, {
      status: 500,
      graphCode: 'x',
      requestId: 'r',
      clientRequestId: 'c',
      date: undefined,
      operation: 'users.get',
    })
    expect(e.message).not.toContain(JWT)
    expect(JSON.stringify(e)).not.toContain(JWT)
    expect(inspect(e)).not.toContain(JWT)
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({
      code: 'TQ_GRAPH',
      status: 500,
      requestId: 'r',
      clientRequestId: 'c',
    })
  })
  it('a generated password never survives redaction', () => {
    const pw = generateTemporaryPassword()
    const e = new AuthError(`weird echo ${pw}`, { aadsts: undefined, advice: 'a' })
    expect(e.message).not.toContain(pw)
  })
})

describe('generateTemporaryPassword', () => {
  it('meets the strong-password rule: length and all four classes', () => {
    for (let i = 0; i < 50; i++) {
      const pw = generateTemporaryPassword()
      expect(pw).toHaveLength(24)
      expect(pw).toMatch(/[A-Z]/)
      expect(pw).toMatch(/[a-z]/)
      expect(pw).toMatch(/[0-9]/)
      expect(pw).toMatch(/[^A-Za-z0-9]/)
    }
  })
  it('differs every time', () => {
    expect(new Set(Array.from({ length: 100 }, () => generateTemporaryPassword())).size).toBe(100)
  })
  it('refuses weak lengths', () => expect(() => generateTemporaryPassword(8)).toThrow(RangeError))
})
