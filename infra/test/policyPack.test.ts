import { beforeAll, describe, expect, it } from 'vitest'
import { policies } from '../policy-pack/policies.js'
import { graphRolesAllowList } from '../policy-pack/rules/graphRolesAllowList.js'
import { jobManagedIdentity } from '../policy-pack/rules/jobManagedIdentity.js'
import { jobNoPlainSecrets } from '../policy-pack/rules/jobNoPlainSecrets.js'
import { jobReplicaTimeout } from '../policy-pack/rules/jobReplicaTimeout.js'
import { keyVaultProtected } from '../policy-pack/rules/keyVaultProtected.js'
import { passwordEndDate } from '../policy-pack/rules/passwordEndDate.js'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy } from './deploy.js'
import { violations } from './policyHarness.js'

const VAULT = 'azure-native:keyvault:Vault'
const JOB = 'azure-native:app:Job'
const ROLE = 'azuread:index/appRoleAssignment:AppRoleAssignment'
const PASSWORD = 'azuread:index/applicationPassword:ApplicationPassword'

const goodVault = () => ({
  properties: { enablePurgeProtection: true, enableRbacAuthorization: true, enableSoftDelete: true },
})
const goodJob = () => ({
  identity: { type: 'UserAssigned', userAssignedIdentities: ['/subscriptions/x/id'] },
  configuration: {
    replicaTimeout: 1800,
    secrets: [
      { name: 'graph-client-secret', keyVaultUrl: 'https://kv/secrets/x', identity: '/id' },
      { name: 'policy', value: 'version: 1' },
    ],
  },
  template: {
    containers: [
      {
        name: 'runner',
        env: [
          { name: 'AZURE_CLIENT_ID', value: '6f1c0000-0000-4000-a000-000000000001' },
          { name: 'AZURE_CLIENT_SECRET', secretRef: 'graph-client-secret' },
          { name: 'TOURNIQUET_MODE', value: 'apply' },
        ],
      },
    ],
  },
})
const inSixMonths = () => new Date(Date.now() + 180 * 86_400_000).toISOString()

describe('policy pack: each rule passes a compliant fixture and catches one broken property at a time', () => {
  it('key vault: purge protection and RBAC', async () => {
    expect(await violations(keyVaultProtected, VAULT, goodVault())).toEqual([])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enablePurgeProtection: false },
      }),
    ).toEqual([expect.stringMatching(/enablePurgeProtection/)])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enableRbacAuthorization: false },
      }),
    ).toEqual([expect.stringMatching(/enableRbacAuthorization/)])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enableSoftDelete: false },
      }),
    ).toEqual([expect.stringMatching(/enableSoftDelete/)])
    expect(await violations(keyVaultProtected, JOB, goodJob())).toBe('not applicable')
  })

  it('jobs: no secret-looking plain env values, secrets from Key Vault', async () => {
    expect(await violations(jobNoPlainSecrets, JOB, goodJob())).toEqual([])
    const plainSecret = goodJob()
    plainSecret.template.containers[0]?.env.push({ name: 'AZURE_CLIENT_SECRET', value: 'abc' } as never)
    expect(await violations(jobNoPlainSecrets, JOB, plainSecret)).toEqual([
      expect.stringMatching(/AZURE_CLIENT_SECRET has a plain value/),
    ])
    const looksLikeOne = goodJob()
    looksLikeOne.template.containers[0]?.env.push({
      name: 'SETTING',
      value: 'Zx8Q~mK3vP9rT2wY5bN7cD1fG4hJ6kL0sA',
    } as never)
    expect(await violations(jobNoPlainSecrets, JOB, looksLikeOne)).toEqual([
      expect.stringMatching(/looks like a credential/),
    ])
    const storedSecret = goodJob()
    storedSecret.configuration.secrets[0] = { name: 'graph-client-secret', value: 'abc' } as never
    expect(await violations(jobNoPlainSecrets, JOB, storedSecret)).toEqual([
      expect.stringMatching(/reference it from Key Vault/),
    ])
  })

  it('jobs: a managed identity', async () => {
    expect(await violations(jobManagedIdentity, JOB, goodJob())).toEqual([])
    expect(await violations(jobManagedIdentity, JOB, { ...goodJob(), identity: { type: 'None' } })).toEqual([
      expect.stringMatching(/identity type is 'None'/),
    ])
    expect(
      await violations(jobManagedIdentity, JOB, {
        ...goodJob(),
        identity: { type: 'UserAssigned', userAssignedIdentities: [] },
      }),
    ).toEqual([expect.stringMatching(/names no identity/)])
  })

  it('jobs: a replica timeout', async () => {
    expect(await violations(jobReplicaTimeout, JOB, goodJob())).toEqual([])
    expect(
      await violations(jobReplicaTimeout, JOB, {
        ...goodJob(),
        configuration: { ...goodJob().configuration, replicaTimeout: undefined },
      }),
    ).toEqual([expect.stringMatching(/must be set/)])
    expect(
      await violations(jobReplicaTimeout, JOB, {
        ...goodJob(),
        configuration: { ...goodJob().configuration, replicaTimeout: 200_000 },
      }),
    ).toEqual([expect.stringMatching(/at most 86400/)])
  })

  it('Graph app roles: within the allow-list', async () => {
    expect(await violations(graphRolesAllowList, ROLE, {}, 'graph-role-User.RevokeSessions.All')).toEqual([])
    expect(await violations(graphRolesAllowList, ROLE, {}, 'graph-role-Directory.ReadWrite.All')).toEqual([
      expect.stringMatching(/'Directory\.ReadWrite\.All' is not a permission Tourniquet needs/),
    ])
    expect(await violations(graphRolesAllowList, ROLE, {}, 'some-role')).toEqual([
      expect.stringMatching(/does not name its permission/),
    ])
    expect(await violations(graphRolesAllowList, VAULT, {}, 'graph-role-Directory.ReadWrite.All')).toEqual([])
  })

  it('application passwords: an end date within a year', async () => {
    expect(await violations(passwordEndDate, PASSWORD, { endDate: inSixMonths() })).toEqual([])
    expect(await violations(passwordEndDate, PASSWORD, {})).toEqual([
      expect.stringMatching(/endDate must be set/),
    ])
    expect(
      await violations(passwordEndDate, PASSWORD, {
        endDate: new Date(Date.now() + 800 * 86_400_000).toISOString(),
      }),
    ).toEqual([expect.stringMatching(/more than a year away/)])
    expect(await violations(passwordEndDate, PASSWORD, { endDateRelative: '8760h' })).toEqual([
      expect.stringMatching(/use endDate/),
    ])
  })
})

describe('policy pack: the real stack is compliant', () => {
  let d: Deployed
  beforeAll(async () => {
    const rotation = new Date().toISOString().slice(0, 10)
    d = await deploy(
      parseSettings({ ...base, authMode: 'secret', secretRotation: rotation, secretLifetimeDays: '180' }),
    )
  })

  it('every resource the program creates passes every rule', async () => {
    const found: string[] = []
    for (const r of d.mocks.resources) {
      for (const policy of policies) {
        const v = await violations(policy, r.type, r.inputs, r.name)
        if (v !== 'not applicable') found.push(...v.map((m) => `${policy.name} on ${r.name}: ${m}`))
      }
    }
    expect(found).toEqual([])
    expect(d.mocks.resources.length).toBeGreaterThan(15)
  })
})
