/** Pulumi mocks that record every resource and answer the data sources the program calls. */
import type * as pulumi from '@pulumi/pulumi'
import { ALLOWED_GRAPH_PERMISSIONS } from '../policy-pack/rules/graphRolesAllowList.js'

export interface Recorded {
  type: string
  name: string
  inputs: Record<string, unknown>
}

export const TENANT_ID = '72f988bf-0000-4000-a000-000000000001'
export const SUBSCRIPTION_ID = '5ub5c000-0000-4000-a000-000000000001'
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
/** The tenant's Graph service principal: every permission Tourniquet uses, plus broader ones. */
export const GRAPH_ROLE_IDS: Record<string, string> = Object.fromEntries(
  [...ALLOWED_GRAPH_PERMISSIONS, 'Directory.ReadWrite.All', 'User.ReadWrite.All'].map((p, i) => [
    p,
    `role-${String(i).padStart(2, '0')}-${p}`,
  ]),
)
export const PASSWORD_VALUE = 'generated-client-secret-value-from-entra'

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: Recorded[] = []
  readonly calls: string[] = []

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = args.inputs as Record<string, unknown>
    this.resources.push({ type: args.type, name: args.name, inputs })
    const state: Record<string, unknown> = { ...inputs }
    switch (args.type) {
      case 'azuread:index/servicePrincipal:ServicePrincipal':
        if (inputs.useExisting)
          Object.assign(state, { objectId: 'graph-sp-object-id', appRoleIds: GRAPH_ROLE_IDS })
        else Object.assign(state, { objectId: `${args.name}-sp-object-id` })
        break
      case 'azuread:index/application:Application':
        Object.assign(state, { clientId: 'app-client-id', objectId: 'app-object-id' })
        return { id: '/applications/app-object-id', state }
      case 'azuread:index/applicationPassword:ApplicationPassword':
        Object.assign(state, { value: PASSWORD_VALUE, keyId: 'key-id' })
        break
      case 'azure-native:managedidentity:UserAssignedIdentity':
        Object.assign(state, { principalId: 'uami-principal-id', clientId: 'uami-client-id' })
        return {
          id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${args.name}`,
          state,
        }
      case 'azure-native:keyvault:Vault':
        Object.assign(state, {
          name: inputs.vaultName,
          properties: {
            ...(inputs.properties as object),
            vaultUri: `https://${inputs.vaultName}.vault.azure.net/`,
          },
        })
        return {
          id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}`,
          state,
        }
      case 'azure-native:storage:StorageAccount':
        Object.assign(state, { name: inputs.accountName })
        break
      case 'azure-native:storage:BlobContainer':
        return {
          id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/${inputs.containerName}`,
          state,
        }
      case 'azure-native:operationalinsights:Workspace':
        Object.assign(state, { name: args.name, customerId: 'workspace-customer-id' })
        break
      case 'azure-native:resources:ResourceGroup':
        Object.assign(state, { name: `${args.name}-rg` })
        break
      case 'azure-native:app:Job':
        Object.assign(state, { name: inputs.jobName })
        break
      default:
        break
    }
    return { id: `${args.name}-id`, state }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    this.calls.push(args.token)
    switch (args.token) {
      case 'azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds':
        return { result: { MicrosoftGraph: GRAPH_APP_ID } }
      case 'azuread:index/getClientConfig:getClientConfig':
        return { tenantId: TENANT_ID, clientId: 'deployer', objectId: 'deployer-object' }
      case 'azure-native:authorization:getClientConfig':
        return {
          subscriptionId: SUBSCRIPTION_ID,
          tenantId: TENANT_ID,
          clientId: 'deployer',
          objectId: 'deployer-object',
        }
      case 'azure-native:operationalinsights:getSharedKeys':
        return { primarySharedKey: 'workspace-shared-key-value' }
      default:
        throw new Error(`unmocked call ${args.token}`)
    }
  }
}

/** Waits until the program stops registering resources (registration is asynchronous). */
export async function settled(mocks: RecordingMocks): Promise<void> {
  let last = -1
  for (let i = 0; i < 200 && mocks.resources.length !== last; i++) {
    last = mocks.resources.length
    await new Promise((r) => setTimeout(r, 20))
  }
}

export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => output.apply((v) => r(v)))
}
