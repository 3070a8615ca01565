import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// Identity Protection read-back (verify.ts): riskyUsers narrowed by riskLastUpdatedDateTime, a
// filter no docs page lists; when the service refuses it, the documented riskState filter alone.
describe('read-back of Identity Protection actions', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  const filterOf = (query: string): string => new URLSearchParams(query).get('$filter') ?? ''
  // The read-back asks for no user names (the collection does): ids and states only.
  const riskyUserReads = (tenant: Tenant) =>
    tenant.mock.log.filter(
      (l) =>
        l.method === 'GET' &&
        l.path === '/v1.0/identityProtection/riskyUsers' &&
        !(new URLSearchParams(l.query).get('$select') ?? 'userPrincipalName').includes('userPrincipalName'),
    )

  it('narrows by riskLastUpdatedDateTime where the service accepts it', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const r = await runCli(['run', '--apply'], t.env())
    expect(r.code).toBe(0)
    const confirm = r.steps.find((s) => s.action === 'confirmCompromised' && s.status === 'succeeded')
    expect(confirm?.reason).toBe('riskState is confirmedCompromised')
    const reads = riskyUserReads(t)
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.every((l) => /riskLastUpdatedDateTime gt /.test(filterOf(l.query)))).toBe(true)
  })

  it('falls back to the riskState filter alone when the service answers 400, and still verifies', async () => {
    t = await Tenant.start({ scenario: 'demo', strictFilters: true })
    const r = await runCli(['run', '--apply'], t.env())
    expect(r.code).toBe(0)
    const confirms = r.steps.filter((s) => s.action === 'confirmCompromised')
    expect(confirms.length).toBeGreaterThan(0)
    for (const c of confirms) {
      expect(c.status).toBe('succeeded')
      expect(c.reason).toMatch(
        /read back by riskState alone: the service refused a filter on riskLastUpdatedDateTime/,
      )
    }
    const reads = riskyUserReads(t)
    expect(reads.map((l) => l.status)).toContain(400)
    expect(
      reads.filter((l) => l.status === 200).every((l) => !/riskLastUpdatedDateTime/.test(filterOf(l.query))),
    ).toBe(true)
  })
})

describe('the riskyUsers last-page quirk', () => {
  it('a next page refused with 400 after users were read ends the list with a warning; the run goes on', async () => {
    const t = await Tenant.start({ scenario: 'demo', faults: { riskyUsersLastPage400: true } })
    try {
      const r = await runCli(['run'], t.env())
      expect(r.code).toBe(0)
      const warning = r.lines.find((l) => l.event === 'warning')
      expect(String(warning?.message)).toMatch(
        /riskyUsers: the service refused page \d+ after \d+ risky users \(400/,
      )
      expect(r.steps.filter((s) => s.status === 'planned').length).toBeGreaterThan(0)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    } finally {
      await t.stop()
    }
  })
})
