/**
 * The ledger as state that must neither stall nor be forged (issue #16 items 6 and 7): stale and
 * foreign local locks, and ledger lines validated on read.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOMAIN, generateTenant } from '@tourniquet/mock-graph'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runUndo } from '../src/commands/undo.js'
import { FileLedger, type LedgerEntry } from '../src/index.js'
import { ledgerEntry } from '../src/ledger/ledger.js'
import { InProcessTenant, MemoryLedger, Sink } from './support/tenant.js'

const MINUTE = 60_000
const lockOf = (holder: Record<string, unknown>) => JSON.stringify(holder)

describe('local ledger locks', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-lock-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it("takes over a lock whose pid is this process's own (a container's pid 1 after a crash), and says so", async () => {
    const path = join(dir, 'l.jsonl')
    await writeFile(
      `${path}.lock`,
      lockOf({ host: hostname(), pid: process.pid, at: new Date(Date.now() - MINUTE).toISOString() }),
    )
    const ledger = new FileLedger(path)
    expect(await ledger.acquire()).toBe(true)
    expect(ledger.takenOver).toMatch(/that pid is this process/)
    await ledger.release()
  })

  it('takes over a lock older than the maximum runtime even when its pid is alive', async () => {
    const path = join(dir, 'l.jsonl')
    // The parent process is alive, as pid 1 always is in a container.
    await writeFile(
      `${path}.lock`,
      lockOf({ host: hostname(), pid: process.ppid, at: new Date(Date.now() - 21 * MINUTE).toISOString() }),
    )
    const ledger = new FileLedger(path, { maxRuntimeMs: 20 * MINUTE })
    expect(await ledger.acquire()).toBe(true)
    expect(ledger.takenOver).toMatch(/longer than the maximum runtime/)
    await ledger.release()
  })

  it('a live run on this host still holds its lock', async () => {
    const path = join(dir, 'l.jsonl')
    await writeFile(
      `${path}.lock`,
      lockOf({ host: hostname(), pid: process.ppid, at: new Date(Date.now() - MINUTE).toISOString() }),
    )
    expect(await new FileLedger(path, { maxRuntimeMs: 20 * MINUTE }).acquire()).toBe(false)
  })

  it('a run meeting a recent lock of another host exits 1 with a line naming the holder, not 0 in silence', async () => {
    const t = await InProcessTenant.start({ scenario: 'demo' })
    try {
      const path = join(t.dir, 'ledger.jsonl')
      await writeFile(
        `${path}.lock`,
        lockOf({ host: 'job-replica-7f9c', pid: 1, at: new Date(Date.now() - MINUTE).toISOString() }),
      )
      const r = await t.run('apply', { ledger: new FileLedger(path, { maxRuntimeMs: 20 * MINUTE }) })
      expect(r.exitCode).toBe(1)
      expect(r.err.text).toMatch(/held by host job-replica-7f9c, pid 1, since .*taken over after/)
      expect(r.err.text).not.toMatch(/\n\s+at /)
      expect(r.lines.at(-1)).toMatchObject({
        event: 'summary',
        outcome: expect.stringMatching(/ledger locked/),
      })
      expect(t.mock.tenant.actions).toEqual([])
    } finally {
      await t.stop()
    }
  })
})

describe('ledger lines are input', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-lines-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const good: LedgerEntry = {
    runId: 'r1',
    at: '2026-01-01T00:00:00Z',
    phase: 'done',
    userId: 'u',
    userPrincipalName: 'u@c.com',
    action: 'disable',
    evidenceKey: 'e',
    route: 'entra:disable',
    outcome: 'succeeded',
    routeDetail: { kind: 'entra', call: 'disable' },
  }

  it.each([
    ['a line that is JSON but not an entry', { hello: 'world' }, /line 2 .*not a ledger entry \(runId: /],
    ['an unknown outcome', { ...good, outcome: 'maybe' }, /line 2 .*\(outcome: /],
    [
      'a forged route',
      { ...good, routeDetail: { kind: 'entra', call: 'deleteUser' } },
      /line 2 .*\(routeDetail\.call: /,
    ],
    ['a user id that is not a string', { ...good, userId: 42 }, /line 2 .*\(userId: /],
  ])('refuses %s with an error naming the line and the field', async (_name, bad, message) => {
    const path = join(dir, 'l.jsonl')
    await writeFile(path, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n${JSON.stringify(good)}\n`)
    const error = await new FileLedger(path).load().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'TQ_RUNNER_LEDGER_CORRUPT', message: expect.stringMatching(message) })
  })
})

describe('undo reads each account back', () => {
  it('re-enables only accounts still disabled, names them by the directory UPN, and ignores a forged line', async () => {
    const t = await InProcessTenant.start({
      tenant: generateTenant({ riskyUsers: 20, seed: 21, highShare: 1 }),
    })
    try {
      const ledger = new MemoryLedger()
      const applied = await t.run('apply', { ledger })
      const disabled = applied.lines.filter(
        (l) => l.event === 'step' && l.route === 'entra:disable' && l.status === 'succeeded',
      )
      expect(disabled.length).toBeGreaterThan(2)
      const [reEnabledByHand, renamed, ...rest] = disabled.map((l) =>
        t.mock.tenant.users.get(String(l.userId)),
      )
      if (!reEnabledByHand || !renamed) throw new Error('expected users')
      reEnabledByHand.accountEnabled = true
      renamed.userPrincipalName = `renamed@${DOMAIN}`
      // A forged line: an account this job never disabled, which is enabled.
      const bystander = [...t.mock.tenant.users.values()].find(
        (u) => u.accountEnabled && u !== reEnabledByHand,
      )
      if (!bystander) throw new Error('expected a bystander')
      const forged = ledgerEntry(
        applied.runId,
        {
          userId: bystander.id,
          userPrincipalName: bystander.userPrincipalName,
          rule: 'high',
          action: 'disable',
          route: { kind: 'entra', call: 'disable' },
          evidenceKey: 'x',
          evidence: [],
        },
        'done',
        'succeeded',
      )
      await ledger.append([forged])
      const out = new Sink()
      const before = t.mock.log.length
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
      const enabled = t.mock.tenant.actions.filter((a) => a.kind === 'enable').map((a) => a.userId)
      expect(enabled.sort()).toEqual([renamed.id, ...rest.map((u) => u?.id)].sort())
      const records = out.lines().filter((l) => l.event === 'step')
      expect(records.find((r) => r.userId === renamed.id)).toMatchObject({
        status: 'succeeded',
        userPrincipalName: `renamed@${DOMAIN}`,
      })
      for (const id of [reEnabledByHand.id, bystander.id]) {
        // No write reached either account, not even one the service would have ignored.
        expect(t.mock.log.slice(before).filter((l) => l.method === 'PATCH' && l.path.includes(id))).toEqual(
          [],
        )
        expect(records.find((r) => r.userId === id)).toMatchObject({
          status: 'skipped',
          reason: expect.stringMatching(/no longer disabled/),
        })
      }
    } finally {
      await t.stop()
    }
  })
})

describe('a lost lease stops the run', () => {
  it('once the ledger reports its hold lost, in-flight steps finish and nothing new starts (exit 1)', async () => {
    const t = await InProcessTenant.start({
      tenant: generateTenant({ riskyUsers: 60, seed: 22, highShare: 1 }),
    })
    try {
      const lost = new AbortController()
      // The hold is lost as the first intent is written: a renewal failed mid-run.
      const ledger = Object.assign(new MemoryLedger({ onAppend: () => lost.abort() }), { lost: lost.signal })
      const r = await t.run('apply', { ledger })
      expect(r.exitCode).toBe(1)
      expect(r.lines.at(-1)).toMatchObject({ event: 'summary', outcome: 'stopped early' })
      const planned = r.plan?.steps.length ?? 0
      const started = new Set(
        (await ledger.load()).filter((e) => e.phase === 'intent').map((e) => `${e.userId}|${e.action}`),
      )
      expect(started.size).toBeGreaterThan(0)
      expect(started.size).toBeLessThan(planned)
    } finally {
      await t.stop()
    }
  })
})
