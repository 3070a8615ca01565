import { createLoopbackPki, type LoopbackPki } from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Azurite, startAzurite } from '../support/azurite.js'
import { runCli, Tenant } from '../support/e2e.js'

// The ledger and its lease in a real Azure Storage implementation (Azurite), reached with a bearer
// token the runner gets for https://storage.azure.com through the same msal setup as for Graph.
describe('the blob ledger in Azure Storage (Azurite)', () => {
  let t: Tenant
  let pki: LoopbackPki
  let azurite: Azurite
  let ledgerUrl: string

  beforeAll(async () => {
    pki = await createLoopbackPki()
    // One CA for the mock tenant and Azurite: the runner trusts it through NODE_EXTRA_CA_CERTS.
    t = await Tenant.start({ scenario: 'demo' }, pki)
    azurite = await startAzurite(pki, t.dir)
    await azurite.createContainer('tourniquet')
    ledgerUrl = `${azurite.accountUrl}/tourniquet/ledger.jsonl`
  }, 90_000)
  afterAll(async () => {
    await azurite?.stop()
    await t?.stop()
  })

  it('applies, records to the blob, and a second run repeats nothing', async () => {
    const first = await runCli(['run', '--apply'], t.env({ TOURNIQUET_LEDGER: ledgerUrl }))
    expect(first.summary).toMatchObject({ failed: 0, outcome: 'applied' })
    // The room left before the ledger starts its next segment (decision 010).
    expect(first.summary).toMatchObject({
      ledgerHeadroom: { segment: 0, blocksLeft: expect.any(Number) },
    })
    expect(
      Number((first.summary as { ledgerHeadroom: { blocksLeft: number } }).ledgerHeadroom.blocksLeft),
    ).toBeLessThan(40_000)
    expect(first.code).toBe(0)
    expect(first.lines.find((l) => l.event === 'start')).toMatchObject({ ledger: ledgerUrl })
    const second = await runCli(['run', '--apply'], t.env({ TOURNIQUET_LEDGER: ledgerUrl }))
    expect(second.code).toBe(0)
    expect(
      second.steps.filter((s) => String(s.reason).includes('already done for this evidence')).length,
    ).toBeGreaterThan(0)
    expect(t.mock.duplicates()).toEqual([])
  })

  it('the blob lease keeps two overlapping runs from acting at once', async () => {
    const [a, b] = await Promise.all([
      runCli(['run', '--apply'], t.env({ TOURNIQUET_LEDGER: ledgerUrl })),
      runCli(['run', '--apply'], t.env({ TOURNIQUET_LEDGER: ledgerUrl })),
    ])
    const outcomes = [a.summary?.outcome, b.summary?.outcome]
    expect(outcomes).toContain('skipped: another run holds the lease')
    expect([a.code, b.code]).toEqual([0, 0])
  })
})
