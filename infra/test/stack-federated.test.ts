import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, CLOUD_ONLY, type Deployed, deploy, type Job, ofType, one } from './deploy.js'
import { TENANT_ID } from './mocks.js'

// Federated mode in a national cloud (US Gov L4).
describe('the stack in federated mode, in the usgov cloud', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(
      parseSettings({
        ...base,
        image: 'myregistry.azurecr.us/tourniquet-runner:1.0.0',
        authMode: 'federated',
        cloud: 'usgov',
      }),
      { policyText: CLOUD_ONLY, stack: 'gov' },
    )
  })

  it('has no password and no vault secret at all', () => {
    expect(ofType(d.mocks, 'azuread:index/applicationPassword:ApplicationPassword')).toEqual([])
    expect(ofType(d.mocks, 'azure-native:keyvault:Secret')).toEqual([])
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    expect(job.configuration.secrets.map((s) => s.name)).toEqual(['policy'])
    const env = job.template.containers[0]?.env ?? []
    expect(env.find((e) => e.name === 'AZURE_CLIENT_SECRET')).toBeUndefined()
    expect(env.find((e) => e.name === 'TOURNIQUET_AUTH')?.value).toBe('federated')
  })

  // MicrosoftDocs/entra-docs docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md:
  // the audience is per cloud (US Government: api://AzureADTokenExchangeUSGov), the issuer the
  // identity tenant's v2.0 endpoint on the cloud's login host.
  it("trusts the job's identity with the US Government audience and the cloud's login host as issuer", () => {
    expect(
      one(
        d.mocks,
        'azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential',
      ).inputs,
    ).toMatchObject({
      applicationId: '/applications/app-object-id',
      audiences: ['api://AzureADTokenExchangeUSGov'],
      issuer: `https://login.microsoftonline.us/${TENANT_ID}/v2.0`,
      subject: 'uami-principal-id',
    })
  })

  it('points the job and the ledger at the national cloud', () => {
    const job = one(d.mocks, 'azure-native:app:Job').inputs as unknown as Job
    const env = Object.fromEntries((job.template.containers[0]?.env ?? []).map((e) => [e.name, e.value]))
    expect(env.TOURNIQUET_CLOUD).toBe('usgov')
    expect(env.TOURNIQUET_MODE).toBe('plan')
    expect(d.outputs.ledgerUrl).toMatch(/\.blob\.core\.usgovcloudapi\.net\/tourniquet\/ledger\.jsonl$/)
  })
})
