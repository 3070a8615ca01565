/**
 * The approval phase inside a run, against the fake tenant: what a trail can and cannot do to a run
 * (security review 2026-12-04, findings 5 and 12; F-E was its reproduction).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { generateTenant, type MockGraph } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApprovalDecision } from '../src/approvals/records.js'
import { ledgerEntry } from '../src/ledger/ledger.js'
import { InProcessTenant, MemoryLedger } from './support/tenant.js'

const HOUR = 3_600_000
const POLICY = `version: 1
lookback: PT48H
approvals: { require: [disable], timeout: PT4H }
limits:
  maxActionsPerRun: 100000
rules:
  - name: high
    when: { riskLevel: [high], userType: [member, guest] }
    then: [revokeSessions, disable]
`

const steps = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.event === 'step')

describe('approvals in a run', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('one malformed decisions line is a warning naming it: steps that need no approval are sent, gated ones wait', async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 15, now: Date.now() - 3 * HOUR, highShare: 1 })
    t = await InProcessTenant.start({ tenant }, POLICY)
    await writeFile(`${t.config.ledger}.decisions.jsonl`, '{"type":"decision"}\n')
    const run = await t.run('apply', { ledger: new MemoryLedger() })
    expect(run.exitCode).toBe(0)
    expect(run.lines.find((l) => l.event === 'summary')).toMatchObject({ outcome: 'applied' })
    expect(run.lines.filter((l) => l.event === 'warning').map((l) => l.message)).toEqual([
      expect.stringMatching(/decisions\.jsonl: line 1 skipped: not a valid record .*it counts for nothing/),
    ])
    expect((t.mock as MockGraph).tenant.actionsOf('revokeSignInSessions').length).toBeGreaterThan(0)
    const disables = steps(run.lines).filter((s) => s.action === 'disable')
    expect(disables.length).toBeGreaterThan(0)
    expect(disables.every((s) => s.status === 'pendingApproval')).toBe(true)
    expect((t.mock as MockGraph).tenant.actionsOf('disable')).toEqual([])
  })

  it('a decisions trail that cannot be read holds back only the steps that need approval', async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 16, now: Date.now() - 3 * HOUR, highShare: 1 })
    t = await InProcessTenant.start({ tenant }, POLICY)
    // A directory where the file should be: opening works, reading does not (EISDIR).
    await mkdir(`${t.config.ledger}.decisions.jsonl`)
    const run = await t.run('apply', { ledger: new MemoryLedger() })
    expect(run.exitCode).toBe(0)
    expect(run.lines.filter((l) => l.event === 'warning').map((l) => l.message)).toEqual([
      expect.stringMatching(
        /^the approval trails cannot be read \(.*EISDIR.*\); no step that needs approval is sent/,
      ),
    ])
    expect((t.mock as MockGraph).tenant.actionsOf('revokeSignInSessions').length).toBeGreaterThan(0)
    expect((t.mock as MockGraph).tenant.actionsOf('disable')).toEqual([])
    const disables = steps(run.lines).filter((s) => s.action === 'disable')
    expect(disables.length).toBeGreaterThan(0)
    expect(
      disables.every((s) => s.status === 'skipped' && s.reason === 'approval: the trails cannot be read'),
    ).toBe(true)
  })

  it('with a blob ledger and no TOURNIQUET_DECISIONS, a run whose plan needs approval stops with a configuration error (exit 2)', async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 17, now: Date.now() - 3 * HOUR, highShare: 1 })
    t = await InProcessTenant.start({ tenant }, POLICY)
    // The ledger and the evidence state are in memory here; only the trails follow the setting.
    const config = { ...t.config, ledger: 'http://127.0.0.1:9/tourniquet/ledger.jsonl', decisions: undefined }
    const evidence = {
      location: 'memory:evidence',
      io: { bytesRead: 0, bytesWritten: 0, ms: 0 },
      load: async () => ({ state: undefined, version: undefined }),
      save: async () => true,
    }
    const run = await t.run('apply', { ledger: new MemoryLedger(), config, evidence })
    expect(run.exitCode).toBe(2)
    expect(run.lines.find((l) => l.event === 'error')).toMatchObject({
      kind: 'configuration',
      message: expect.stringMatching(/TOURNIQUET_DECISIONS: is not set, and the ledger is a blob/),
    })
    expect((t.mock as MockGraph).tenant.actions).toEqual([])
  })

  it('a step a crash interrupted passes the gate again: a rejection recorded since stops its resend', async () => {
    const tenant = generateTenant({ riskyUsers: 30, seed: 21, now: Date.now() - 3 * HOUR, highShare: 1 })
    t = await InProcessTenant.start({ tenant }, POLICY)
    const plan = (await t.run('plan', { ledger: new MemoryLedger() })).plan
    const cloudDisables = (plan?.steps ?? []).filter(
      (s) => s.action === 'disable' && s.route.kind === 'entra',
    )
    expect(cloudDisables.length).toBeGreaterThan(1)
    const [rejected, ...approved] = cloudDisables
    if (!rejected) throw new Error('no step')
    // Approved, sent (the intent is in the ledger), then the run crashed before the request left;
    // meanwhile a person rejected one of them.
    const decision = (s: typeof rejected, d: 'approved' | 'rejected', by: string): ApprovalDecision => ({
      type: 'decision',
      at: new Date().toISOString(),
      runId: 'run-earlier',
      userId: s.userId,
      userPrincipalName: s.userPrincipalName,
      action: s.action,
      evidenceKey: s.evidenceKey,
      detections: [...s.evidence],
      decision: d,
      by,
    })
    const trail = [
      ...cloudDisables.map((s) => decision(s, 'approved', 'alice')),
      decision(rejected, 'rejected', 'bob'),
    ]
    await writeFile(`${t.config.ledger}.decisions.jsonl`, trail.map((d) => `${JSON.stringify(d)}\n`).join(''))
    const ledger = new MemoryLedger({
      entries: cloudDisables.map((s) => ledgerEntry('run-earlier', s, 'intent')),
    })
    const run = await t.run('apply', { ledger })
    const sent = (t.mock as MockGraph).tenant.actionsOf('disable').map((a) => a.userId)
    expect(sent).not.toContain(rejected.userId)
    expect(sent.sort()).toEqual(approved.map((s) => s.userId).sort())
    expect(
      steps(run.lines).find((s) => s.userId === rejected.userId && s.action === 'disable'),
    ).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^approval: rejected by bob .*\(interrupted earlier; not sent again\)$/),
    })
  })
})
