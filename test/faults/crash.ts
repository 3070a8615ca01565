/**
 * SIGKILL at seeded points of an apply (by how many actions have reached the tenant, or how many
 * ledger lines exist), then a second run: the union of what reached the tenant is the plan, nothing
 * twice, nothing lost. The points are split over two files so two workers run them side by side;
 * the draws are made up front, so each point is the same whichever file runs it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateTenant, seeded } from '@tourniquet/mock-graph'
import { expect, vi } from 'vitest'
import { collect, runCli, spawnCli, Tenant } from '../support/e2e.js'
import { expectNothingTwice, FAST, SCALE, widePolicy } from './support.js'

export const POINTS = 20

const random = seeded(2026)
/** Per point: whether to kill by actions or by ledger lines, and how far in. */
const DRAWS: Array<[number, number]> = Array.from({ length: POINTS }, () => [random(), random()])

/** Runs the given kill points one after another; returns one line per point. */
export async function crashAndResume(points: readonly number[]): Promise<string[]> {
  const summary: string[] = []
  for (const point of points) {
    const t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 30, seed: 100 + point, highShare: 1 }),
      timeScale: SCALE,
      faults: { latencyMs: 15 },
    })
    try {
      const env = t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t), TOURNIQUET_CONCURRENCY: '2' })
      const planned = (await runCli(['run'], env)).steps.filter((s) => s.status === 'planned')
      const child = spawnCli(['run', '--apply'], env)
      const done = collect(child)
      // Kill after a seeded number of actions reached the tenant, or ledger lines were written.
      const [kind, size] = DRAWS[point] as [number, number]
      const byActions = kind < 0.5
      const target = 1 + Math.floor(size * (byActions ? planned.length - 1 : 12))
      const ledger = join(t.dir, 'ledger.jsonl')
      // vi.waitFor fails the test when the kill point is never reached.
      await vi.waitFor(
        async () => {
          const reached = byActions
            ? t.mock.tenant.actions.length >= target
            : (await readFile(ledger, 'utf8').catch(() => '')).split('\n').length > target
          if (!reached)
            throw new Error(
              `kill point ${point} (${byActions ? 'actions' : 'ledger lines'} >= ${target}) not reached`,
            )
        },
        { timeout: 20_000, interval: 5 },
      )
      child.kill('SIGKILL')
      await done
      const killedAt = t.mock.tenant.actions.length
      const resumed = await runCli(['run', '--apply'], env)
      expect(resumed.code, `resume after kill point ${point}: ${resumed.stderr}`).toBe(0)
      expectNothingTwice(t)
      // Nothing lost: every planned step's effect is in the tenant.
      const kinds: Record<string, string[]> = {
        confirmCompromised: ['confirmCompromised'],
        revokeSessions: ['revokeSignInSessions'],
        disable: ['disable', 'mdi:disable'],
      }
      for (const s of planned) {
        const reached = t.mock.tenant.actions.some(
          (a) => a.userId === s.userId && (kinds[String(s.action)] ?? []).includes(a.kind),
        )
        expect(reached, `point ${point}: ${s.userPrincipalName} ${s.action} was lost`).toBe(true)
      }
      expect(t.mock.tenant.actions.length).toBe(planned.length)
      summary.push(
        `${byActions ? 'actions' : 'ledger lines'}>=${target}: killed with ${killedAt}/${planned.length} applied`,
      )
    } finally {
      await t.stop()
    }
  }
  return summary
}
