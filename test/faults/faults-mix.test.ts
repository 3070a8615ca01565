import { describe, it } from 'vitest'
import { faultScenario } from './support.js'

describe('the built runner against a faulty Graph: everything at once', () => {
  it(
    '10% 503, 5% 429, 2% resets, 1% malformed, 1% 504, latency spikes: one terminal status per step, nothing twice; a clean rerun finishes',
    () =>
      faultScenario(200, {
        seed: 7,
        rate503: 0.1,
        rate429: 0.05,
        retryAfter: 'mixed',
        rateReset: 0.02,
        rateMalformed: 0.01,
        rate504: 0.01,
        latencyMs: 5,
        latencySpikeRate: 0.02,
        latencySpikeMs: 1_000,
      }),
    180_000,
  )
})
