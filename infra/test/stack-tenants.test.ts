import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, one } from './deploy.js'

const APP_TENANT = '72f988bf-0000-4000-a000-00000000000a'
const SUBSCRIPTION_TENANT = '72f988bf-0000-4000-a000-00000000000b'

// The app lives in the azuread provider's tenant; the vault in the subscription's (a Key Vault's
// tenantId must be the tenant of its subscription: azure-docs articles/key-vault/general/move-subscription.md).
describe('secret mode with the app in another tenant than the subscription', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(parseSettings({ ...base, authMode: 'secret' }), {
      mocks: { appTenantId: APP_TENANT, subscriptionTenantId: SUBSCRIPTION_TENANT },
    })
  })

  it("the vault's tenant is the subscription's, not the azuread provider's", () => {
    expect(one(d.mocks, 'azure-native:keyvault:Vault').inputs).toMatchObject({
      properties: { tenantId: SUBSCRIPTION_TENANT },
    })
  })

  it("the job signs in to the app's tenant", () => {
    const env =
      (one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job).template.containers[0]?.env ?? []
    expect(env.find((e) => e.name === 'AZURE_TENANT_ID')?.value).toBe(APP_TENANT)
  })
})
