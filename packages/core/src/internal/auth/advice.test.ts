import { describe, expect, it } from 'vitest'
import { aadstsCode, adviceFor } from './advice.js'

describe('aadstsCode', () => {
  it('finds the AADSTS code (5 to 7 digits) anywhere in a message', () => {
    expect(aadstsCode('AADSTS7000222: The provided client secret keys are expired.')).toBe('7000222')
    expect(aadstsCode('error: AADSTS90002: Tenant not found')).toBe('90002')
  })
  it('finds none in a message without one, or with too few digits', () => {
    expect(aadstsCode('invalid_client')).toBeUndefined()
    expect(aadstsCode('AADSTS1234: short')).toBeUndefined()
  })
})

describe('adviceFor', () => {
  it.each([
    ['7000215', /secret value \(not its id\)/],
    ['7000222', /secret has expired: issue a new one/],
    ['700016', /\(clientId\) was not found in the tenant/],
    ['90002', /tenant \(tenantId\) was not found/],
    ['7000218', /no credential was sent/],
    ['700027', /upload this certificate/],
    ['700024', /check the machine clock/],
    ['70011', /scope is invalid/],
    ['7000112', /application is disabled/],
    ['50034', /account was not found/],
    ['53003', /Conditional Access/],
  ])('gives AADSTS%s its own advice', (code, advice) => {
    expect(adviceFor(code)).toMatch(advice)
  })
  it('falls back to the general checklist for an unknown or absent code', () => {
    const general = 'check tenantId, clientId, the credential, and the cloud (cloud / authorityHost)'
    expect(adviceFor('1234567')).toBe(general)
    expect(adviceFor(undefined)).toBe(general)
    expect(adviceFor('toString')).toBe(general)
  })
})
