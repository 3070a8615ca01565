import { addUserSpec, seeded } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// Identity Protection's copy of a user's UPN is nullable and lags a rename (MDC resources/riskyuser.md):
// the job names users by the directory's UPN.
describe('users whose risk records carry no UPN, or an old one', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('are planned and named by the directory UPN', async () => {
    t = await Tenant.start({ scenario: 'empty' })
    const random = seeded(7)
    const now = Date.now()
    const high = { level: 'high' }
    const leaked = [{ type: 'leakedCredentials', timing: 'offline' }]
    const nameless = addUserSpec(
      t.mock.tenant,
      random,
      { name: 'no.upn', risk: high, detections: leaked, riskUpn: null },
      now,
    )
    const renamed = addUserSpec(
      t.mock.tenant,
      random,
      { name: 'new.name', risk: high, detections: leaked, riskUpn: 'old.name@contoso.example' },
      now,
    )
    const r = await runCli(['run'], t.env())
    expect(r.code).toBe(0)
    const named = (id: string) =>
      new Set(r.steps.filter((s) => s.userId === id).map((s) => s.userPrincipalName))
    expect(named(nameless.id)).toEqual(new Set([nameless.userPrincipalName]))
    expect(named(renamed.id)).toEqual(new Set([renamed.userPrincipalName]))
    expect(r.steps.filter((s) => s.userId === nameless.id).length).toBeGreaterThan(0)
  })
})
