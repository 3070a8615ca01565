import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'
import { expectNothingTwice, expectOneTerminalStatusEach, FAST, SCALE, widePolicy } from './support.js'

const tenantOf = (seed: number) => generateTenant({ riskyUsers: 40, seed, highShare: 1 })

describe('the built runner against a faulty Graph', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  // One fault at a time at a rate high enough that a small run meets it many times, then the mix of
  // the rates (10% 503, 5% 429, 2% resets, 1% malformed) on a larger tenant.
  it.each([
    ['503 (with Retry-After)', 40, { seed: 1, rate503: 0.2 }],
    ['429, with and without Retry-After', 40, { seed: 2, rate429: 0.2, retryAfter: 'mixed' as const }],
    ['connection resets', 40, { seed: 3, rateReset: 0.15 }],
    ['malformed (truncated) JSON', 40, { seed: 4, rateMalformed: 0.15 }],
    ['504 after the service acted (outcome unknown)', 40, { seed: 5, rate504: 0.15 }],
    ['latency spikes', 40, { seed: 6, latencyMs: 20, latencySpikeRate: 0.1, latencySpikeMs: 2_000 }],
    [
      'all at once, at 10% 503 / 5% 429 / 2% resets / 1% malformed',
      200,
      {
        seed: 7,
        rate503: 0.1,
        rate429: 0.05,
        retryAfter: 'mixed' as const,
        rateReset: 0.02,
        rateMalformed: 0.01,
        rate504: 0.01,
        latencyMs: 5,
        latencySpikeRate: 0.02,
        latencySpikeMs: 1_000,
      },
    ],
  ])(
    '%s: one terminal status per step, nothing twice, the right exit code; a clean rerun finishes the job',
    async (_name, users, faults) => {
      t = await Tenant.start({
        tenant: generateTenant({ riskyUsers: users, seed: faults.seed, highShare: 1 }),
        timeScale: SCALE,
        faults,
      })
      const env = t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t) })
      const faulty = await runCli(['run', '--apply'], env)
      expect(faulty.summary?.event).toBe('summary')
      // The faults did happen, and the run still acted.
      if (!('latencySpikeRate' in faults) || 'rate503' in faults)
        expect(t.mock.log.filter((l) => l.fault !== undefined).length).toBeGreaterThan(1)
      expect(t.mock.tenant.actions.length).toBeGreaterThan(0)
      expect(faulty.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
      expectOneTerminalStatusEach(t, faulty)
      expectNothingTwice(t)

      t.mock.setFaults(undefined)
      const clean = await runCli(['run', '--apply'], env)
      expect(clean.code).toBe(0)
      expectNothingTwice(t)
      const after = await runCli(['run'], env)
      expect(
        after.steps.filter((s) => s.status === 'planned'),
        'work left after a clean rerun',
      ).toEqual([])
      // Backoffs and Retry-After waits are real seconds, not scaled with the mock.
    },
    180_000,
  )

  it('token endpoint failures: exit 2, nothing done, advice given', async () => {
    t = await Tenant.start({ tenant: tenantOf(8), timeScale: SCALE, faults: { tokenFailureRate: 1 } })
    const r = await runCli(['run', '--apply'], t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t) }))
    expect(r.code).toBe(2)
    expect(r.summary).toMatchObject({ outcome: 'authentication error: nothing done' })
    expect(t.mock.tenant.actions).toEqual([])
  })

  it('a forged cross-origin nextLink: the run stops before acting, and the token never goes there', async () => {
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 600, seed: 9, highShare: 1 }),
      timeScale: SCALE,
      faults: { forgedNextLink: 'https://evil.tourniquet.invalid' },
    })
    const r = await runCli(['run', '--apply'], t.env({ ...FAST, TOURNIQUET_POLICY: await widePolicy(t) }))
    expect(r.code).toBe(1)
    expect(r.lines.find((l) => l.event === 'error')?.message).toMatch(
      /@odata\.nextLink .* outside the configured Graph root/,
    )
    expect(t.mock.tenant.actions).toEqual([])
  })
})
