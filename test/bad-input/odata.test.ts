import { eq, riskDetectionFilter } from '@tourniquet/core'
import { evaluateFilter, parseFilter } from '@tourniquet/mock-graph'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// UPNs and ids with quotes and OData operators: the built filter matches exactly the literal value,
// as the service's parser reads it (the mock's independent parser stands in for Graph's).
describe('user data in $filter cannot change the filter', () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      "o'brien@contoso.com",
      "x' or 1 eq 1 or 'a' eq 'a",
      "' or riskLevel eq 'low",
      "''",
      "a)' or (x eq 'y",
      'eq ne gt and or not',
      '%27 or %27%27 eq %27',
    ),
  )

  it('eq(field, value) matches the value and nothing else', () => {
    fc.assert(
      fc.property(hostile, hostile, (value, other) => {
        const node = parseFilter(eq('userPrincipalName', value).text)
        expect(evaluateFilter(node, { userPrincipalName: value })).toBe(true)
        if (other !== value) expect(evaluateFilter(node, { userPrincipalName: other })).toBe(false)
      }),
      { numRuns: 1_000 },
    )
  })

  it('event types in a detection filter stay literals', () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 3 }), (types) => {
        const node = parseFilter(riskDetectionFilter({ riskEventTypes: types }) ?? '')
        for (const t of types) expect(evaluateFilter(node, { riskEventType: t })).toBe(true)
        expect(evaluateFilter(node, { riskEventType: `${types[0]}x` })).toBe(types.includes(`${types[0]}x`))
      }),
      { numRuns: 500 },
    )
  })
})
