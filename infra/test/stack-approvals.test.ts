import { beforeAll, describe, expect, it } from 'vitest'
import { jobNoPlainSecrets } from '../policy-pack/rules/jobNoPlainSecrets.js'
import { parseSettings, SettingsError } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, ofType, one } from './deploy.js'
import { SECRET_SIG } from './mocks.js'
import { violations } from './policyHarness.js'

const APPROVERS = '0a1b2c3d-0000-4000-a000-0000000000a1'
const NOTIFY_URLS = 'https://contoso.webhook.office.com/workflows/abc?sig=notify-url-signature-value'
const NOTIFY_SECRET = 'notify-hmac-key-value-from-pulumi-secret-config'
const READER = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
const CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

type Role = { roleDefinitionId: string; scope: string; principalId: string; principalType: string }
const roles = (d: Deployed) =>
  ofType(d.mocks, 'azure-native:authorization:RoleAssignment').map((r) => r.inputs as unknown as Role)
const partition = <T>(xs: T[], p: (x: T) => boolean): [T[], T[]] => [xs.filter(p), xs.filter((x) => !p(x))]
const onDecisions = (r: Role) => /\/containers\/decisions$/.test(r.scope)

// azure-docs articles/role-based-access-control/built-in-roles/storage.md: Storage Blob Data Reader
// (2a2b9908-...) reads and lists blobs; Storage Blob Data Contributor (ba92f5b4-...) also writes them.
describe('approvals and notifications configured', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(parseSettings({ ...base, approverGroupId: APPROVERS }), {
      notifyUrls: NOTIFY_URLS,
      notifySecret: NOTIFY_SECRET,
    })
  })

  it('a decisions container beside the ledger, its URL given to the job and output', () => {
    const decisions = ofType(d.mocks, 'azure-native:storage:BlobContainer').find(
      (c) => c.inputs.containerName === 'decisions',
    )
    expect(decisions?.inputs).toMatchObject({ publicAccess: 'None' })
    expect(d.outputs.decisionsUrl).toMatch(
      /^https:\/\/tqst[a-z0-9]+\.blob\.core\.windows\.net\/decisions\/decisions\.jsonl$/,
    )
    const env = (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).template.containers[0]?.env
    expect(env).toContainEqual({ name: 'TOURNIQUET_DECISIONS', value: d.outputs.decisionsUrl })
  })

  it('the job reads decisions and cannot write them; the approvers group may write them, nothing else', () => {
    const onIt = roles(d).filter(onDecisions)
    expect(onIt).toHaveLength(2)
    const job = onIt.find((r) => r.principalId === 'uami-principal-id')
    expect(job?.roleDefinitionId).toMatch(new RegExp(`/roleDefinitions/${READER}$`))
    const group = roles(d).filter((r) => r.principalId === APPROVERS)
    expect(group).toHaveLength(2)
    for (const r of group) expect(r.principalType).toBe('Group')
    const writes = group.filter((r) => r.roleDefinitionId.endsWith(CONTRIBUTOR))
    expect(writes).toHaveLength(1)
    expect(onDecisions(writes[0] as Role)).toBe(true)
    // Nothing that writes the decisions container is the job's.
    expect(
      roles(d).filter(
        (r) =>
          r.principalId === 'uami-principal-id' && onDecisions(r) && !r.roleDefinitionId.endsWith(READER),
      ),
    ).toEqual([])
  })

  it('approvers may read the requests blob beside the ledger, and nothing else there (a role condition)', () => {
    const reads = roles(d).filter((r) => r.principalId === APPROVERS && r.roleDefinitionId.endsWith(READER))
    expect(reads).toHaveLength(1)
    const read = reads[0] as Role & { condition: string; conditionVersion: string }
    expect(read.scope).toMatch(/\/containers\/tourniquet$/)
    expect(read.conditionVersion).toBe('2.0')
    expect(read.condition).toContain(
      "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})",
    )
    expect(read.condition).toContain(
      "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringEquals 'ledger.jsonl.approvals.jsonl'",
    )
    // The same blob the job writes requests to: `<ledger>.approvals.jsonl` (runner approvals/store.ts).
    expect(`${d.outputs.ledgerUrl}.approvals.jsonl`).toMatch(/\/tourniquet\/ledger\.jsonl\.approvals\.jsonl$/)
  })

  it('notification URLs and key are Key Vault secrets, referenced by the job as secretRef env', () => {
    const secrets = ofType(d.mocks, 'azure-native:keyvault:Secret')
    const byName = (n: string) => secrets.find((s) => s.name.endsWith(n))
    for (const [suffix, value] of [
      ['-notify-urls', NOTIFY_URLS],
      ['-notify-secret', NOTIFY_SECRET],
    ] as const) {
      const props = byName(suffix)?.inputs.properties as Record<string, unknown>
      // Marked secret on the wire: Pulumi keeps it encrypted in state.
      expect(props[SECRET_SIG]).toBeDefined()
      expect((props.value as { value: string }).value).toBe(value)
    }
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    const env = job.template.containers[0]?.env ?? []
    expect(env).toContainEqual({ name: 'TOURNIQUET_NOTIFY_URLS', secretRef: 'notify-urls' })
    expect(env).toContainEqual({ name: 'TOURNIQUET_NOTIFY_SECRET', secretRef: 'notify-secret' })
    for (const name of ['notify-urls', 'notify-secret']) {
      const ref = job.configuration.secrets.find((s) => s.name === name)
      expect(ref?.keyVaultUrl).toMatch(new RegExp(`/secrets/.*-${name}-a1b2c3$`))
      expect(ref?.value).toBeUndefined()
    }
  })

  it("the policy pack's rule against plain secrets passes the job as deployed", async () => {
    const job = one(d.mocks, 'azure-native:app:Job')
    expect(await violations(jobNoPlainSecrets, job.type, job.state, job.name)).toEqual([])
  })

  it('the job is created after the notification secrets (Container Apps resolves them then)', () => {
    const at = (n: string) => d.mocks.resources.find((r) => r.name.endsWith(n))?.at ?? Infinity
    const job = one(d.mocks, 'azure-native:app:Job')
    expect(at('-notify-urls')).toBeLessThanOrEqual(job.at)
    expect(at('-notify-secret')).toBeLessThanOrEqual(job.at)
  })

  it('neither value appears in the job, the outputs or any resource but its vault secret', () => {
    const everywhere = JSON.stringify([d.outputs, one(d.mocks, 'azure-native:app:Job').inputs])
    for (const v of [NOTIFY_URLS, NOTIFY_SECRET, 'notify-url-signature-value'])
      expect(everywhere).not.toContain(v)
    const holders = d.mocks.resources.filter((r) => JSON.stringify(r.inputs).includes(NOTIFY_SECRET))
    expect(holders.map((r) => r.type)).toEqual(['azure-native:keyvault:Secret'])
  })

  // Microsoft.Insights/workbooks (azure-native applicationinsights.Workbook): resourceName a GUID,
  // kind 'shared', category the gallery, sourceId the workspace, serializedData valid JSON.
  it('a workbook over the Log Analytics workspace, with valid Notebook JSON and a query per panel', () => {
    const wb = one(d.mocks, 'azure-native:applicationinsights:Workbook').inputs as Record<string, string>
    const workspace = one(d.mocks, 'azure-native:operationalinsights:Workspace')
    expect(wb).toMatchObject({ kind: 'shared', category: 'workbook', sourceId: `${workspace.name}-id` })
    expect(wb.resourceName).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/)
    const data = JSON.parse(wb.serializedData as string) as {
      version: string
      items: Array<{ type: number; content: { query?: string; json?: string } }>
      fallbackResourceIds: string[]
    }
    expect(data.version).toBe('Notebook/1.0')
    expect(data.fallbackResourceIds).toEqual([`${workspace.name}-id`])
    const queries = data.items.filter((i) => i.type === 3).map((i) => i.content.query ?? '')
    expect(queries).toHaveLength(6)
    const [audit, storage] = partition(queries, (q) => q.includes('ContainerAppConsoleLogs_CL'))
    expect(audit).toHaveLength(5)
    const job = (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).jobName
    for (const q of audit) expect(q).toContain(`column_ifexists("ContainerJobName_s", "") == "${job}"`)
    // Who wrote a decision: the blob logs of this stack's ledger account, in the same workspace.
    const account = one(d.mocks, 'azure-native:storage:StorageAccount').inputs.accountName as string
    expect(storage).toHaveLength(1)
    expect(storage[0]).toMatch(new RegExp(`^StorageBlobLogs\n\\| where AccountName == "${account}" `))
    expect(data.items.map((i) => i.content.json ?? '').join('\n')).toMatch(/detection times yet/)
  })
})

describe('approvals and notifications not configured', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(parseSettings(base))
  })

  it('no group role, the job still only reads decisions, and no notification secrets', () => {
    const onIt = roles(d).filter(onDecisions)
    expect(onIt).toHaveLength(1)
    expect(onIt[0]?.principalId).toBe('uami-principal-id')
    expect(onIt[0]?.roleDefinitionId).toMatch(new RegExp(`${READER}$`))
    expect(roles(d).filter((r) => r.principalType === 'Group')).toEqual([])
    expect(ofType(d.mocks, 'azure-native:keyvault:Secret').filter((s) => s.name.includes('notify'))).toEqual(
      [],
    )
    const env =
      (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).template.containers[0]?.env ?? []
    expect(env.map((e) => e.name).filter((n) => n.startsWith('TOURNIQUET_NOTIFY'))).toEqual([])
  })
})

describe('tourniquet:approverGroupId', () => {
  it('must be a group object id (a GUID), named in the error', () => {
    expect(() => parseSettings({ ...base, approverGroupId: 'Tourniquet Approvers' })).toThrow(SettingsError)
    expect(() => parseSettings({ ...base, approverGroupId: 'Tourniquet Approvers' })).toThrow(
      /tourniquet:approverGroupId: expected the approvers' Entra group object id/,
    )
    expect(parseSettings({ ...base, approverGroupId: APPROVERS }).approverGroupId).toBe(APPROVERS)
  })
})
