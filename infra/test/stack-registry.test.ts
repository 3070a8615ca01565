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

  it('no AcrPull: the identity only gets its vault and ledger roles', () => {
    expect(ofType(d.mocks, 'azure-native:authorization:RoleAssignment')).toHaveLength(3)
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
})
