import { describe, expect, it } from 'vitest'
import { and, anyOf, eq, ge, literal, or } from './odata.js'

describe('OData filter builder', () => {
  it('doubles single quotes so a value cannot close its literal', () => {
    expect(eq('userPrincipalName', "o'brien@contoso.com").text).toBe(
      "userPrincipalName eq 'o''brien@contoso.com'",
    )
    const attack = "x' or riskLevel eq 'low"
    expect(eq('userId', attack).text).toBe("userId eq 'x'' or riskLevel eq ''low'")
  })
  it('formats dates as unquoted ISO 8601 UTC', () => {
    expect(ge('detectedDateTime', new Date('2026-11-25T06:00:00Z')).text).toBe(
      'detectedDateTime ge 2026-11-25T06:00:00.000Z',
    )
  })
  it('refuses property names that are not plain paths', () => {
    expect(() => eq('riskLevel eq 1 or x', 'a')).toThrow(/not a valid OData property path/)
    expect(() => eq("a'", 'a')).toThrow()
  })
  it('refuses invalid dates and non-finite numbers', () => {
    expect(() => literal(new Date('nope'))).toThrow()
    expect(() => literal(Number.NaN)).toThrow()
  })
  it('groups parts and drops absent ones', () => {
    expect(and(eq('a', 1), undefined, or(eq('b', true), eq('b', false)))?.text).toBe(
      '(a eq 1) and ((b eq true) or (b eq false))',
    )
    expect(and(undefined, undefined)).toBeUndefined()
    expect(anyOf('riskLevel', [])).toBeUndefined()
    expect(anyOf('riskLevel', ['high'])?.text).toBe("riskLevel eq 'high'")
  })
})
