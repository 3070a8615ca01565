import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { collect, runCli, spawnCli, Tenant, widePolicy } from '../support/e2e.js'

const ledgerText = (t: Tenant): Promise<string> =>
  readFile(join(t.dir, 'ledger.jsonl'), 'utf8').catch(() => '')

describe('overlap and shutdown', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('two runs started together: one acts, the other exits 0 with "another run holds the lease"', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const [a, b] = await Promise.all([
      runCli(['run', '--apply'], t.env()),
      runCli(['run', '--apply'], t.env()),
    ])
    const outcomes = [a.summary?.outcome, b.summary?.outcome].sort()
    expect(outcomes).toEqual(['applied', 'skipped: another run holds the lease'])
    expect([a.code, b.code]).toEqual([0, 0])
    expect(t.mock.duplicates()).toEqual([])
  })

  it('SIGTERM mid-run: in-flight steps finish and are recorded, nothing new starts, exit 1', async () => {
    // Slow writes so the run is surely mid-way when the signal comes.
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 120, seed: 21, highShare: 0.9 }),
      faults: { latencyMs: 150 },
    })
    const child = spawnCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_CONCURRENCY: '1', TOURNIQUET_POLICY: await widePolicy(t) }),
    )
    const done = collect(child)
    const tenant = t
    await expect
      .poll(async () => (await ledgerText(tenant)).includes('"phase":"intent"'), {
        timeout: 45_000,
        interval: 25,
      })
      .toBe(true)
    child.kill('SIGTERM')
    const r = await done
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/SIGTERM: finishing in-flight steps/)
    expect(r.summary).toMatchObject({ outcome: 'stopped early', exitCode: 1 })
    const notStarted = r.steps.filter((s) => String(s.reason).startsWith('not started'))
    expect(notStarted.length).toBeGreaterThan(0)
    // Every intent written has its outcome: nothing half-known.
    const entries = (await ledgerText(tenant))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { phase: string; userId: string; action: string; evidenceKey: string })
    const key = (e: { userId: string; action: string; evidenceKey: string }) =>
      `${e.userId}|${e.action}|${e.evidenceKey}`
    const intents = new Set(entries.filter((e) => e.phase === 'intent').map(key))
    const dones = new Set(entries.filter((e) => e.phase === 'done').map(key))
    expect([...intents].filter((k) => !dones.has(k))).toEqual([])
    // What reached the tenant is exactly what the audit says succeeded or was left unverified.
    const acted = r.steps.filter((s) => s.status === 'succeeded' || s.status === 'unverified').length
    expect(tenant.mock.tenant.actions.length).toBe(acted)
  })

  it('after SIGKILL mid-run, the next run finishes the job without repeating anything', async () => {
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 60, seed: 5, highShare: 0.9 }),
      faults: { latencyMs: 100 },
    })
    const tenant = t
    const policy = await widePolicy(t)
    const child = spawnCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_CONCURRENCY: '1', TOURNIQUET_POLICY: policy }),
    )
    const done = collect(child)
    // Kill it once something has reached the tenant and more is on its way.
    await expect
      .poll(() => tenant.mock.tenant.actions.length, { timeout: 45_000, interval: 25 })
      .toBeGreaterThan(0)
    child.kill('SIGKILL')
    await done
    expect(tenant.mock.tenant.actions.length).toBeGreaterThan(0)
    const second = await runCli(['run', '--apply'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(second.code === 0 || second.code === 1).toBe(true)
    expect(tenant.mock.duplicates()).toEqual([])
    expect(second.steps.some((s) => s.status === 'succeeded')).toBe(true)
    // Nothing lost: a dry run afterwards finds nothing left to do.
    const third = await runCli(['run'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(third.steps.filter((s) => s.status === 'planned')).toEqual([])
  })
})
