import { parsePolicy, requiredPermissions } from '@tourniquet/policy'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, ofType, one, POLICY } from './deploy.js'
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
        secretRotation: '2026-11-26',
        secretLifetimeDays: '90',
      }),
    )
  })

  it('creates exactly the resources of the design', () => {
    const counts: Record<string, number> = {}
    for (const r of d.mocks.resources) counts[r.type] = (counts[r.type] ?? 0) + 1
    expect(counts).toEqual({
      'tourniquet:index:RemediationApp': 1,
      'tourniquet:index:SecretVault': 1,
      'tourniquet:index:LedgerStore': 1,
      'tourniquet:index:ScheduledRunner': 1,
      'azure-native:resources:ResourceGroup': 1,
      'azure-native:managedidentity:UserAssignedIdentity': 1,
      'azuread:index/servicePrincipal:ServicePrincipal': 2,
      'azuread:index/application:Application': 1,
      'azuread:index/appRoleAssignment:AppRoleAssignment': 9,
      'azuread:index/applicationPassword:ApplicationPassword': 1,
      'azure-native:keyvault:Vault': 1,
      'azure-native:keyvault:Secret': 1,
      'azure-native:storage:StorageAccount': 1,
      'azure-native:storage:BlobContainer': 1,
      'azure-native:operationalinsights:Workspace': 1,
      'azure-native:app:ManagedEnvironment': 1,
      'azure-native:authorization:RoleAssignment': 2,
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

  it('issues a client secret with an end date and a rotation key, and stores it only in Key Vault', () => {
    const password = one(d.mocks, 'azuread:index/applicationPassword:ApplicationPassword')
    expect(password.inputs).toMatchObject({
      endDate: '2027-02-24T00:00:00.000Z',
      rotateWhenChanged: { rotation: '2026-11-26' },
    })
    const secret = one(d.mocks, 'azure-native:keyvault:Secret')
    expect(secret.inputs).toMatchObject({
      secretName: 'graph-client-secret',
      properties: {
        value: PASSWORD_VALUE,
        contentType: expect.stringMatching(/client secret/),
        attributes: { expires: Date.parse('2027-02-24T00:00:00Z') / 1000 },
      },
    })
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
      keyVaultUrl: `${d.outputs.vaultUri}secrets/graph-client-secret`,
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

  it('ledger storage: no shared key, TLS 1.2, no public blobs, a private container', () => {
    expect(one(d.mocks, 'azure-native:storage:StorageAccount').inputs).toMatchObject({
      allowSharedKeyAccess: false,
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      enableHttpsTrafficOnly: true,
    })
    expect(one(d.mocks, 'azure-native:storage:BlobContainer').inputs).toMatchObject({
      containerName: 'tourniquet',
      publicAccess: 'None',
    })
    expect(d.outputs.ledgerUrl).toMatch(
      /^https:\/\/tqst[a-z0-9]+\.blob\.core\.windows\.net\/tourniquet\/ledger\.jsonl$/,
    )
  })

  it('role assignments: Key Vault Secrets User on the vault, Storage Blob Data Contributor on the container, nothing wider', () => {
    const roles = ofType(d.mocks, 'azure-native:authorization:RoleAssignment').map(
      (r) => r.inputs as { roleDefinitionId: string; scope: string; principalId: string },
    )
    expect(roles).toHaveLength(2)
    const vault = roles.find((r) => r.roleDefinitionId.endsWith('4633458b-17de-408a-b874-0445c86b69e6'))
    const blob = roles.find((r) => r.roleDefinitionId.endsWith('ba92f5b4-2d11-453d-a403-e96b0029c9fe'))
    expect(vault?.scope).toMatch(/Microsoft\.KeyVault\/vaults\/tqkv/)
    expect(blob?.scope).toMatch(/blobServices\/default\/containers\/tourniquet$/)
    expect(vault?.roleDefinitionId).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    )
    for (const r of roles) expect(r.principalId).toBe('uami-principal-id')
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
