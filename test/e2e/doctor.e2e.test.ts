import { readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { REMEDIATION_APP_ID } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

// `tourniquet doctor` against the fake tenant: read-only, one line per check, exit 0 / 1 / 2.
describe('tourniquet doctor', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })
  const writes = (tenant: Tenant) =>
    tenant.mock.log.filter((l) => l.method !== 'GET' && !l.path.endsWith('/token'))
  const line = (stdout: string, status: string, check: string) =>
    stdout.split('\n').find((l) => l.startsWith(status.padEnd(12)) && l.slice(12).startsWith(check))

  it('with the full grant: every check ok or cannot tell, exit 0, and no write sent', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/the policy can run as written/)
    for (const check of [
      'sign-in',
      'permissions',
      'identity protection',
      'risk detections',
      'directory',
      'exclusion group',
      'defender for identity',
      'ledger',
    ])
      expect(line(r.stdout, 'ok', check), check).toBeDefined()
    expect(line(r.stdout, 'cannot tell', 'directory role')).toMatch(/User Administrator/)
    expect(r.stdout).not.toMatch(/^missing/m)
    expect(writes(t)).toEqual([])
    expect(r.stdout).not.toMatch(/eyJ/) // no token, not even in part
  })

  it('with one permission missing: names it, exit 1', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const app = t.mock.tenant.apps.get(REMEDIATION_APP_ID)
    if (app) app.roles = app.roles.filter((r) => r !== 'User.RevokeSessions.All')
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(1)
    expect(line(r.stdout, 'missing', 'permission')).toMatch(
      /User\.RevokeSessions\.All, needed to rule '.*': revokeSessions/,
    )
  })

  it('a permission granted but not needed is a note, not a failure', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    t.mock.tenant.apps.get(REMEDIATION_APP_ID)?.roles.push('Directory.ReadWrite.All')
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(0)
    expect(line(r.stdout, 'note', 'permissions')).toMatch(
      /not needed by this policy: Directory\.ReadWrite\.All/,
    )
  })

  it('a documented higher permission counts as granted: ok via it, naming the lesser one that is enough, exit 0', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const app = t.mock.tenant.apps.get(REMEDIATION_APP_ID)
    if (app) app.roles = [...app.roles.filter((r) => r !== 'User.Read.All'), 'Directory.Read.All']
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(0)
    expect(line(r.stdout, 'ok', 'permission ')).toMatch(
      /User\.Read\.All via Directory\.Read\.All; User\.Read\.All is enough/,
    )
    expect(line(r.stdout, 'ok', 'directory')).toBeDefined()
    expect(r.stdout).not.toMatch(/not needed by this policy: .*Directory\.Read\.All/)
    expect(r.stdout).not.toMatch(/^missing/m)
  })

  it('looks at the ledger lock without taking it: a stale lock is left for the next run, and said so', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const lock = join(t.dir, 'ledger.jsonl.lock')
    // A lock of a process that no longer exists: a run would take it over; doctor must not.
    const holder = JSON.stringify({ host: hostname(), pid: 2 ** 22 + 7, at: new Date().toISOString() })
    await writeFile(lock, holder)
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(0)
    expect(line(r.stdout, 'ok', 'ledger')).toMatch(
      /read; not locked now \(a stale lock the next run takes over/,
    )
    expect(await readFile(lock, 'utf8')).toBe(holder)
  })

  it('reads the evidence state and, for a policy with approvals, the decisions trail', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const policy = join(t.dir, 'approvals.yaml')
    await writeFile(
      policy,
      'version: 1\nlookback: PT48H\napprovals: { require: [disable] }\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [revokeSessions, disable]\n',
    )
    await writeFile(join(t.dir, 'ledger.jsonl.decisions.jsonl'), 'not json\n')
    const r = await runCli(['doctor'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(line(r.stdout, 'ok', 'evidence state')).toMatch(
      /ledger\.jsonl\.evidence\.json is reachable; none saved yet/,
    )
    expect(line(r.stdout, 'note', 'decisions trail')).toMatch(
      /decisions\.jsonl is readable \(0 decision\(s\)\); 1 warning\(s\): .*line 1 skipped/,
    )
    expect(r.code).toBe(0)
  })

  it('with Identity Protection unlicensed: tells the licence apart from a permission, exit 1', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    t.mock.tenant.features.entraIdP2 = false
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(1)
    expect(line(r.stdout, 'missing', 'identity protection')).toMatch(
      /although the app holds IdentityRiskyUser\.Read\.All/,
    )
    expect(r.stdout).toMatch(/Entra ID P2 licence/)
  })

  it('with Defender for Identity not set up: says so, exit 1', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    t.mock.tenant.features.defenderForIdentity = false
    const r = await runCli(['doctor'], t.env())
    expect(r.code).toBe(1)
    expect(line(r.stdout, 'missing', 'defender for identity')).toBeDefined()
    expect(r.stdout).toMatch(/Defender for Identity may not be set up/)
  })

  it.each([
    ['usgov', 0, /^note {8}cloud {18}Defender for Identity .* not offered in the 'usgov' cloud/m],
    ['usgovdod', 0, /^note {8}cloud {18}Defender for Identity .* not offered in the 'usgovdod' cloud/m],
    ['china', 1, /^missing {5}cloud {18}Entra ID Protection .* not offered in the 'china' cloud/m],
  ] as const)('in the %s cloud: what the cloud lacks, exit %i', async (cloud, code, expected) => {
    t = await Tenant.start({ scenario: 'demo', cloud })
    const r = await runCli(['doctor'], t.env({ TOURNIQUET_CLOUD: cloud }))
    expect(r.code).toBe(code)
    expect(r.stdout).toMatch(expected)
    expect(t.mock.log.filter((l) => l.path.includes('/security/'))).toEqual([])
  })

  it("a run refused for a missing permission shows the doctor's permission lines in its logs", async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const app = t.mock.tenant.apps.get(REMEDIATION_APP_ID)
    if (app) app.roles = app.roles.filter((r) => r !== 'User.RevokeSessions.All')
    const r = await runCli(['run', '--apply'], t.env())
    expect(r.code).toBe(1)
    expect(r.steps.some((s) => s.action === 'revokeSessions' && s.status === 'failed')).toBe(true)
    expect(r.stderr).toMatch(/^missing {5}permission {13}User\.RevokeSessions\.All, needed to rule/m)
    expect(r.stderr).toMatch(/run `tourniquet doctor`/)
    expect(r.lines.at(-1)?.event).toBe('summary')
  })

  it('a wrong secret is a sign-in error with the advice, exit 2', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const r = await runCli(['doctor'], t.env({ AZURE_CLIENT_SECRET: 'not-the-secret-at-all' }))
    expect(r.code).toBe(2)
    expect(line(r.stdout, 'missing', 'sign-in')).toMatch(/7000215/)
    expect(r.stdout + r.stderr).not.toMatch(/not-the-secret-at-all/)
  })
})
