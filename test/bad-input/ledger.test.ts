import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// The ledger is input (decision 010): the built CLI meets a forged or corrupt line with one clear
// line naming the line and the field, a defined exit code, nothing done, and no stack trace.
describe('a corrupt ledger', () => {
  let t: Tenant
  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'demo' })
  }, 60_000)
  afterAll(() => t?.stop())

  const good = {
    runId: 'r1',
    at: '2026-12-01T00:00:00.000Z',
    phase: 'done',
    userId: 'u1',
    userPrincipalName: 'u1@contoso.example',
    action: 'disable',
    evidenceKey: 'k',
    route: 'entra:disable',
    outcome: 'succeeded',
  }

  it.each([
    ['run', ['run', '--apply']],
    ['undo', ['undo', '--run', 'r1', '--apply']],
  ])('%s: exit 1, the line and the field named, nothing done', async (_name, args) => {
    const ledger = join(t.dir, `ledger-${_name}.jsonl`)
    const forged = { ...good, routeDetail: { kind: 'entra', call: 'deleteUser' } }
    await writeFile(ledger, `${JSON.stringify(good)}\n${JSON.stringify(forged)}\n`)
    const before = t.mock.tenant.actions.length
    const r = await runCli(args, t.env({ TOURNIQUET_LEDGER: ledger }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/line 2 of the ledger is not a ledger entry \(routeDetail\.call: /)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(t.mock.tenant.actions.length).toBe(before)
  })
})
