import { describe, it } from 'vitest'
import { faultScenario } from './support.js'

describe('the built runner against a faulty Graph: throttling', () => {
  it(
    '429, with and without Retry-After: one terminal status per step, nothing twice, the right exit code; a clean rerun finishes the job',
    () => faultScenario(40, { seed: 2, rate429: 0.2, retryAfter: 'mixed' }),
    180_000,
  )
})
