import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

const CONFIRM_THEN_REVOKE =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'

describe('read-back runs alongside the actions, not after them', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('directory and Identity Protection read-backs start while revokes are still going out', async () => {
    // Slow requests and one $batch at a time: the revokes trail the confirmations by seconds.
    t = await Tenant.start({
      tenant: generateTenant({ riskyUsers: 200, seed: 5, highShare: 1, detectionsPerUser: [1, 2] }),
      faults: { latencyMs: 400 },
    })
    const policy = join(t.dir, 'policy.yaml')
    await writeFile(policy, CONFIRM_THEN_REVOKE)
    const r = await runCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_POLICY: policy, TOURNIQUET_CONCURRENCY: '1' }),
    )
    expect(r.code).toBe(0)
    expect(r.summary).toMatchObject({ failed: 0, unverified: 0 })
    const log = t.mock.log
    const revokes = log.filter((l) => l.batchId !== undefined && l.path.endsWith('/revokeSignInSessions'))
    expect(revokes.length).toBeGreaterThan(100)
    const lastRevoke = Math.max(...revokes.map((l) => l.time))
    const directoryReadBack = log.filter(
      (l) =>
        l.batchId !== undefined && l.method === 'GET' && l.query.includes('signInSessionsValidFromDateTime'),
    )
    const riskReadBack = log.filter(
      (l) => l.path.endsWith('/identityProtection/riskyUsers') && l.query.includes('riskLastUpdatedDateTime'),
    )
    expect(directoryReadBack.length).toBe(revokes.length)
    expect(riskReadBack.length).toBeGreaterThan(0)
    expect(Math.min(...directoryReadBack.map((l) => l.time))).toBeLessThan(lastRevoke)
    expect(Math.min(...riskReadBack.map((l) => l.time))).toBeLessThan(lastRevoke)
    expect(t.mock.duplicates()).toEqual([])
  })
})
