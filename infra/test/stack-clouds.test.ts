import { parsePolicy, permissionsIn, requiredPermissions } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { CLOUDS, missingApis } from '../src/clouds.js'
import { parseSettings } from '../src/settings.js'
import { checkTenants } from '../src/tenants.js'
import { base, CLOUD_ONLY, deploy, POLICY } from './deploy.js'

// Graph contract, corrections 2 and 3: MicrosoftDocs/entra-docs
// docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md (audience per
// cloud); microsoft-graph-docs-contrib national-cloud includes (Identity Protection: global and US
// Government, not China; identityAccounts and invokeAction: global only).
describe('national clouds', () => {
  it('federated audience per cloud', () => {
    expect(CLOUDS.global.federatedAudience).toBe('api://AzureADTokenExchange')
    expect(CLOUDS.usgov.federatedAudience).toBe('api://AzureADTokenExchangeUSGov')
    expect(CLOUDS.usgovdod.federatedAudience).toBe('api://AzureADTokenExchangeUSGov')
    expect(CLOUDS.china.federatedAudience).toBe('api://AzureADTokenExchangeChina')
    expect(CLOUDS.china.login).toBe('https://login.chinacloudapi.cn')
  })

  it('Identity Protection is not offered in China; Defender for Identity only in the global cloud', () => {
    const synced = parsePolicy(
      'version: 1\nlookback: PT12H\nrules:\n  - name: synced\n    when: { synced: true }\n    then: [disable]\n',
    )
    expect(missingApis(synced, 'global')).toEqual([])
    expect(missingApis(synced, 'usgov')).toEqual([
      "Defender for Identity (security/identities/identityAccounts, invokeAction), needed for rule 'synced': disable of users synced from on-premises AD",
    ])
    expect(missingApis(parsePolicy(CLOUD_ONLY), 'china')[0]).toMatch(/^Entra ID Protection/)
    // The example policy reaches synced users through Defender for Identity and cloud users through
    // Entra: in US Government it runs (the job skips the synced users with the reason).
    expect(missingApis(parsePolicy(POLICY), 'usgov')).toEqual([])
  })

  it('the workload-identity APIs: global and US Government, not China', () => {
    const workload = parsePolicy(
      `${CLOUD_ONLY}servicePrincipals:\n  rules:\n    - name: r\n      when: {}\n      then: [disable]\n`,
    )
    expect(missingApis(workload, 'usgov')).toEqual([])
    expect(missingApis(workload, 'china')).toContain(
      'Entra ID Protection for workload identities (riskyServicePrincipals, servicePrincipalRiskDetections), needed for reading risky service principals and their detections (servicePrincipals rules)',
    )
    expect(
      permissionsIn(['IdentityRiskyServicePrincipal.Read.All', 'Application.Read.All'], 'china'),
    ).toEqual(['Application.Read.All'])
  })

  it('the preview fails, naming tourniquet:cloud, when the policy cannot run in the cloud', async () => {
    await expect(
      deploy(parseSettings({ ...base, image: 'myregistry.azurecr.cn/runner:1.0.0', cloud: 'china' }), {
        policyText: CLOUD_ONLY,
      }),
    ).rejects.toThrow(
      /tourniquet:cloud: Microsoft Graph in the china cloud does not offer Entra ID Protection/,
    )
  })

  it('in US Government the example policy deploys without the Defender for Identity permissions', async () => {
    const d = await deploy(
      parseSettings({ ...base, image: 'myregistry.azurecr.us/runner:1.0.0', cloud: 'usgovdod' }),
      {
        policyText: POLICY,
      },
    )
    expect(d.outputs.grantedPermissions).toEqual(
      permissionsIn(requiredPermissions(parsePolicy(POLICY)), 'usgovdod'),
    )
    expect(d.outputs.grantedPermissions.some((p) => p.startsWith('SecurityIdentities'))).toBe(false)
    expect(d.outputs.grantedPermissions).toContain('User.EnableDisableAccount.All')
  })
})

// entra-docs workload-identity-federation-config-app-trust-managed-identity.md: the managed identity
// and the app must be in the same tenant; a Key Vault's tenantId is its subscription's tenant.
describe('tenants', () => {
  const app = '72f988bf-0000-4000-a000-00000000000a'
  const subscription = '72f988bf-0000-4000-a000-00000000000b'

  it('federation across two tenants fails the preview, saying which key to change', () => {
    expect(() => checkTenants('federated', { app, subscription })).toThrow(
      /azuread:tenantId is 72f988bf-0000-4000-a000-00000000000a, but the subscription's tenant is 72f988bf-0000-4000-a000-00000000000b/,
    )
    expect(checkTenants('federated', { app, subscription: app.toUpperCase() })).toEqual({
      app,
      subscription: app.toUpperCase(),
    })
    expect(checkTenants('secret', { app, subscription })).toEqual({ app, subscription })
  })
})
