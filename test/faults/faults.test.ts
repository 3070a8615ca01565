import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'
import { FAST, faultScenario, SCALE, widePolicy } from './support.js'

// One fault at a time, at a rate high enough that a small run meets it many times. The mix at the
// issue's rates is faults-mix.test.ts; 429s are faults-429.test.ts (their backoffs take longest).
describe('the built runner against a faulty Graph: one fault at a time', () => {
  it.each([
    ['503 (with Retry-After)', { seed: 1, rate503: 0.2 }],
    ['connection resets', { seed: 3, rateReset: 0.15 }],
    ['malformed (truncated) JSON', { seed: 4, rateMalformed: 0.15 }],
    ['504 after the service acted (outcome unknown)', { seed: 5, rate504: 0.15 }],
  ])(
    '%s: one terminal status per step, nothing twice, the right exit code; a clean rerun finishes the job',
    (_name, faults) => faultScenario(40, faults),
    180_000,
  )

  it(
    'latency spikes: the same, only slower',
    () =>
      faultScenario(
        40,
        { seed: 6, latencyMs: 20, latencySpikeRate: 0.1, latencySpikeMs: 2_000 },
        { faultsLogged: false },
      ),
    180_000,
  )
})

describe('failures the run must stop at', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('token endpoint failures: exit 2, nothing done, advice given', async () => {
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 40, seed: 8, highShare: 1 }),
      timeScale: SCALE,
      faults: { tokenFailureRate: 1 },
    })
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
