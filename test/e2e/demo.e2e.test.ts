import { describe, expect, it } from 'vitest'
import { runCli } from '../support/e2e.js'

// The README's quick start, from the built CLI as CI runs it: the demo finds its example policy
// wherever the build puts the command modules (a folder move once broke it and only CI noticed).
describe('tourniquet demo', () => {
  it('runs the quick start to the end: plan, apply, a second apply that repeats nothing', async () => {
    const r = await runCli(['demo'], { PATH: process.env.PATH ?? '' })
    expect(r.stderr).not.toMatch(/is missing/)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/The tenant now shows: /)
    expect(r.stdout).toMatch(/already done for this evidence/)
  }, 120_000)
})
