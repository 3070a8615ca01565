import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

const CONFIRM_THEN_REVOKE =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'

/** The read-back of confirmations: a riskyUsers list filtered on when the risk last changed. */
const isReadBack = (query: URLSearchParams): boolean =>
  query.get('$filter')?.includes('riskLastUpdatedDateTime') === true

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
      (l) => l.path.endsWith('/identityProtection/riskyUsers') && isReadBack(new URLSearchParams(l.query)),
    )
    expect(directoryReadBack.length).toBe(revokes.length)
    expect(riskReadBack.length).toBeGreaterThan(0)
    expect(Math.min(...directoryReadBack.map((l) => l.time))).toBeLessThan(lastRevoke)
    expect(Math.min(...riskReadBack.map((l) => l.time))).toBeLessThan(lastRevoke)
    expect(t.mock.duplicates()).toEqual([])
  })

  it('a read-back the service refuses leaves those steps unverified with the reason; the actions stand', async () => {
    t = await Tenant.start({ tenant: generateTenant({ riskyUsers: 30, seed: 6, highShare: 1 }) })
    const mock = t.mock
    const handle = mock.handle.bind(mock)
    // Only the read-back of the confirmations fails.
    mock.handle = async (request) => {
      const url = new URL(request.url)
      if (url.pathname.endsWith('/identityProtection/riskyUsers') && isReadBack(url.searchParams))
        return Response.json(
          { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges' } },
          { status: 403 },
        )
      return handle(request)
    }
    const policy = join(t.dir, 'policy.yaml')
    await writeFile(policy, CONFIRM_THEN_REVOKE)
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(r.code).toBe(0)
    const confirms = r.steps.filter((s) => s.action === 'confirmCompromised')
    const revokes = r.steps.filter((s) => s.action === 'revokeSessions')
    expect(confirms.length).toBeGreaterThan(0)
    for (const s of confirms) {
      expect(s.status).toBe('unverified')
      expect(String(s.reason)).toMatch(/could not be read back .*IdentityRiskyUser/)
    }
    // Guests are skipped by the policy engine (a revoke does nothing for them); every other revoke is read back.
    expect(revokes.filter((s) => s.status !== 'skipped').every((s) => s.status === 'succeeded')).toBe(true)
    expect(revokes.some((s) => s.status === 'succeeded')).toBe(true)
    expect(mock.tenant.actionsOf('confirmCompromised').length).toBeGreaterThan(0)
    expect(mock.duplicates()).toEqual([])
  })
})
