import { describe, expect, it } from 'vitest'
import { evaluate, parsePolicy, runPolicyTests } from '../src/index.js'

const NOW = new Date('2026-01-15T12:00:00Z')
const user = {
  userId: 'u1',
  userPrincipalName: 'u1@contoso.example',
  risk: { level: 'high', state: 'atRisk' },
  detections: [{ id: 'd1', riskEventType: 'leakedCredentials', detectedDateTime: '2026-01-15T11:00:00Z' }],
  directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
}
const policy = (extra: string, rule = '') =>
  parsePolicy(
    `version: 1\nlookback: PT24H\n${extra}rules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions, disable, forcePasswordReset]\n${rule}`,
  )

describe('approvals', () => {
  it('marks the actions approvals.require names, with the timeout in ms and what a timeout does', () => {
    const plan = evaluate(
      policy('approvals: { require: [disable, forcePasswordReset], timeout: PT2H, onTimeout: apply }\n'),
      { users: [user] },
      NOW,
    )
    expect(plan.steps.map((s) => [s.action, s.approval])).toEqual([
      ['confirmCompromised', undefined],
      ['revokeSessions', undefined],
      ['disable', { timeoutMs: 7_200_000, onTimeout: 'apply' }],
      ['forcePasswordReset', { timeoutMs: 7_200_000, onTimeout: 'apply' }],
    ])
  })
  it("a rule's requireApproval adds to the global list; the defaults are PT4H and skip", () => {
    const plan = evaluate(policy('', '    requireApproval: [disable]\n'), { users: [user] }, NOW)
    expect(plan.steps.filter((s) => s.approval).map((s) => [s.action, s.approval])).toEqual([
      ['disable', { timeoutMs: 14_400_000, onTimeout: 'skip' }],
    ])
  })
  it('no approvals: no step waits', () => {
    expect(evaluate(policy(''), { users: [user] }, NOW).steps.some((s) => s.approval)).toBe(false)
  })
  it('refuses an unknown action or timeout behaviour with the path named', () => {
    expect(() => policy('approvals: { require: [disabel] }\n')).toThrow(
      /approvals\.require\[0\].*unknown action 'disabel'/s,
    )
    expect(() => policy('approvals: { onTimeout: later }\n')).toThrow(/approvals\.onTimeout/)
  })
  it('policy cases can expect pendingApproval, and a wrong expectation fails', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'tq-approvals-'))
    await writeFile(
      join(dir, 'policy.yaml'),
      'version: 1\nlookback: PT24H\napprovals: { require: [disable] }\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [revokeSessions, disable]\n',
    )
    const cases = (pending: string) =>
      `cases:\n  - name: waits\n    given: { users: [{ upn: a@contoso.example, risk: high, detections: [leakedCredentials] }] }\n    expect:\n      steps: { a@contoso.example: [revokeSessions, disable] }\n      pendingApproval: { a@contoso.example: [${pending}] }\n`
    await writeFile(join(dir, 'ok.cases.yaml'), cases('disable'))
    expect((await runPolicyTests(join(dir, 'ok.cases.yaml'))).failed).toBe(0)
    await writeFile(join(dir, 'bad.cases.yaml'), cases('revokeSessions'))
    expect((await runPolicyTests(join(dir, 'bad.cases.yaml'))).failed).toBe(1)
  })
})
