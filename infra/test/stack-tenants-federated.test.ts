import * as pulumi from '@pulumi/pulumi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, NOW, ofType, POLICY } from './deploy.js'
import { RecordingMocks, settled } from './mocks.js'

// MicrosoftDocs/entra-docs docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md:
// the managed identity and the app must be in the same tenant for the app to trust it.
describe('federated mode with the azuread provider in another tenant than the subscription', () => {
  const errors: string[] = []
  const onRejection = (e: unknown) => errors.push(String(e))
  const mocks = new RecordingMocks({
    appTenantId: '72f988bf-0000-4000-a000-00000000000a',
    subscriptionTenantId: '72f988bf-0000-4000-a000-00000000000b',
  })

  beforeAll(async () => {
    // The failed check rejects every resource input that depends on it, as the Pulumi engine
    // would report them; under mocks they surface as unhandled rejections.
    process.on('unhandledRejection', onRejection)
    await pulumi.runtime.setMocks(mocks, 'tourniquet', 'dev', false)
    const { createStack } = await import('../src/stack.js')
    createStack({
      settings: parseSettings({ ...base, authMode: 'federated' }),
      policyText: POLICY,
      policyFile: 'policy.yaml',
      now: NOW,
    })
    await settled(mocks)
    await new Promise((r) => setTimeout(r, 500))
  })
  afterAll(() => {
    process.off('unhandledRejection', onRejection)
  })

  it('fails, saying which tenants differ and what to change', () => {
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.join('\n')).toMatch(
      /azuread:tenantId is 72f988bf-0000-4000-a000-00000000000a, but the subscription's tenant is 72f988bf-0000-4000-a000-00000000000b: a federated credential can only trust a managed identity of the app's own tenant/,
    )
  })

  it('creates no federated credential', () => {
    const fic = 'azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential'
    expect(mocks.resources.length).toBeGreaterThan(5)
    expect(ofType(mocks, fic)).toEqual([])
    expect(ofType(mocks, 'azure-native:keyvault:Vault')).toEqual([])
  })
})
