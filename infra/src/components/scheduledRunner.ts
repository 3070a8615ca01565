/**
 * The scheduled job: Log Analytics (where the audit lands), a Container Apps environment, role
 * assignments for the job's user-assigned identity scoped to the vault and the ledger container
 * only, and a Container Apps Job on a cron schedule with parallelism 1, a replica timeout, a retry
 * limit and sized resources. The client secret is a Key Vault reference resolved by the identity
 * (never a plain value); the policy file is mounted at /config/policy.yaml.
 */
import * as app from '@pulumi/azure-native/app/index.js'
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import type * as managedidentity from '@pulumi/azure-native/managedidentity/index.js'
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js'
import * as pulumi from '@pulumi/pulumi'
import type { Settings } from '../settings.js'

// Built-in Azure role definitions (fixed ids, the same in every subscription).
export const ROLE = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
} as const

export interface ScheduledRunnerArgs {
  resourceGroupName: pulumi.Input<string>
  subscriptionId: pulumi.Input<string>
  settings: Settings
  identity: managedidentity.UserAssignedIdentity
  tenantId: pulumi.Input<string>
  appClientId: pulumi.Input<string>
  vaultId: pulumi.Input<string>
  /** Secret mode: the versionless Key Vault URI of the client secret. */
  clientSecretUri: pulumi.Input<string> | undefined
  ledgerContainerId: pulumi.Input<string>
  ledgerUrl: pulumi.Input<string>
  policyText: string
  jobName: string
}

export class ScheduledRunner extends pulumi.ComponentResource {
  readonly workspace: operationalinsights.Workspace
  readonly environment: app.ManagedEnvironment
  readonly job: app.Job

  constructor(name: string, args: ScheduledRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:ScheduledRunner', name, {}, opts)
    const parent = { parent: this }
    const s = args.settings
    this.workspace = new operationalinsights.Workspace(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: s.location,
        sku: { name: 'PerGB2018' },
        retentionInDays: s.logRetentionDays,
      },
      parent,
    )
    const keys = operationalinsights.getSharedKeysOutput(
      { resourceGroupName: args.resourceGroupName, workspaceName: this.workspace.name },
      parent,
    )
    this.environment = new app.ManagedEnvironment(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: s.location,
        appLogsConfiguration: {
          destination: 'log-analytics',
          logAnalyticsConfiguration: {
            customerId: this.workspace.customerId,
            sharedKey: pulumi.secret(keys.apply((k) => k.primarySharedKey ?? '')),
          },
        },
      },
      parent,
    )

    const roleDefinition = (id: string) =>
      pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`
    const secretsReader = new authorization.RoleAssignment(
      `${name}-vault-secrets-user`,
      {
        principalId: args.identity.principalId,
        principalType: 'ServicePrincipal',
        roleDefinitionId: roleDefinition(ROLE.keyVaultSecretsUser),
        scope: args.vaultId,
      },
      parent,
    )
    const ledgerWriter = new authorization.RoleAssignment(
      `${name}-ledger-contributor`,
      {
        principalId: args.identity.principalId,
        principalType: 'ServicePrincipal',
        roleDefinitionId: roleDefinition(ROLE.storageBlobDataContributor),
        scope: args.ledgerContainerId,
      },
      parent,
    )

    const secrets: Array<{
      name: string
      keyVaultUrl?: pulumi.Input<string>
      identity?: pulumi.Input<string>
      value?: string
    }> = [
      // Not secret, but Container Apps mounts files only from secrets: this is the policy file.
      { name: 'policy', value: args.policyText },
    ]
    const env: Array<{ name: string; value?: pulumi.Input<string>; secretRef?: string }> = [
      { name: 'AZURE_TENANT_ID', value: args.tenantId },
      { name: 'AZURE_CLIENT_ID', value: args.appClientId },
      { name: 'TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID', value: args.identity.clientId },
      { name: 'TOURNIQUET_CLOUD', value: s.cloud },
      { name: 'TOURNIQUET_POLICY', value: '/config/policy.yaml' },
      { name: 'TOURNIQUET_MODE', value: s.mode },
      { name: 'TOURNIQUET_LEDGER', value: args.ledgerUrl },
      // Leave a margin inside the replica timeout so the job records its own stop.
      { name: 'TOURNIQUET_MAX_RUNTIME', value: `PT${Math.max(60, s.replicaTimeoutSeconds - 120)}S` },
    ]
    if (s.authMode === 'secret') {
      if (args.clientSecretUri === undefined)
        throw new Error('secret mode needs the Key Vault URI of the client secret')
      secrets.push({
        name: 'graph-client-secret',
        keyVaultUrl: args.clientSecretUri,
        identity: args.identity.id,
      })
      env.push({ name: 'AZURE_CLIENT_SECRET', secretRef: 'graph-client-secret' })
    } else {
      env.push({ name: 'TOURNIQUET_AUTH', value: 'federated' })
    }

    this.job = new app.Job(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: s.location,
        jobName: args.jobName,
        environmentId: this.environment.id,
        identity: { type: 'UserAssigned', userAssignedIdentities: [args.identity.id] },
        configuration: {
          triggerType: 'Schedule',
          scheduleTriggerConfig: { cronExpression: s.schedule, parallelism: 1, replicaCompletionCount: 1 },
          replicaTimeout: s.replicaTimeoutSeconds,
          replicaRetryLimit: s.retryLimit,
          secrets,
        },
        template: {
          containers: [
            {
              name: 'runner',
              image: s.image,
              command: ['node', 'dist/cli.js', 'run'],
              resources: { cpu: s.cpu, memory: s.memory },
              env,
              volumeMounts: [{ volumeName: 'policy', mountPath: '/config' }],
            },
          ],
          volumes: [
            {
              name: 'policy',
              storageType: 'Secret',
              secrets: [{ secretRef: 'policy', path: 'policy.yaml' }],
            },
          ],
        },
      },
      // The identity must be able to read the vault before the job resolves its secret reference.
      { ...parent, dependsOn: [secretsReader, ledgerWriter] },
    )
    this.registerOutputs({ jobName: this.job.name })
  }
}
