import { beforeAll, describe, expect, it } from 'vitest'
import { globalName, nameProblem } from '../src/names.js'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, one } from './deploy.js'

const STACK = 'Platform_Security.Prod-EU.2-Tourniquet42' // 40 characters, capitals, "_" and "."
const SUBSCRIPTION = '9c0ffee0-0000-4000-a000-000000000009'

// azure-docs articles/azure-resource-manager/management/resource-name-rules.md
describe(`a stack named ${STACK}`, () => {
  let d: Deployed
  beforeAll(async () => {
    expect(STACK).toHaveLength(40)
    d = await deploy(parseSettings(base), {
      stack: STACK,
      mocks: { subscriptionId: SUBSCRIPTION, groupSuffix: '5e1f0a9b' },
    })
  })

  it('every Azure name the program sets follows its resource type rule', () => {
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    expect(nameProblem('job', job.jobName)).toBeUndefined()
    const env = one(d.mocks, 'azure-native:app:ManagedEnvironment').inputs.environmentName as string
    expect(nameProblem('environment', env)).toBeUndefined()
    const workspace = one(d.mocks, 'azure-native:operationalinsights:Workspace').inputs
      .workspaceName as string
    expect(nameProblem('workspace', workspace)).toBeUndefined()
    const identity = one(d.mocks, 'azure-native:managedidentity:UserAssignedIdentity').inputs
      .resourceName as string
    expect(nameProblem('identity', identity)).toBeUndefined()
    expect(d.outputs.jobName).toBe(job.jobName)
  })

  it('the vault and storage names come from the subscription and the auto-named resource group', () => {
    const group = `tq-${'platform-security-prod-eu-2-tourniquet42'}5e1f0a9b`
    expect(one(d.mocks, 'azure-native:keyvault:Vault').inputs.vaultName).toBe(
      globalName('vault', 'tq', SUBSCRIPTION, group),
    )
    expect(one(d.mocks, 'azure-native:storage:StorageAccount').inputs.accountName).toBe(
      globalName('storage', 'tq', SUBSCRIPTION, group),
    )
  })

  it('logical names carry the sanitized stack, so auto-named resources stay valid', () => {
    expect(one(d.mocks, 'azure-native:resources:ResourceGroup').name).toBe(
      'tq-platform-security-prod-eu-2-tourniquet42',
    )
  })
})
