import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// The built CLI against a fake tenant that behaves as a national cloud: what the cloud lacks is
// known before any request (each API page's national-cloud include in MDC).
describe('national clouds', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('china: a policy that reads Identity Protection exits 2 naming the API and the cloud, before any request', async () => {
    t = await Tenant.start({ scenario: 'demo', cloud: 'china' })
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_CLOUD: 'china' }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/TOURNIQUET_CLOUD: .*Entra ID Protection.*'china' cloud does not offer it/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(t.mock.log).toEqual([])
  })

  it('usgov: a synced-only rule that needs Defender for Identity exits 2 before any request', async () => {
    t = await Tenant.start({ scenario: 'synced-user-at-risk', cloud: 'usgov' })
    const policy = join(t.dir, 'synced.yaml')
    await writeFile(
      policy,
      'version: 1\nlookback: PT48H\nrules:\n  - name: synced\n    when: { synced: true }\n    then: [disable]\n',
    )
    const r = await runCli(['run'], t.env({ TOURNIQUET_CLOUD: 'usgov', TOURNIQUET_POLICY: policy }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Defender for Identity.*rule 'synced': disable.*'usgov' cloud/)
    expect(t.mock.log).toEqual([])
  })

  it('usgov: where Entra is another route, the Defender for Identity steps are skips with the reason and nothing asks /security', async () => {
    t = await Tenant.start({ scenario: 'demo', cloud: 'usgov' })
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_CLOUD: 'usgov' }))
    expect(r.code).toBe(0)
    const synced = r.steps.filter((s) => s.userPrincipalName === 'alex.wilber@contoso.example')
    const reset = synced.find((s) => s.action === 'forcePasswordReset')
    expect(reset).toMatchObject({ status: 'skipped' })
    expect(String(reset?.reason)).toMatch(/Defender for Identity, which the 'usgov' cloud does not offer/)
    expect(r.steps.some((s) => s.status === 'succeeded' && s.action === 'disable')).toBe(true)
    expect(t.mock.log.filter((l) => l.path.includes('/security/'))).toEqual([])
  })
})

describe('Defender for Identity lookups', () => {
  it('are $batch items (never one request per user), only for synced users the plan routes there', async () => {
    const t = await Tenant.start({ scenario: 'demo' })
    try {
      const r = await runCli(['run', '--apply'], t.env())
      expect(r.code).toBe(0)
      const lookups = t.mock.log.filter(
        (l) => l.method === 'GET' && l.path === '/v1.0/security/identities/identityAccounts',
      )
      expect(lookups.length).toBeGreaterThan(0)
      expect(lookups.every((l) => l.batchId !== undefined)).toBe(true)
      const synced = [...t.mock.tenant.users.values()].filter((u) => u.onPremisesSyncEnabled === true)
      expect(lookups.length).toBeLessThanOrEqual(synced.length)
      const reset = r.steps.find(
        (s) => s.userPrincipalName === 'alex.wilber@contoso.example' && s.action === 'forcePasswordReset',
      )
      expect(String(reset?.route)).toMatch(/^defenderForIdentity:forcePasswordReset/)
    } finally {
      await t.stop()
    }
  })
})
