/**
 * Bounds, end to end (issue #16 item 9): a Graph collection that never ends must not keep the job
 * alive until the platform kills it. The built CLI against the mock on loopback HTTPS: a nextLink
 * that points to its own page is refused, and a slow endless collection is cut off by the run's
 * deadline (TOURNIQUET_MAX_RUNTIME). Either way a non-zero exit, one clear line, no stack trace.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type CliResult, runCli, Tenant } from '../support/e2e.js'

const STACK_FRAME = /^\s+at .+[(:]\d+/m

/** The stderr lines that say why the run failed (the human table and notes aside). */
const failureLines = (r: CliResult): string[] =>
  r.stderr.split('\n').filter((l) => /the run (failed|stopped at its deadline)/.test(l))

describe('bounds on what Graph can make the run do', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('a nextLink that points to its own page: refused after one page, exit 1, one clear line', async () => {
    t = await Tenant.start({ scenario: 'demo', faults: { selfNextLink: true } })
    const r = await runCli(['run', '--apply'], t.env())
    expect(r.code).toBe(1)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    const lines = failureLines(r)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/@odata\.nextLink on page 1 leads back to a page already read; refused/)
    expect(r.summary).toMatchObject({ outcome: 'failed' })
    // Each collection was read once more at most (the first page, then the refused link not sent).
    const gets = t.mock.log.filter((l) => l.method === 'GET' && l.path.includes('/identityProtection/'))
    expect(gets.length).toBeLessThanOrEqual(4)
    expect(t.mock.tenant.actions).toEqual([])
  })

  it('a slow endless collection: the run ends at its deadline, exit 1, one clear line naming TOURNIQUET_MAX_RUNTIME', async () => {
    t = await Tenant.start({ scenario: 'demo', faults: { endlessPages: true, latencyMs: 50 } })
    const started = performance.now()
    // PT40S in the reported case; 4 s keeps the suite short and proves the same bound.
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_MAX_RUNTIME: 'PT4S' }))
    const elapsedMs = performance.now() - started
    expect(r.code).toBe(1)
    // The deadline, plus start-up and at most one request in flight; never the platform's kill.
    expect(elapsedMs).toBeLessThan(15_000)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    const lines = failureLines(r)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /the run stopped at its deadline; raise TOURNIQUET_MAX_RUNTIME .*: TQ_DEADLINE: .*has passed; not sent$/,
    )
    expect(r.summary).toMatchObject({ outcome: 'failed' })
    expect(t.mock.tenant.actions).toEqual([])
  })
})
