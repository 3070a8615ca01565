import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { type Deployed, deploy, type Job, ofType, one } from './deploy.js'
import { SECRET_SIG, SECRET_SIG_VALUE } from './mocks.js'

const REGISTRY_PASSWORD = 'registry-password-value-from-pulumi-secret-config'

// azure-docs articles/container-apps/containers.md (private registries) and the Job schema in
// pulumi-azure-native (configuration.registries: server, username, passwordSecretRef): another
// registry than ACR needs a username and a password secret; ours comes from Key Vault.
describe('an image in another private registry, and an immutable ledger', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(
      parseSettings({
        location: 'westeurope',
        image: 'ghcr.io/contoso/tourniquet-runner:1.0.0',
        registryUsername: 'contoso-bot',
        registryPasswordSet: true,
        ledgerImmutabilityDays: '365',
      }),
      { registryPassword: REGISTRY_PASSWORD },
    )
  })

  it('keeps the registry password in Key Vault and pulls with a username and that secret', () => {
    const secret = one(d.mocks, 'azure-native:keyvault:Secret')
    // Marked secret: the mocks receive the properties in Pulumi's secret envelope.
    expect(secret.inputs.properties).toEqual({
      [SECRET_SIG]: SECRET_SIG_VALUE,
      value: expect.objectContaining({ value: REGISTRY_PASSWORD }),
    })
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    expect(job.configuration.registries).toEqual([
      { server: 'ghcr.io', username: 'contoso-bot', passwordSecretRef: 'registry-password' },
    ])
    expect(job.configuration.secrets.find((s) => s.name === 'registry-password')).toEqual({
      name: 'registry-password',
      keyVaultUrl: (secret.state.properties as { secretUri: string }).secretUri,
      identity: expect.stringMatching(/userAssignedIdentities/),
    })
  })

  it('the password is nowhere but in the vault secret', () => {
    expect(JSON.stringify(one(d.mocks, 'azure-native:app:Job').inputs)).not.toContain(REGISTRY_PASSWORD)
    expect(JSON.stringify(d.outputs)).not.toContain(REGISTRY_PASSWORD)
  })

  it('no AcrPull: the identity only gets its vault and storage roles', () => {
    expect(ofType(d.mocks, 'azure-native:authorization:RoleAssignment')).toHaveLength(4)
  })

  // azure-docs articles/storage/blobs/immutable-time-based-retention-policy-overview.md: with
  // allowProtectedAppendWrites, append blobs take new blocks while existing data stays immutable.
  it('an optional time-based immutability policy protects the ledger and the decisions while appends continue', () => {
    const policies = ofType(d.mocks, 'azure-native:storage:BlobContainerImmutabilityPolicy').map(
      (p) => p.inputs,
    )
    const expected = (containerName: string) =>
      expect.objectContaining({
        containerName,
        immutabilityPolicyName: 'default',
        immutabilityPeriodSinceCreationInDays: 365,
        allowProtectedAppendWrites: true,
      })
    expect(policies).toEqual([expected('tourniquet'), expected('decisions')])
  })

  // The evidence state is overwritten every run: under the retention policy every save would be a
  // 409 BlobImmutableDueToPolicy, and every run a full collection.
  it('keeps the evidence state in its own container, outside the retention policy, with its versions deleted after a day', () => {
    const containers = ofType(d.mocks, 'azure-native:storage:BlobContainer').map(
      (c) => c.inputs.containerName,
    )
    expect(containers).toContain('state')
    const env = (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).template.containers[0]?.env
    expect(env).toContainEqual({
      name: 'TOURNIQUET_EVIDENCE',
      value: expect.stringMatching(/\/state\/ledger\.jsonl\.evidence\.json$/),
    })
    // azure-docs articles/storage/blobs/lifecycle-management-overview.md: a version action deletes
    // previous versions by age; the filter names the container as the prefix.
    const policy = one(d.mocks, 'azure-native:storage:ManagementPolicy').inputs as unknown as {
      policy: { rules: Array<{ definition: { filters: unknown; actions: unknown } }> }
    }
    expect(policy.policy.rules).toEqual([
      expect.objectContaining({
        definition: {
          filters: { blobTypes: ['blockBlob'], prefixMatch: ['state/'] },
          actions: { version: { delete: { daysAfterCreationGreaterThan: 1 } } },
        },
      }),
    ])
    const stateWriter = ofType(d.mocks, 'azure-native:authorization:RoleAssignment').find((r) =>
      /\/containers\/state$/.test(String(r.inputs.scope)),
    )
    expect(stateWriter?.inputs.roleDefinitionId).toMatch(/ba92f5b4-2d11-453d-a403-e96b0029c9fe$/)
  })
})
