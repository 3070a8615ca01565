import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePolicy, requiredPermissions } from '@tourniquet/policy'
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNNER_HOST_ALIASES, RUNNER_HOST_TYPE } from '../src/components/runnerHost.js'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, NOW, ofType, one, POLICY, REGISTRY_ID } from './deploy.js'
import { GRAPH_ROLE_IDS, PASSWORD_VALUE, SUBSCRIPTION_ID, TENANT_ID } from './mocks.js'

describe('the stack in secret mode (prod-like)', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(
      parseSettings({
        ...base,
        authMode: 'secret',
        mode: 'apply',
        schedule: '*/10 * * * *',
        secretRotation: '2',
        secretLifetimeDays: '90',
      }),
    )
  })
  const inNinetyDays = new Date(NOW.getTime() + 90 * 86_400_000).toISOString()

  it('keeps the runner host under its old type token as an alias: stacks deployed as ScheduledRunner keep every child', () => {
    expect(RUNNER_HOST_TYPE).toBe('tourniquet:index:RunnerHost')
    expect(RUNNER_HOST_ALIASES).toEqual([{ type: 'tourniquet:index:ScheduledRunner' }])
  })

  it('creates exactly the resources of the design', () => {
    const counts: Record<string, number> = {}
    for (const r of d.mocks.resources) counts[r.type] = (counts[r.type] ?? 0) + 1
    expect(counts).toEqual({
      'tourniquet:index:RemediationApp': 1,
      'tourniquet:index:SecretVault': 1,
      'tourniquet:index:LedgerStore': 1,
      'tourniquet:index:RunnerHost': 1,
      'tourniquet:index:AuditWorkbook': 1,
      'azure-native:applicationinsights:Workbook': 1,
      'azure-native:resources:ResourceGroup': 1,
      'azure-native:managedidentity:UserAssignedIdentity': 1,
      'azuread:index/servicePrincipal:ServicePrincipal': 2,
      'azuread:index/application:Application': 1,
      'azuread:index/appRoleAssignment:AppRoleAssignment': requiredPermissions(parsePolicy(POLICY)).length,
      'azuread:index/applicationPassword:ApplicationPassword': 2,
      'azure-native:keyvault:Vault': 1,
      'azure-native:keyvault:Secret': 1,
      'azure-native:authorization:ManagementLockByScope': 2,
      'azure-native:storage:StorageAccount': 1,
      'azure-native:storage:BlobContainer': 3,
      'azure-native:storage:BlobServiceProperties': 1,
      'azure-native:storage:ManagementPolicy': 1,
      'azure-native:operationalinsights:Workspace': 1,
      // The vault's audit log and the ledger account's blob writes.
      'azure-native:monitor:DiagnosticSetting': 2,
      'azure-native:app:ManagedEnvironment': 1,
      'azure-native:authorization:RoleAssignment': 5,
      'azure-native:app:Job': 1,
    })
  })

  it('grants exactly requiredPermissions(policy), each resolved by name from the Graph service principal', () => {
    const expected = requiredPermissions(parsePolicy(POLICY))
    expect(d.outputs.grantedPermissions).toEqual(expected)
    const assignments = ofType(d.mocks, 'azuread:index/appRoleAssignment:AppRoleAssignment')
    expect(assignments.map((a) => a.name).sort()).toEqual(expected.map((p) => `graph-role-${p}`).sort())
    for (const a of assignments) {
      const permission = a.name.replace('graph-role-', '')
      expect(a.inputs).toMatchObject({
        appRoleId: GRAPH_ROLE_IDS[permission],
        resourceObjectId: 'graph-sp-object-id',
      })
    }
    expect(d.outputs.directoryRolesToAssign).toEqual(['User Administrator'])
  })

  it('rotation 2 keeps two passwords (this rotation and the previous), each ending lifetime days after this deployment', () => {
    const passwords = ofType(d.mocks, 'azuread:index/applicationPassword:ApplicationPassword')
    expect(passwords.map((p) => p.name)).toEqual(['tq-dev-app-rotation-1', 'tq-dev-app-rotation-2'])
    for (const p of passwords) {
      // Before: the end date was a fixed default rotation date plus the lifetime: already past.
      expect(p.inputs).toMatchObject({ endDate: inNinetyDays, applicationId: '/applications/app-object-id' })
      expect(Date.parse(p.inputs.endDate as string)).toBeGreaterThan(NOW.getTime())
    }
  })

  it('Key Vault holds the current password, with its end date as expiry, under an auto-named secret', () => {
    const secret = one(d.mocks, 'azure-native:keyvault:Secret')
    // No secretName: Pulumi auto-names it with a random suffix kept in state (soft-delete safe).
    expect(secret.inputs.secretName).toBeUndefined()
    expect(secret.inputs).toMatchObject({
      properties: {
        value: PASSWORD_VALUE,
        contentType: expect.stringMatching(/client secret/),
        attributes: { enabled: true, expires: Date.parse(inNinetyDays) / 1000 },
      },
    })
  })

  it('the job references the Key Vault secret through the secret resource, so it is created after the secret', () => {
    const secret = one(d.mocks, 'azure-native:keyvault:Secret')
    const job = one(d.mocks, 'azure-native:app:Job')
    const kvRef = (job.inputs as unknown as Job).configuration.secrets.find(
      (s) => s.name === 'graph-client-secret',
    )
    // The URI is the secret resource's own output (the mock answers it only once the secret exists);
    // before, it was built from the vault URI and a fixed name, with no dependency on the secret.
    expect(kvRef?.keyVaultUrl).toBe(
      `https://${secret.inputs.vaultName}.vault.azure.net/secrets/tq-dev-vault-graph-client-secret-a1b2c3`,
    )
    expect(job.at).toBeGreaterThanOrEqual(secret.at)
  })

  it('no plain secret anywhere in the job, and none in the outputs', () => {
    const job = one(d.mocks, 'azure-native:app:Job')
    expect(JSON.stringify(job.inputs)).not.toContain(PASSWORD_VALUE)
    expect(JSON.stringify(d.outputs)).not.toContain(PASSWORD_VALUE)
    const inputs = job.inputs as unknown as Job
    const env = inputs.template.containers[0]?.env ?? []
    expect(env.find((e) => e.name === 'AZURE_CLIENT_SECRET')).toEqual({
      name: 'AZURE_CLIENT_SECRET',
      secretRef: 'graph-client-secret',
    })
    const kvRef = inputs.configuration.secrets.find((s) => s.name === 'graph-client-secret')
    expect(kvRef).toEqual({
      name: 'graph-client-secret',
      keyVaultUrl: expect.stringMatching(new RegExp(`^${d.outputs.vaultUri}secrets/`)),
      identity: expect.stringMatching(/userAssignedIdentities/),
    })
  })

  it('Key Vault: RBAC, soft delete 90 days, purge protection', () => {
    expect(one(d.mocks, 'azure-native:keyvault:Vault').inputs).toMatchObject({
      properties: {
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        tenantId: TENANT_ID,
      },
    })
  })

  it('Key Vault and the ledger account carry a CanNotDelete lock; the vault audit log goes to the workspace', () => {
    const locks = ofType(d.mocks, 'azure-native:authorization:ManagementLockByScope').map((l) => l.inputs)
    expect(locks).toEqual([
      expect.objectContaining({
        level: 'CanNotDelete',
        scope: expect.stringMatching(/Microsoft\.KeyVault\/vaults\/tqkv/),
      }),
      expect.objectContaining({
        level: 'CanNotDelete',
        scope: expect.stringMatching(/Microsoft\.Storage\/storageAccounts\/tqst[a-z0-9]+$/),
      }),
    ])
    const vaultAudit = ofType(d.mocks, 'azure-native:monitor:DiagnosticSetting').filter((s) =>
      /Microsoft\.KeyVault\/vaults\/tqkv/.test(s.inputs.resourceUri as string),
    )
    expect(vaultAudit.map((s) => s.inputs)).toEqual([
      expect.objectContaining({
        workspaceId: expect.stringMatching(/-id$/),
        logs: [{ category: 'AuditEvent', enabled: true }],
      }),
    ])
  })

  // azure-docs articles/storage/blobs/monitor-blob-storage.md: blob logs are set on the blob
  // service's resource id; StorageWrite and StorageDelete land in StorageBlobLogs.
  it("the ledger account's blob writes and deletes (who wrote a decision) go to the job's workspace", () => {
    const account = one(d.mocks, 'azure-native:storage:StorageAccount')
    const workspace = one(d.mocks, 'azure-native:operationalinsights:Workspace')
    const blobLogs = ofType(d.mocks, 'azure-native:monitor:DiagnosticSetting').filter((s) =>
      (s.inputs.resourceUri as string).includes('Microsoft.Storage'),
    )
    expect(blobLogs.map((s) => s.inputs)).toEqual([
      {
        name: 'tourniquet-blob-writes',
        resourceUri: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${account.inputs.accountName}/blobServices/default`,
        workspaceId: `${workspace.name}-id`,
        logs: [
          { category: 'StorageWrite', enabled: true },
          { category: 'StorageDelete', enabled: true },
        ],
      },
    ])
  })

  it('the ledger survives the job: versioning, blob and container soft delete (30 days by default)', () => {
    expect(one(d.mocks, 'azure-native:storage:BlobServiceProperties').inputs).toMatchObject({
      blobServicesName: 'default',
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true, days: 30 },
      containerDeleteRetentionPolicy: { enabled: true, days: 30 },
    })
    expect(ofType(d.mocks, 'azure-native:storage:BlobContainerImmutabilityPolicy')).toEqual([])
  })

  it('ledger storage: no shared key, TLS 1.2, no public blobs, a private container', () => {
    expect(one(d.mocks, 'azure-native:storage:StorageAccount').inputs).toMatchObject({
      allowSharedKeyAccess: false,
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      enableHttpsTrafficOnly: true,
    })
    expect(ofType(d.mocks, 'azure-native:storage:BlobContainer').map((c) => c.inputs)).toEqual([
      expect.objectContaining({ containerName: 'tourniquet', publicAccess: 'None' }),
      expect.objectContaining({ containerName: 'decisions', publicAccess: 'None' }),
      expect.objectContaining({ containerName: 'state', publicAccess: 'None' }),
    ])
    expect(d.outputs.ledgerUrl).toMatch(
      /^https:\/\/tqst[a-z0-9]+\.blob\.core\.windows\.net\/tourniquet\/ledger\.jsonl$/,
    )
  })

  it('role assignments: Key Vault Secrets User on the vault, Storage Blob Data Contributor on the container, nothing wider', () => {
    const roles = ofType(d.mocks, 'azure-native:authorization:RoleAssignment').map(
      (r) => r.inputs as { roleDefinitionId: string; scope: string; principalId: string },
    )
    expect(roles).toHaveLength(5)
    const acr = roles.find((r) => r.roleDefinitionId.endsWith('7f951dda-4ed3-4680-a7ca-43fe172d538d'))
    expect(acr?.scope).toBe(REGISTRY_ID)
    const vault = roles.find((r) => r.roleDefinitionId.endsWith('4633458b-17de-408a-b874-0445c86b69e6'))
    const blob = roles.filter((r) => r.roleDefinitionId.endsWith('ba92f5b4-2d11-453d-a403-e96b0029c9fe'))
    expect(vault?.scope).toMatch(/Microsoft\.KeyVault\/vaults\/tqkv/)
    // Writes: the ledger's container, and the evidence state's (overwritten every run).
    expect(blob.map((r) => r.scope.replace(/.*\/containers\//, '')).sort()).toEqual(['state', 'tourniquet'])
    // The job only reads decisions (decision 012): Storage Blob Data Reader on that container.
    const reader = roles.find((r) => r.roleDefinitionId.endsWith('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'))
    expect(reader?.scope).toMatch(/blobServices\/default\/containers\/decisions$/)
    expect(vault?.roleDefinitionId).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    )
    for (const r of roles) expect(r.principalId).toBe('uami-principal-id')
  })

  it('the image runs as built: no command or args (they would drop the Dockerfile CMD and its GC flags)', () => {
    const container = (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).template.containers[0]
    expect(container?.command).toBeUndefined()
    expect(container?.args).toBeUndefined()
    // What would be lost: the runner image's CMD sets the garbage-collector flags (decision 006).
    const dockerfile = readFileSync(
      join(import.meta.dirname, '..', '..', 'apps', 'runner', 'Dockerfile'),
      'utf8',
    )
    expect(dockerfile).toMatch(/^CMD \[.*"--max-semi-space-size=\d+".*\]$/m)
  })

  it('pulls from Azure Container Registry with the job identity (configuration.registries + AcrPull)', () => {
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    expect(job.configuration.registries).toEqual([
      {
        server: 'myregistry.azurecr.io',
        identity: expect.stringMatching(/userAssignedIdentities\/tq-dev-job$/),
      },
    ])
  })

  it('runs in the Consumption workload profile, where sizes up to 4 vCPU / 8 GiB exist', () => {
    expect(one(d.mocks, 'azure-native:app:ManagedEnvironment').inputs).toMatchObject({
      environmentName: 'tq-dev-env',
      workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }],
    })
    expect((one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).workloadProfileName).toBe(
      'Consumption',
    )
  })

  it('the job: cron, parallelism 1, timeout, retry limit, resources, identity, policy mounted as a file, runner settings', () => {
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    expect(job.configuration).toMatchObject({
      triggerType: 'Schedule',
      scheduleTriggerConfig: { cronExpression: '*/10 * * * *', parallelism: 1, replicaCompletionCount: 1 },
      replicaTimeout: 1800,
      replicaRetryLimit: 1,
    })
    expect(job.identity).toMatchObject({ type: 'UserAssigned' })
    const container = job.template.containers[0]
    expect(container?.resources).toEqual({ cpu: 0.5, memory: '1Gi' })
    expect(container?.image).toBe('myregistry.azurecr.io/tourniquet-runner:1.0.0')
    expect(job.template.volumes).toEqual([
      { name: 'policy', storageType: 'Secret', secrets: [{ secretRef: 'policy', path: 'policy.yaml' }] },
    ])
    expect(job.configuration.secrets.find((s) => s.name === 'policy')?.value).toBe(POLICY)
    const env = Object.fromEntries(
      (container?.env ?? []).map((e) => [e.name, e.value ?? `secretRef:${e.secretRef}`]),
    )
    expect(env).toMatchObject({
      AZURE_TENANT_ID: TENANT_ID,
      AZURE_CLIENT_ID: 'app-client-id',
      TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID: 'uami-client-id',
      TOURNIQUET_CLOUD: 'global',
      TOURNIQUET_POLICY: '/config/policy.yaml',
      TOURNIQUET_MODE: 'apply',
      TOURNIQUET_LEDGER: d.outputs.ledgerUrl,
      TOURNIQUET_MAX_RUNTIME: 'PT1680S',
      AZURE_CLIENT_SECRET: 'secretRef:graph-client-secret',
    })
  })

  it('outputs the ids a platform team needs', () => {
    expect(d.outputs).toMatchObject({
      applicationClientId: 'app-client-id',
      servicePrincipalObjectId: expect.stringMatching(/sp-object-id$/),
      jobName: 'tq-dev-runner',
    })
    expect(d.outputs.vaultUri).toMatch(/^https:\/\/tqkv[a-z0-9]+\.vault\.azure\.net\/$/)
  })
})
