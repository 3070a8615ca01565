import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// Approvals end to end: the built CLI against the fake tenant, the trails beside a file ledger.
const POLICY =
  'version: 1\nlookback: PT48H\napprovals: { require: [disable], timeout: PT4H }\nrules:\n  - name: high\n    when: { riskLevel: [high], userType: [member, guest] }\n    then: [revokeSessions, disable]\n'

describe('approvals', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  async function setUp(): Promise<{ env: Record<string, string>; disables: () => number }> {
    t = await Tenant.start({ scenario: 'demo' })
    const policy = join(t.dir, 'approvals.yaml')
    await writeFile(policy, POLICY)
    const tenant = t
    return {
      env: t.env({ TOURNIQUET_POLICY: policy }),
      disables: () => tenant.mock.tenant.actions.filter((a) => a.kind === 'disable').length,
    }
  }

  it('pending -> nothing sent; approve -> the next run acts once; the run after does not act again', async () => {
    const { env, disables } = await setUp()
    const first = await runCli(['run', '--apply'], env)
    expect(first.code).toBe(0)
    const pending = first.steps.filter((s) => s.status === 'pendingApproval')
    expect(pending.length).toBeGreaterThan(1)
    expect(pending.every((s) => s.action === 'disable')).toBe(true)
    expect(String(pending[0]?.reason)).toMatch(/waits for a person's approval \(requested now, until /)
    expect(first.summary).toMatchObject({ pendingApproval: pending.length })
    expect(disables()).toBe(0)
    expect(
      first.steps.filter((s) => s.action === 'revokeSessions' && s.status === 'succeeded').length,
    ).toBeGreaterThan(0)

    // An approver's machine: no app credential and no tenant; a file trail needs no sign-in.
    const person = { ...env }
    for (const name of ['AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID']) delete person[name]
    const list = await runCli(['approvals'], person)
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/megan\.bowen@contoso\.example\s+\S+\s+disable\s+entra\S*\s+high/)

    const runId = String(first.summary?.runId)
    const ok = await runCli(
      [
        'approve',
        '--run',
        runId,
        '--user',
        'megan.bowen@contoso.example',
        '--by',
        'alice',
        '--reason',
        'ticket 42',
      ],
      person,
    )
    expect(ok.code).toBe(0)
    // Who decided is the identity that ran the command (here the local user); --by is a declared note.
    expect(ok.stdout).toMatch(
      /approved disable megan\.bowen@contoso\.example .* by \S+@\S+ \(declared alice\)/,
    )

    const second = await runCli(['run', '--apply'], env)
    expect(second.code).toBe(0)
    expect(
      second.steps.find(
        (s) => s.userPrincipalName === 'megan.bowen@contoso.example' && s.action === 'disable',
      ),
    ).toMatchObject({ status: 'succeeded' })
    expect(second.lines.find((l) => l.event === 'approval')?.decision).toMatch(
      /approved by \S+ \(declared alice\) .*ticket 42/,
    )
    expect(
      second.steps.filter((s) => s.status === 'pendingApproval').map((s) => s.userPrincipalName),
    ).toEqual(pending.map((s) => s.userPrincipalName).filter((u) => u !== 'megan.bowen@contoso.example'))
    expect(String(second.steps.find((s) => s.status === 'pendingApproval')?.reason)).toMatch(
      /requested by run-/,
    )
    expect(disables()).toBe(1)

    const third = await runCli(['run', '--apply'], env)
    expect(third.code).toBe(0)
    expect(disables()).toBe(1)
    expect(t?.mock.duplicates()).toEqual([])
  })

  it('reject -> skipped with the reason; an unanswered request past its timeout -> skipped', async () => {
    const { env, disables } = await setUp()
    const first = await runCli(['run', '--apply'], env)
    const runId = String(first.summary?.runId)
    const no = await runCli(
      ['reject', '--run', runId, '--user', 'megan.bowen@contoso.example', '--by', 'bob'],
      env,
    )
    expect(no.code).toBe(0)
    // The other request waits past its timeout: it was made more than PT4H ago, as time would
    // have it (the timeout runs from the request's time; its line's expiresAt is not trusted).
    const trail = join(t?.dir ?? '', 'ledger.jsonl.approvals.jsonl')
    const past = new Date(Date.now() - 5 * 3_600_000).toISOString()
    await writeFile(trail, (await readFile(trail, 'utf8')).replace(/"at":"[^"]+"/g, `"at":"${past}"`))
    const second = await runCli(['run', '--apply'], env)
    expect(second.code).toBe(0)
    const disable = (upn: string) =>
      second.steps.find((s) => s.userPrincipalName === upn && s.action === 'disable')
    expect(disable('megan.bowen@contoso.example')).toMatchObject({ status: 'skipped' })
    expect(String(disable('megan.bowen@contoso.example')?.reason)).toMatch(
      /approval: rejected by \S+ \(declared bob\)/,
    )
    expect(String(disable('vendor.contact_partner.example#EXT#@contoso.example')?.reason)).toMatch(
      /approval: no answer within PT4H .*skipped, as approvals.onTimeout says/,
    )
    expect(disables()).toBe(0)
  })

  it('a decision that matches no open request exits 2 naming the reference; plan mode writes no request', async () => {
    const { env } = await setUp()
    const plan = await runCli(['run'], env)
    expect(plan.steps.filter((s) => s.action === 'disable').every((s) => s.status === 'planned')).toBe(true)
    const bad = await runCli(['approve', '--run', 'run-nope', '--all'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/no open approval request matches --run run-nope/)
    expect((await runCli(['approve'], env)).code).toBe(2)
    // Without --user or --all, nothing is decided for a whole run by accident.
    const bare = await runCli(['approve', '--run', String(plan.summary?.runId)], env)
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(/needs either --user UPN_OR_ID .* or --all/)
  })
})
