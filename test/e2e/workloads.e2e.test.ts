import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WORKLOAD_APP_ID, WORKLOAD_APP_SECRET, WORKLOAD_IDS } from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, runCli, Tenant } from '../support/e2e.js'

const ST = WORKLOAD_IDS.singleTenant

/** Users' rule kept narrow; the servicePrincipals section is what these tests are about. */
const POLICY = `version: 1
lookback: PT24H
rules:
  - name: leaked-credentials
    when: { riskLevel: [high], detections: { anyOf: [leakedCredentials] } }
    then: [confirmCompromised]
servicePrincipals:
  exclude:
    servicePrincipals:
      - ${WORKLOAD_IDS.excluded.appId}
  rules:
    - name: leaked-app-secret
      when: { riskLevel: [high], detections: { anyOf: [leakedCredentials] }, appOwner: [thisTenant] }
      then: [confirmCompromised, disable, removeCredentials]
      removeCredentials: { which: addedWithinLookback, from: [application, servicePrincipal] }
    - name: risky-app
      when: { riskLevel: [medium, high] }
      then: [disable]
`

const workloadSteps = (r: CliResult) => r.steps.filter((s) => s.subject === 'servicePrincipal')
const of = (r: CliResult, id: string, action: string) =>
  workloadSteps(r).filter((s) => s.userId === id && s.action === action)

describe('workload identities (service principals), from the built CLI', () => {
  let t: Tenant
  let env: Record<string, string>
  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'workload-identities' })
    const policy = join(t.dir, 'workloads.yaml')
    await writeFile(policy, POLICY)
    env = t.env({
      AZURE_CLIENT_ID: WORKLOAD_APP_ID,
      AZURE_CLIENT_SECRET: WORKLOAD_APP_SECRET,
      TOURNIQUET_POLICY: policy,
    })
  })
  afterAll(() => t.stop())

  it('plans both kinds and changes nothing; self, excluded and managed identity are skipped', async () => {
    const before = t.mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled
    const r = await runCli(['run'], env)
    expect(r.code).toBe(0)
    expect(of(r, ST.spId, 'confirmCompromised')[0]).toMatchObject({ status: 'planned' })
    expect(of(r, ST.spId, 'disable')[0]).toMatchObject({ status: 'planned' })
    expect(of(r, WORKLOAD_IDS.multiTenant.spId, 'disable')[0]).toMatchObject({ status: 'planned' })
    const skipped = (id: string) => workloadSteps(r).find((s) => s.userId === id)?.reason
    expect(skipped(WORKLOAD_IDS.self.spId)).toMatch(/^self:/)
    expect(skipped(WORKLOAD_IDS.excluded.spId)).toMatch(/^excluded:/)
    expect(skipped(WORKLOAD_IDS.managedIdentity.spId)).toMatch(/^managedIdentity:/)
    expect(t.mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled).toBe(before)
  })

  let applyRun = ''
  it('applies: confirm and disable are read back; the credential removal waits for approval', async () => {
    const report = join(t.dir, 'report.md')
    const r = await runCli(['run', '--apply'], { ...env, TOURNIQUET_REPORT: report })
    expect(r.code).toBe(0)
    applyRun = String(r.summary?.runId)
    const md = await readFile(report, 'utf8')
    expect(md).toMatch(/\| contoso-build [^|]*\| service principal \| leaked-app-secret \| disable \|/)
    expect(md).toMatch(/\| [^|]*@contoso\.example \| user \|/)
    expect(md).toMatch(/## Why \(workload identities\)[\s\S]*\n- contoso-build .*leakedCredentials/)
    expect(of(r, ST.spId, 'confirmCompromised')[0]).toMatchObject({ status: 'succeeded' })
    expect(of(r, ST.spId, 'disable')[0]).toMatchObject({ status: 'succeeded' })
    expect(of(r, ST.spId, 'removeCredentials').map((s) => s.status)).toEqual([
      'pendingApproval',
      'pendingApproval',
    ])
    expect(t.mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled).toBe(false)
    expect(t.mock.tenant.servicePrincipals.get(WORKLOAD_IDS.multiTenant.spId)?.accountEnabled).toBe(false)
    // No cap of the section can refuse five principals (four steps each at most, 20 allowed): the
    // plan was made alongside the users' steps, and the disables went through $batch.
    expect(r.lines.find((l) => l.event === 'workloads')).toMatchObject({
      decided: "while the users' steps went out",
    })
    const disables = t.mock.log.filter(
      (l) => l.method === 'PATCH' && l.path.startsWith('/v1.0/servicePrincipals/'),
    )
    expect(disables.length).toBeGreaterThan(0)
    expect(disables.every((l) => l.batchId !== undefined)).toBe(true)
    expect(t.mock.tenant.servicePrincipals.get(WORKLOAD_IDS.self.spId)?.accountEnabled).toBe(true)
    expect(t.mock.tenant.servicePrincipals.get(WORKLOAD_IDS.excluded.spId)?.accountEnabled).toBe(true)
    expect(t.mock.tenant.applications.get(ST.appObjectId)?.passwordCredentials).toHaveLength(2)
    const ledger = await readFile(join(t.dir, 'ledger.jsonl'), 'utf8')
    expect(ledger).toMatch(/"subject":\{"kind":"servicePrincipal"/)
  })

  it('a second apply repeats nothing', async () => {
    const before = t.mock.log.length
    const r = await runCli(['run', '--apply'], env)
    expect(r.code).toBe(0)
    const sent = workloadSteps(r).filter((s) => s.status === 'succeeded' || s.status === 'failed')
    expect(sent).toEqual([])
    const writes = t.mock.log
      .slice(before)
      .filter((l) => l.method !== 'GET' && !l.path.endsWith('$batch') && !l.path.includes('/oauth2/'))
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([])
  })

  it('an approved credential removal is sent once; the ledger names the key ids and hints', async () => {
    const ok = await runCli(
      ['approve', '--run', applyRun, '--user', ST.spId, '--action', 'removeCredentials', '--by', 'e2e'],
      env,
    )
    expect(ok.code).toBe(0)
    const r = await runCli(['run', '--apply'], env)
    expect(r.code).toBe(0)
    const removed = of(r, ST.spId, 'removeCredentials')
    expect(removed.map((s) => s.status)).toEqual(['succeeded', 'succeeded'])
    expect(String(removed[0]?.reason)).toMatch(/not undoable/)
    const app = t.mock.tenant.applications.get(ST.appObjectId)
    expect(app?.passwordCredentials.map((c) => c.displayName)).toEqual(['deploy (old)'])
    expect(app?.keyCredentials).toEqual([])
    expect(t.mock.tenant.servicePrincipals.get(ST.spId)?.passwordCredentials).toEqual([])
    const ledger = await readFile(join(t.dir, 'ledger.jsonl'), 'utf8')
    expect(ledger).toMatch(
      /"credentials":\[\{"kind":"password","keyId":"4e400000-0000-4000-a000-000000000002","hint":"Xyz"/,
    )
    expect(ledger).not.toMatch(/mock-secret-not-real/)
    const again = await runCli(['run', '--apply'], env)
    expect(of(again, ST.spId, 'removeCredentials').filter((s) => s.status === 'succeeded')).toEqual([])
  })

  it('undo re-enables what the run disabled, and says a credential removal cannot be undone', async () => {
    const plan = await runCli(['undo', '--run', applyRun], env)
    expect(plan.code).toBe(0)
    const r = await runCli(['undo', '--run', applyRun, '--apply'], env)
    expect(r.code).toBe(0)
    expect(r.steps.find((s) => s.userId === ST.spId && s.action === 'enable')).toMatchObject({
      status: 'succeeded',
    })
    expect(t.mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled).toBe(true)
    expect(t.mock.tenant.servicePrincipals.get(WORKLOAD_IDS.multiTenant.spId)?.accountEnabled).toBe(true)
    // The removal was approved in a later run; this run's own removals would be named the same way.
    expect(plan.stderr).toMatch(/re-enable: disabled by/)
  })
})

describe('workload identities: doctor', () => {
  let t: Tenant
  let env: Record<string, string>
  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'workload-identities' })
    await writeFile(join(t.dir, 'workloads.yaml'), POLICY)
    env = t.env({
      AZURE_CLIENT_ID: WORKLOAD_APP_ID,
      AZURE_CLIENT_SECRET: WORKLOAD_APP_SECRET,
      TOURNIQUET_POLICY: join(t.dir, 'workloads.yaml'),
    })
  })
  afterAll(() => t.stop())

  it('names each workload permission with its blast radius and the Workload ID Premium licence', async () => {
    const r = await runCli(['doctor'], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /workload permission\s+Application\.ReadWrite\.All .*blast radius: .*any app registration/,
    )
    expect(r.stdout).toMatch(/workload permission\s+IdentityRiskyServicePrincipal\.ReadWrite\.All/)
    expect(r.stdout).toMatch(/workload licence\s+.*Workload ID Premium/)
    expect(r.stdout).toMatch(/ok\s+workload identities\s+riskyServicePrincipals answered/)
  })

  it('tells a missing licence apart from a missing permission', async () => {
    t.mock.tenant.features.workloadIdentitiesPremium = false
    try {
      const r = await runCli(['doctor'], env)
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(
        /missing\s+workload identities\s+Graph refused the read although the app holds/,
      )
      expect(r.stdout).toMatch(
        /-> risky service principals need a Microsoft Entra Workload ID Premium licence/,
      )
    } finally {
      t.mock.tenant.features.workloadIdentitiesPremium = true
    }
  })
})

describe('workload identities: what stops the run', () => {
  let t: Tenant
  let env: Record<string, string>
  let dir: string
  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'workload-identities' })
    dir = t.dir
    await writeFile(join(dir, 'workloads.yaml'), POLICY)
    env = t.env({
      AZURE_CLIENT_ID: WORKLOAD_APP_ID,
      AZURE_CLIENT_SECRET: WORKLOAD_APP_SECRET,
      TOURNIQUET_POLICY: join(dir, 'workloads.yaml'),
    })
  })
  afterAll(() => t.stop())

  it('without the Workload ID Premium licence: exit 2, the licence named, nothing done', async () => {
    t.mock.tenant.features.workloadIdentitiesPremium = false
    try {
      const r = await runCli(['run', '--apply'], env)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/Workload ID Premium licence/)
      expect(t.mock.tenant.actions).toEqual([])
    } finally {
      t.mock.tenant.features.workloadIdentitiesPremium = true
    }
  })

  it('in the China cloud: exit 2 before any request', async () => {
    const before = t.mock.log.length
    const r = await runCli(['run'], { ...env, TOURNIQUET_CLOUD: 'china' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/china/i)
    expect(t.mock.log.length).toBe(before)
  })

  it('an exclusion that names no service principal refuses the run: exit 2, nothing done', async () => {
    const policy = join(dir, 'typo.yaml')
    await writeFile(
      policy,
      POLICY.replace(WORKLOAD_IDS.excluded.appId, '00000000-0000-4000-a000-00000000dead'),
    )
    const r = await runCli(['run', '--apply'], { ...env, TOURNIQUET_POLICY: policy })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/00000000-0000-4000-a000-00000000dead/)
    expect(t.mock.tenant.actions).toEqual([])
    expect(t.mock.tenant.servicePrincipals.get(ST.spId)?.accountEnabled).toBe(true)
  })

  it('a cap per kind refuses the run: exit 3, nothing done', async () => {
    const policy = join(dir, 'cap.yaml')
    await writeFile(
      policy,
      POLICY.replace(
        '  rules:\n    - name: leaked-app-secret',
        '  limits:\n    maxPerAction: { disable: 1 }\n  rules:\n    - name: leaked-app-secret',
      ),
    )
    const r = await runCli(['run', '--apply'], { ...env, TOURNIQUET_POLICY: policy })
    expect(r.code).toBe(3)
    expect(r.summary?.outcome).toMatch(/servicePrincipals\.limits\.maxPerAction\.disable/)
    expect(r.lines.find((l) => l.event === 'workloads')).toMatchObject({
      decided: 'before anything was sent',
    })
    expect(t.mock.tenant.actions).toEqual([])
  })

  it('a policy without a servicePrincipals section sends no workload request', async () => {
    const policy = join(dir, 'users.yaml')
    await writeFile(policy, POLICY.slice(0, POLICY.indexOf('servicePrincipals:')))
    const before = t.mock.log.length
    const r = await runCli(['run'], { ...env, TOURNIQUET_POLICY: policy })
    expect(r.code).toBe(0)
    const paths = t.mock.log.slice(before).map((l) => l.path)
    expect(paths.filter((p) => /ServicePrincipal|servicePrincipals|applications/.test(p))).toEqual([])
  })
})
