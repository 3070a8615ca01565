/**
 * A step Graph refuses for a permission (403 Authorization_RequestDenied) fails with core's stable
 * code on its line, and the run says what the app holds against what the policy needs: the
 * diagnosis is decided by that code, never by the wording of the message.
 */
import { REMEDIATION_APP_ID } from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, runCli, Tenant } from '../support/e2e.js'

describe('a step refused for a permission', () => {
  let t: Tenant
  let apply: CliResult

  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'demo' })
    // The app lost the permission to disable accounts after it was deployed.
    const app = t.mock.tenant.apps.get(REMEDIATION_APP_ID)
    if (!app) throw new Error('the demo scenario registers the remediation app')
    app.roles = app.roles.filter((r) => r !== 'User.EnableDisableAccount.All')
    apply = await runCli(['run', '--apply'], t.env())
  })
  afterAll(() => t.stop())

  it('fails the refused steps with the permission error code, and the others still run', () => {
    const refused = apply.steps.filter((s) => s.status === 'failed')
    expect(refused.length).toBeGreaterThan(0)
    for (const s of refused) expect(s).toMatchObject({ errorCode: 'TQ_PERMISSION', route: 'entra:disable' })
    expect(apply.steps.some((s) => s.status === 'succeeded')).toBe(true)
    expect(apply.summary).toMatchObject({ exitCode: 1, outcome: 'some steps failed' })
  })

  it('prints what the app holds against what the policy needs, naming the missing permission', () => {
    expect(apply.stderr).toMatch(/Graph refused a call for a permission/)
    expect(apply.stderr).toMatch(/User\.EnableDisableAccount\.All/)
  })
})
