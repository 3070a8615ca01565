/**
 * The engine in-process against the fake tenant (support/tenant.ts): grouping by lane, per-user
 * order, read-back, a stop mid-run, and the verdicts on steps a crash interrupted. The child-process
 * suites in test/ keep what only a real process shows (signals, SIGKILL, the built CLI's output).
 */
import { generateTenant } from '@tourniquet/mock-graph'
import type { Step } from '@tourniquet/policy'
import { afterEach, describe, expect, it } from 'vitest'
import { runUndo } from '../src/commands/undo.js'
import type { StepOutcome } from '../src/engine/execute.js'
import { Verifier } from '../src/engine/verify.js'
import { ledgerEntry } from '../src/ledger/ledger.js'
import { InProcessTenant, MemoryLedger, Sink } from './support/tenant.js'

const steps = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.event === 'step')
const summaryOf = (lines: Array<Record<string, unknown>>) => lines.findLast((l) => l.event === 'summary')

describe('the engine in-process', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('groups by lane: <= 60 users a confirmCompromised call, <= 20 items a $batch; each user in rule order', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 150, seed: 11, highShare: 0.8 }) })
    const r = await t.run('apply', { ledger: new MemoryLedger() })
    expect(r.exitCode).toBe(0)
    const log = t.mock.log.filter((l) => l.batchId === undefined && l.method === 'POST')
    const confirms = log
      .filter((l) => l.path.endsWith('/riskyUsers/confirmCompromised'))
      .map((l) => (l.body as { userIds: string[] }).userIds.length)
    const batches = log
      .filter((l) => l.path === '/v1.0/$batch')
      .map((l) => (l.body as { requests: unknown[] }).requests.length)
    expect(confirms.length).toBeGreaterThan(1)
    expect(Math.max(...confirms)).toBe(60)
    expect(batches.length).toBeGreaterThan(1)
    expect(Math.max(...batches)).toBe(20)
    // Each user's actions reached the tenant in the rule's order: confirm, revoke, disable.
    const order = ['confirmCompromised', 'revokeSignInSessions', 'disable']
    const byUser = new Map<string, string[]>()
    for (const a of t.mock.tenant.actions)
      byUser.set(a.userId, [...(byUser.get(a.userId) ?? []), a.kind.replace('mdi:', '')])
    const high = [...byUser.values()].filter((kinds) => kinds.includes('confirmCompromised'))
    expect(high.length).toBeGreaterThan(60)
    for (const kinds of high) expect(kinds).toEqual(order.filter((k) => kinds.includes(k)))
    expect(t.mock.duplicates()).toEqual([])
  })

  it('read-back: an unknown outcome (504 after acting) counts once seen; a Defender for Identity reset stays unverified', async () => {
    t = await InProcessTenant.start({
      tenant: generateTenant({ riskyUsers: 80, seed: 12, highShare: 0.5 }),
      faults: { seed: 3, rate504: 0.15 },
    })
    const r = await t.run('apply', { ledger: new MemoryLedger() })
    const records = steps(r.lines)
    const unknownSeen = records.filter((s) => String(s.reason).startsWith('outcome was unknown;'))
    expect(unknownSeen.length).toBeGreaterThan(0)
    for (const s of unknownSeen) expect(s.status).toBe('succeeded')
    const mdiResets = records.filter((s) =>
      String(s.route).startsWith('defenderForIdentity:forcePasswordReset'),
    )
    expect(mdiResets.length).toBeGreaterThan(0)
    for (const s of mdiResets) {
      expect(s.status).toBe('unverified')
      expect(s.reason).toMatch(/cannot be read back/)
    }
    // Succeeded means seen in the tenant.
    for (const s of records.filter((x) => x.status === 'succeeded' && x.action === 'disable'))
      expect(t.mock.tenant.actions.some((a) => a.userId === s.userId && a.kind.endsWith('disable'))).toBe(
        true,
      )
  })

  it('read-back: a call reported succeeded whose effect is not visible is unverified, with what was seen', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 30, seed: 13, highShare: 1 }) })
    const planned = await t.run('plan', { ledger: new MemoryLedger() })
    const step = planned.plan?.steps.find(
      (s) => s.route.kind === 'entra' && s.route.call === 'disable',
    ) as Step
    expect(step).toBeDefined()
    const claimed: StepOutcome = {
      step,
      status: 'succeeded',
      reason: null,
      errorCode: null,
      graphRequestId: null,
      correlationId: null,
      startedAt: Date.now(),
      durationMs: 1,
    }
    const verifier = new Verifier(t.client, [step], { attempts: 2, delayMs: 1 })
    verifier.add([claimed])
    const [settled] = await verifier.finish()
    expect(settled).toMatchObject({ status: 'unverified', reason: 'accountEnabled is still true' })
  })

  it('a stop mid-run: groups in flight finish and are recorded, nothing new starts, exit 1', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 80, seed: 14, highShare: 0.9 }) })
    const stop = new AbortController()
    const ledger = new MemoryLedger({
      onAppend: (entries) => {
        if (entries.some((e) => e.phase === 'intent')) stop.abort()
      },
    })
    const r = await t.run('apply', { ledger, stopSignal: stop.signal })
    expect(r.exitCode).toBe(1)
    expect(summaryOf(r.lines)).toMatchObject({ outcome: 'stopped early', exitCode: 1 })
    const notStarted = steps(r.lines).filter((s) => String(s.reason).startsWith('not started'))
    expect(notStarted.length).toBeGreaterThan(0)
    const key = (e: { userId: string; action: string }) => `${e.userId}|${e.action}`
    const lines = await ledger.load()
    const intents = lines.filter((e) => e.phase === 'intent').map(key)
    const done = new Set(lines.filter((e) => e.phase === 'done').map(key))
    expect(intents.length).toBeGreaterThan(0)
    expect(intents.filter((k) => !done.has(k))).toEqual([])
    const acted = steps(r.lines).filter((s) => s.status === 'succeeded' || s.status === 'unverified')
    expect(t.mock.tenant.actions).toHaveLength(acted.length)
  })

  it('after a crash: a visible effect is succeeded, an unobservable one is never resent, the rest runs now', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 60, seed: 15, highShare: 0.5 }) })
    // A first run that "crashed" after every call: its ledger kept only the intents.
    const crashed = new MemoryLedger()
    const first = await t.run('apply', { ledger: crashed })
    expect(first.exitCode).toBe(0)
    const intents = new MemoryLedger({ entries: (await crashed.load()).filter((e) => e.phase === 'intent') })
    const actedBefore = t.mock.tenant.actions.length
    const resumed = await t.run('apply', { ledger: intents })
    expect(resumed.exitCode).toBe(0)
    expect(t.mock.tenant.actions).toHaveLength(actedBefore)
    const records = steps(resumed.lines).filter((s) => s.route !== null)
    const unobservable = records.filter((s) =>
      String(s.route).startsWith('defenderForIdentity:forcePasswordReset'),
    )
    expect(unobservable.length).toBeGreaterThan(0)
    for (const s of unobservable)
      expect(s).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/not sent again$/) })
    const visible = records.filter((s) => !unobservable.includes(s))
    expect(visible.length).toBeGreaterThan(0)
    for (const s of visible)
      expect(s).toMatchObject({
        status: 'succeeded',
        reason: expect.stringMatching(/^interrupted in run-.*the effect is visible/),
      })

    // Intents of steps that never left: observable and not visible, so they run now, once.
    const fresh = await InProcessTenant.start({
      tenant: generateTenant({ riskyUsers: 60, seed: 15, highShare: 0.5 }),
    })
    try {
      const plan = (await fresh.run('plan', { ledger: new MemoryLedger() })).plan
      const ledger = new MemoryLedger({
        entries: (plan?.steps ?? []).map((s) => ledgerEntry('run-earlier', s, 'intent')),
      })
      const r = await fresh.run('apply', { ledger })
      const ran = steps(r.lines).filter((s) => s.route !== null && s.status === 'succeeded')
      expect(ran.length).toBeGreaterThan(0)
      for (const s of ran) expect(String(s.reason)).not.toMatch(/^interrupted/)
      expect(fresh.mock.tenant.actions.some((a) => a.kind === 'mdi:forcePasswordReset')).toBe(false)
      expect(fresh.mock.duplicates()).toEqual([])
    } finally {
      await fresh.stop()
    }
  })

  it('undo acts through the same apply path: re-enables what the run disabled, settled by read-back, recorded', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 40, seed: 18, highShare: 1 }) })
    const ledger = new MemoryLedger()
    const applied = await t.run('apply', { ledger })
    const disabled = steps(applied.lines).filter((s) => s.action === 'disable' && s.status === 'succeeded')
    expect(disabled.length).toBeGreaterThan(0)
    const out = new Sink()
    const code = await runUndo({
      config: { ...t.config, mode: 'apply' },
      runId: applied.runId,
      out,
      err: new Sink(),
      client: t.client,
      ledger,
      verify: { delayMs: 10 },
    })
    expect(code).toBe(0)
    const undone = steps(out.lines())
    expect(undone.map((s) => s.userId).sort()).toEqual(disabled.map((s) => s.userId).sort())
    for (const s of undone)
      expect(s).toMatchObject({
        action: 'enable',
        status: 'succeeded',
        reason: expect.stringMatching(/isEnabled is true|accountEnabled is true/),
      })
    const undoRun = String(undone[0]?.runId)
    const settled = (await ledger.load()).filter((e) => e.runId === undoRun && e.phase === 'done')
    // Two lines per step: the call's outcome, then its settled status after read-back.
    expect(settled).toHaveLength(2 * undone.length)
    expect(t.mock.tenant.actions.filter((a) => a.kind === 'enable' || a.kind === 'mdi:enable')).toHaveLength(
      undone.length,
    )
  })
})
