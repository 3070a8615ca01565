/**
 * The scheduled job: Log Analytics (where the audit and the vault's audit logs land), a Container
 * Apps environment with the Consumption workload profile, role assignments for the job's
 * user-assigned identity scoped to the vault, the ledger container and the registry only, and a
 * Container Apps Job on a cron schedule with parallelism 1, a replica timeout, a retry limit and a
 * Consumption size. Secrets are Key Vault references resolved by the identity (never a plain value);
 * the policy file is mounted at /config/policy.yaml. The image runs as built: no command override.
 */
import * as app from '@pulumi/azure-native/app/index.js'
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import type * as managedidentity from '@pulumi/azure-native/managedidentity/index.js'
import * as monitor from '@pulumi/azure-native/monitor/index.js'
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js'
import * as pulumi from '@pulumi/pulumi'
import { afterRolePropagation } from '../propagation.js'
import type { Settings } from '../settings.js'

// Built-in Azure role definitions: fixed ids, the same in every subscription
// (azure-docs articles/role-based-access-control/built-in-roles.md and its per-area pages).
export const ROLE = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  // built-in-roles/storage.md#storage-blob-data-reader: read and list blobs, no write or delete.
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
} as const

/** Where the image comes from when the registry is private. */
export type RegistryAccess =
  | { kind: 'acr'; server: string; registryId: string }
  | { kind: 'password'; server: string; username: string; passwordUri: pulumi.Input<string> }

/** The Consumption workload profile: the sizes up to 4 vCPU / 8 GiB (a Consumption-only environment stops at 2 / 4). */
export const WORKLOAD_PROFILE = 'Consumption'

/** A Key Vault secret the job references: the resource (the job waits for it) and its versionless URI. */
export interface VaultRef {
  resource: pulumi.Resource
  uri: pulumi.Input<string>
}

export interface ScheduledRunnerArgs {
  resourceGroupName: pulumi.Input<string>
  subscriptionId: pulumi.Input<string>
  settings: Settings
  identity: managedidentity.UserAssignedIdentity
  tenantId: pulumi.Input<string>
  appClientId: pulumi.Input<string>
  vaultId: pulumi.Input<string>
  /** Secret mode: the Key Vault secret (the job waits for it) and its versionless URI. */
  clientSecret: VaultRef | undefined
  registry: RegistryAccess | undefined
  /** Resources the job must wait for besides its role assignments (e.g. the registry password secret). */
  dependsOn: pulumi.Resource[]
  ledgerContainerId: pulumi.Input<string>
  ledgerUrl: pulumi.Input<string>
  /** The decisions container: the job only reads it (approvers write it). */
  decisionsContainerId: pulumi.Input<string>
  decisionsUrl: pulumi.Input<string>
  /** Notification settings in Key Vault; unset: the job sends no notifications. */
  notify: { urls?: VaultRef | undefined; secret?: VaultRef | undefined }
  policyText: string
  names: { job: string; environment: string; workspace: string }
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
        workspaceName: args.names.workspace,
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
        environmentName: args.names.environment,
        location: s.location,
        workloadProfiles: [{ name: WORKLOAD_PROFILE, workloadProfileType: WORKLOAD_PROFILE }],
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
    // Who read which secret, and when: Key Vault's audit log in the same workspace as the job's
    // (azure-docs articles/key-vault/general/logging.md, category AuditEvent).
    new monitor.DiagnosticSetting(
      `${name}-vault-audit`,
      {
        name: 'tourniquet-audit',
        resourceUri: args.vaultId,
        workspaceId: this.workspace.id,
        logs: [{ category: 'AuditEvent', enabled: true }],
      },
      parent,
    )

    const roleAssignments = this.grantRoles(name, args)
    const { secrets, env, registries, waitFor } = jobInputs(args)

    this.job = new app.Job(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: s.location,
        jobName: args.names.job,
        workloadProfileName: WORKLOAD_PROFILE,
        environmentId: afterRolePropagation(this.environment.id, roleAssignments, s.rbacPropagationSeconds),
        identity: { type: 'UserAssigned', userAssignedIdentities: [args.identity.id] },
        configuration: {
          triggerType: 'Schedule',
          // One replica per execution: a run is one process holding the ledger's lease. With the
          // one-minute default, executions overlap whenever a run outlasts a minute; Container Apps
          // starts them anyway, and each finds the lease taken, logs "skipped" and exits 0 within
          // seconds, so overlap costs a container start, not a second actor (decision 014).
          scheduleTriggerConfig: { cronExpression: s.schedule, parallelism: 1, replicaCompletionCount: 1 },
          // Not shortened to the schedule: a first full collection of a large tenant takes minutes
          // (10,000 users: ~7 at Graph's pace) and must be allowed to finish, while the lease keeps
          // the executions that start meanwhile from acting.
          replicaTimeout: s.replicaTimeoutSeconds,
          replicaRetryLimit: s.retryLimit,
          secrets,
          ...(registries.length > 0 ? { registries } : {}),
        },
        template: {
          containers: [
            {
              name: 'runner',
              image: s.image,
              // No command or args: they would replace the image's ENTRYPOINT and CMD, and with them
              // the garbage-collector flags the Dockerfile's CMD sets (decision 006).
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
      // Container Apps resolves the Key Vault references and the registry credentials when the job is
      // created or updated: the secrets and the identity's roles must exist by then.
      { ...parent, dependsOn: [...roleAssignments, ...waitFor] },
    )
    this.registerOutputs({ jobName: this.job.name })
  }

  /**
   * The identity's roles, each scoped to one resource: the vault, the ledger container, the decisions
   * container (read only: a job that could write decisions could approve its own steps), the registry.
   */
  private grantRoles(name: string, args: ScheduledRunnerArgs): authorization.RoleAssignment[] {
    const grant = (suffix: string, role: string, scope: pulumi.Input<string>) =>
      new authorization.RoleAssignment(
        `${name}-${suffix}`,
        {
          principalId: args.identity.principalId,
          principalType: 'ServicePrincipal',
          roleDefinitionId: pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          scope,
        },
        { parent: this },
      )
    const roles = [
      grant('vault-secrets-user', ROLE.keyVaultSecretsUser, args.vaultId),
      grant('ledger-contributor', ROLE.storageBlobDataContributor, args.ledgerContainerId),
      grant('decisions-reader', ROLE.storageBlobDataReader, args.decisionsContainerId),
    ]
    if (args.registry?.kind === 'acr') roles.push(grant('acr-pull', ROLE.acrPull, args.registry.registryId))
    return roles
  }
}

interface JobInputs {
  secrets: Array<{
    name: string
    keyVaultUrl?: pulumi.Input<string>
    identity?: pulumi.Input<string>
    value?: string
  }>
  env: Array<{ name: string; value?: pulumi.Input<string>; secretRef?: string }>
  registries: Array<Record<string, pulumi.Input<string>>>
  /** Resources the job must be created after: the Key Vault secrets it references. */
  waitFor: pulumi.Resource[]
}

/** The job's secrets (Key Vault references and the policy file), environment and registry credentials. */
function jobInputs(args: ScheduledRunnerArgs): JobInputs {
  const s = args.settings
  const inputs: JobInputs = {
    // Not secret, but Container Apps mounts files only from secrets: this is the policy file.
    secrets: [{ name: 'policy', value: args.policyText }],
    env: [
      { name: 'AZURE_TENANT_ID', value: args.tenantId },
      { name: 'AZURE_CLIENT_ID', value: args.appClientId },
      { name: 'TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID', value: args.identity.clientId },
      { name: 'TOURNIQUET_CLOUD', value: s.cloud },
      { name: 'TOURNIQUET_POLICY', value: '/config/policy.yaml' },
      { name: 'TOURNIQUET_MODE', value: s.mode },
      { name: 'TOURNIQUET_LEDGER', value: args.ledgerUrl },
      // Not the default beside the ledger: that container is the job's to write, this one the approvers'.
      { name: 'TOURNIQUET_DECISIONS', value: args.decisionsUrl },
      // Leave a margin inside the replica timeout so the job records its own stop.
      { name: 'TOURNIQUET_MAX_RUNTIME', value: `PT${Math.max(60, s.replicaTimeoutSeconds - 120)}S` },
    ],
    registries: [],
    waitFor: [...args.dependsOn],
  }
  if (s.authMode === 'secret') {
    if (args.clientSecret === undefined)
      throw new Error('secret mode needs the Key Vault secret of the client secret')
    // The URI comes from the secret resource itself, so the job is created after the secret exists.
    inputs.secrets.push({
      name: 'graph-client-secret',
      keyVaultUrl: args.clientSecret.uri,
      identity: args.identity.id,
    })
    inputs.waitFor.push(args.clientSecret.resource)
    inputs.env.push({ name: 'AZURE_CLIENT_SECRET', secretRef: 'graph-client-secret' })
  } else {
    inputs.env.push({ name: 'TOURNIQUET_AUTH', value: 'federated' })
  }
  addNotify(inputs, args)
  // Container Apps pulls with the registries entry whose server matches the image's host.
  if (args.registry?.kind === 'acr') {
    inputs.registries.push({ server: args.registry.server, identity: args.identity.id })
  } else if (args.registry?.kind === 'password') {
    inputs.secrets.push({
      name: 'registry-password',
      keyVaultUrl: args.registry.passwordUri,
      identity: args.identity.id,
    })
    inputs.registries.push({
      server: args.registry.server,
      username: args.registry.username,
      passwordSecretRef: 'registry-password',
    })
  }
  return inputs
}

/** Notification URLs and key: Key Vault references only, and the job waits for them like the client secret. */
function addNotify(inputs: JobInputs, args: ScheduledRunnerArgs): void {
  const refs = [
    ['notify-urls', 'TOURNIQUET_NOTIFY_URLS', args.notify.urls],
    ['notify-secret', 'TOURNIQUET_NOTIFY_SECRET', args.notify.secret],
  ] as const
  for (const [name, env, ref] of refs) {
    if (ref === undefined) continue
    inputs.secrets.push({ name, keyVaultUrl: ref.uri, identity: args.identity.id })
    inputs.waitFor.push(ref.resource)
    inputs.env.push({ name: env, secretRef: name })
  }
}
