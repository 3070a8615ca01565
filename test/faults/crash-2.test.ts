import { describe, expect, it } from 'vitest'
import { crashAndResume, POINTS } from './crash.js'

const points = Array.from({ length: 10 }, (_, i) => 10 + i)

describe(`crash and resume: SIGKILL at seeded points 10-19 of ${POINTS}`, () => {
  it('the union of both runs equals the plan, nothing twice, nothing lost', async () => {
    expect(await crashAndResume(points)).toHaveLength(points.length)
  }, 600_000)
})
