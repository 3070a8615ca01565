import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, runCli, Tenant } from '../support/e2e.js'

describe('tourniquet run: plan, apply, verify, and never twice', () => {
  let t: Tenant
  let plan: CliResult
  let apply: CliResult
  let again: CliResult

  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'demo' })
    plan = await runCli(['run'], t.env())
    apply = await runCli(['run', '--apply', '--report', join(t.dir, 'report.md')], t.env())
    again = await runCli(['run', '--apply'], t.env())
  })
  afterAll(() => t.stop())

  it('plans by default: exit 0, every step planned, nothing changed in the tenant', () => {
    expect(plan.code).toBe(0)
    expect(plan.summary).toMatchObject({ event: 'summary', mode: 'plan', outcome: 'planned', exitCode: 0 })
    const planned = plan.steps.filter((s) => s.status === 'planned')
    expect(planned.length).toBe(10)
    for (const s of planned) {
      expect(Object.keys(s).sort()).toEqual(
        [
          'action',
          'correlationId',
          'durationMs',
          'event',
          'evidenceKey',
          'graphRequestId',
          'reason',
          'route',
          'rule',
          'runId',
          'status',
          'userId',
          'userPrincipalName',
        ].sort(),
      )
    }
    expect(plan.stderr).toMatch(/plan only \(dry run\)/)
  })

  it('the summary is the last line of stdout', () => {
    expect(plan.lines.at(-1)?.event).toBe('summary')
    expect(apply.lines.at(-1)?.event).toBe('summary')
  })

  it('applies: the tenant changes as planned, each step verified or honestly unverified', () => {
    expect(apply.code).toBe(0)
    const statuses = apply.steps.map((s) => `${s.userPrincipalName} ${s.action} ${s.status}`)
    expect(statuses).toContain('adele.vance@contoso.example confirmCompromised succeeded')
    expect(statuses).toContain('megan.bowen@contoso.example disable succeeded')
    // Defender for Identity resets are asynchronous: they cannot be read back.
    expect(statuses).toContain('alex.wilber@contoso.example forcePasswordReset unverified')
    const unverified = apply.steps.find((s) => s.status === 'unverified')
    expect(unverified?.correlationId).toMatch(/^[0-9a-f-]{36}$/)
    const kinds = t.mock.tenant.actions.map((a) => a.kind).sort()
    expect(kinds).toEqual(
      [
        'confirmCompromised',
        'confirmCompromised',
        'confirmCompromised',
        'disable',
        'disable',
        'mdi:forcePasswordReset',
        'resetPassword',
        'revokeSignInSessions',
        'revokeSignInSessions',
        'revokeSignInSessions',
      ].sort(),
    )
    const users = [...t.mock.tenant.users.values()]
    expect(users.find((u) => u.userPrincipalName.startsWith('breakglass'))?.accountEnabled).toBe(true)
    expect(
      apply.steps.filter((s) => s.status === 'succeeded').every((s) => typeof s.graphRequestId === 'string'),
    ).toBe(true)
  })

  it('a second apply repeats nothing: the ledger and the tenant state say it is done', () => {
    expect(again.code).toBe(0)
    expect(again.steps.filter((s) => s.status === 'succeeded' || s.status === 'failed')).toEqual([])
    expect(t.mock.duplicates()).toEqual([])
    expect(again.steps.some((s) => String(s.reason).includes('already done for this evidence'))).toBe(true)
  })

  it('no output, ledger or report carries a password, a secret or a token', async () => {
    expect(t.mock.tenant.passwordsSeen).toHaveLength(1)
    const password = t.mock.tenant.passwordsSeen[0] as string
    const files = await Promise.all(
      ['ledger.jsonl', 'report.md'].map((f) => readFile(join(t.dir, f), 'utf8')),
    )
    for (const text of [
      plan.stdout,
      plan.stderr,
      apply.stdout,
      apply.stderr,
      again.stdout,
      again.stderr,
      ...files,
    ]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(t.env().AZURE_CLIENT_SECRET)
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./)
    }
  })

  it('writes a Markdown report with the reasons', async () => {
    const report = await readFile(join(t.dir, 'report.md'), 'utf8')
    expect(report).toMatch(/^# Tourniquet run run-/)
    expect(report).toMatch(
      /\| megan\.bowen@contoso\.example \| user \| corroborated-high-risk \| disable \| entra:disable \| succeeded \|/,
    )
    expect(report).toMatch(
      /- megan\.bowen@contoso\.example: rule corroborated-high-risk; risk high\/atRisk; signals .*impossibleTravel \(IdentityProtection/,
    )
  })

  it('undo re-enables what that run disabled: plan first, then --apply', async () => {
    const runId = String(apply.summary?.runId)
    const undoPlan = await runCli(['undo', '--run', runId], t.env())
    expect(undoPlan.code).toBe(0)
    expect(undoPlan.steps.map((s) => `${s.userPrincipalName} ${s.action} ${s.status}`).sort()).toEqual([
      'megan.bowen@contoso.example enable planned',
      'vendor.contact_partner.example#EXT#@contoso.example enable planned',
    ])
    const undo = await runCli(['undo', '--run', runId, '--apply'], t.env())
    expect(undo.code).toBe(0)
    expect(undo.steps.every((s) => s.status === 'succeeded')).toBe(true)
    expect(
      [...t.mock.tenant.users.values()].find((u) => u.userPrincipalName.startsWith('megan'))?.accountEnabled,
    ).toBe(true)
  })
})
