/** Pulumi mocks that record every resource and answer the data sources the program calls. */
import type * as pulumi from '@pulumi/pulumi'
import { GRAPH_APP_ROLE_IDS } from '../policy-pack/rules/graphRolesAllowList.js'

export interface Recorded {
  type: string
  name: string
  inputs: Record<string, unknown>
  /** What the mock answered: the inputs plus the outputs a provider would add. */
  state: Record<string, unknown>
  /** When the program registered it (ms since the epoch). */
  at: number
}

export interface MockOptions {
  subscriptionId?: string
  /** The azure-native provider's tenant (the subscription's). */
  subscriptionTenantId?: string
  /** The azuread provider's tenant. */
  appTenantId?: string
  /** The random suffix Pulumi's auto-naming would give the resource group. */
  groupSuffix?: string
  /** createdOn of every role assignment: 'now' (created by this deployment), or unset (it already existed). */
  roleAssignmentCreatedOn?: 'now'
}

export const TENANT_ID = '72f988bf-0000-4000-a000-000000000001'
export const SUBSCRIPTION_ID = '5ub5c000-0000-4000-a000-000000000001'
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
/**
 * The tenant's Graph service principal: every permission Tourniquet uses (the documented ids, and
 * placeholders where we could not confirm one), plus broader ones (their documented ids).
 */
export const GRAPH_ROLE_IDS: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(GRAPH_APP_ROLE_IDS).map(([p, id], i) => [
      p,
      id ?? `0000000${i}-5ec0-4000-a000-00000000000${i}`,
    ]),
  ),
  'Directory.ReadWrite.All': '19dbc75e-c2e2-444c-a770-ec69d8559fc7',
  'User.ReadWrite.All': '741f803b-c850-494e-b5df-cde7c675a1ca',
}
/** Pulumi's wire form of a secret: {[SECRET_SIG]: SECRET_SIG_VALUE, value} (@pulumi/pulumi runtime/rpc). */
export const SECRET_SIG = '4dabf18193072939515e22adb298388d'
export const SECRET_SIG_VALUE = '1b47061264138c4ac30d75fd1eb44270'
export const PASSWORD_VALUE = 'generated-client-secret-value-from-entra'

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: Recorded[] = []
  readonly calls: string[] = []
  readonly subscriptionId: string

  constructor(private readonly options: MockOptions = {}) {
    this.subscriptionId = options.subscriptionId ?? SUBSCRIPTION_ID
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = args.inputs as Record<string, unknown>
    const sub = this.subscriptionId
    const state: Record<string, unknown> = { ...inputs }
    this.resources.push({ type: args.type, name: args.name, inputs, state, at: Date.now() })
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
          id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`,
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
          id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}`,
          state,
        }
      case 'azure-native:keyvault:Secret': {
        // Auto-named: the logical name plus a suffix (the real provider's is random).
        const secretName = `${args.name}-a1b2c3`
        // A secret input object arrives in Pulumi's wire envelope ({<sig>: <secret sig>, value}).
        const given = inputs.properties as Record<string, unknown>
        const properties = (SECRET_SIG in given ? given.value : given) as object
        Object.assign(state, {
          name: secretName,
          properties: {
            ...properties,
            secretUri: `https://${inputs.vaultName}.vault.azure.net/secrets/${secretName}`,
          },
        })
        return { id: `${inputs.vaultName}/secrets/${secretName}`, state }
      }
      case 'azure-native:storage:StorageAccount':
        Object.assign(state, { name: inputs.accountName })
        return {
          id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}`,
          state,
        }
      case 'azure-native:storage:BlobContainer':
        Object.assign(state, { name: inputs.containerName })
        return {
          id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/${inputs.containerName}`,
          state,
        }
      case 'azure-native:authorization:RoleAssignment':
        if (this.options.roleAssignmentCreatedOn === 'now')
          Object.assign(state, { createdOn: new Date().toISOString() })
        break
      case 'azure-native:operationalinsights:Workspace':
        Object.assign(state, { name: args.name, customerId: 'workspace-customer-id' })
        break
      case 'azure-native:resources:ResourceGroup':
        Object.assign(state, { name: `${args.name}${this.options.groupSuffix ?? '3f9a1c2e'}` })
        break
      case 'azure-native:app:Job':
        Object.assign(state, { name: inputs.jobName })
        break
      case 'azure-native:app:ContainerApp':
        Object.assign(state, { name: inputs.containerAppName })
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
        return {
          tenantId: this.options.appTenantId ?? TENANT_ID,
          clientId: 'deployer',
          objectId: 'deployer-object',
        }
      case 'azure-native:authorization:getClientConfig':
        return {
          subscriptionId: this.subscriptionId,
          tenantId: this.options.subscriptionTenantId ?? TENANT_ID,
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
