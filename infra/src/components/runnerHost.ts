/**
 * Where the runner runs: Log Analytics (where the audit and the vault's audit logs land), a Container
 * Apps environment with the Consumption workload profile, role assignments for the runner's
 * user-assigned identity scoped to the vault, the ledger container and the registry only, and, by
 * tourniquet:trigger, either a Container Apps Job on a cron schedule (parallelism 1, a replica
 * timeout, a retry limit) or one always-on Container App running `tourniquet watch` (decision 014).
 * Both run the container of runnerContainer.ts. It was called ScheduledRunner before the watcher
 * existed; the old type token is an alias, so existing stacks keep every child (no URN moves, no
 * replaced workspace).
 */
import * as app from '@pulumi/azure-native/app/index.js'
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as monitor from '@pulumi/azure-native/monitor/index.js'
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js'
import * as pulumi from '@pulumi/pulumi'
import { afterRolePropagation } from '../propagation.js'
import { type RunnerContainerArgs, runnerContainer } from './runnerContainer.js'

// Built-in Azure role definitions: fixed ids, the same in every subscription
// (azure-docs articles/role-based-access-control/built-in-roles.md and its per-area pages).
export const ROLE = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  // built-in-roles/storage.md#storage-blob-data-reader: read and list blobs, no write or delete.
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
} as const

/** The Consumption workload profile: the sizes up to 4 vCPU / 8 GiB (a Consumption-only environment stops at 2 / 4). */
export const WORKLOAD_PROFILE = 'Consumption'

/**
 * Seconds the watcher has between SIGTERM (a new revision, a restart, a platform move) and SIGKILL:
 * `tourniquet watch` lets its current run finish (in-flight steps recorded, lease given back) and
 * exits. A run's steps are paced by Graph, so 30 s (the default) could cut one short and leave
 * interrupted steps for the next run to judge; 5 minutes covers a busy run's tail. The property is
 * template.terminationGracePeriodSeconds (the installed azure-native 3.28 types of app.ContainerApp,
 * API 2025-02-02-preview: a non-negative number of seconds, 30 when unset); its maximum, 600 s, is
 * from Microsoft's App Service OSS support blog (azureossd.github.io, "Graceful termination on
 * Container Apps", 2024-05-27), not from the API specification, which states none.
 */
export const WATCH_GRACE_SECONDS = 300

export interface RunnerHostArgs extends RunnerContainerArgs {
  resourceGroupName: pulumi.Input<string>
  subscriptionId: pulumi.Input<string>
  vaultId: pulumi.Input<string>
  ledgerContainerId: pulumi.Input<string>
  /** The decisions container: the runner only reads it (approvers write it). */
  decisionsContainerId: pulumi.Input<string>
  /** The evidence state's container: the runner overwrites its state there every run. */
  stateContainerId: pulumi.Input<string>
  /** Physical names; `watch` is used only with trigger watch. */
  names: { job: string; watch: string; environment: string; workspace: string }
}

/** The component's type token, and the one stacks deployed before the rename know it by. */
export const RUNNER_HOST_TYPE = 'tourniquet:index:RunnerHost'
export const RUNNER_HOST_ALIASES: pulumi.Alias[] = [{ type: 'tourniquet:index:ScheduledRunner' }]

export class RunnerHost extends pulumi.ComponentResource {
  readonly workspace: operationalinsights.Workspace
  readonly environment: app.ManagedEnvironment
  /** The scheduled job (trigger schedule), or undefined. */
  readonly job: app.Job | undefined
  /** The watcher (trigger watch), or undefined. */
  readonly watch: app.ContainerApp | undefined

  constructor(name: string, args: RunnerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      RUNNER_HOST_TYPE,
      name,
      {},
      { ...opts, aliases: [...(opts?.aliases ?? []), ...RUNNER_HOST_ALIASES] },
    )
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
    const runner = runnerContainer(args, s.trigger === 'watch' ? 'watch' : 'run')
    // Container Apps resolves the Key Vault references and the registry credentials when the job or
    // app is created or updated: the secrets and the identity's roles must exist by then.
    const environmentId = afterRolePropagation(this.environment.id, roleAssignments, s.rbacPropagationSeconds)
    const after = { ...parent, dependsOn: [...roleAssignments, ...runner.waitFor] }
    const identity = { type: 'UserAssigned', userAssignedIdentities: [args.identity.id] }
    const template = { containers: runner.containers, volumes: runner.volumes }

    this.job =
      s.trigger !== 'schedule'
        ? undefined
        : new app.Job(
            name,
            {
              resourceGroupName: args.resourceGroupName,
              location: s.location,
              jobName: args.names.job,
              workloadProfileName: WORKLOAD_PROFILE,
              environmentId,
              identity,
              configuration: {
                triggerType: 'Schedule',
                // One replica per execution: a run is one process holding the ledger's lease. With the
                // one-minute default, executions overlap whenever a run outlasts a minute; Container Apps
                // starts them anyway, and each finds the lease taken, logs "skipped" and exits 0 within
                // seconds, so overlap costs a container start, not a second actor (decision 014).
                scheduleTriggerConfig: {
                  cronExpression: s.schedule,
                  parallelism: 1,
                  replicaCompletionCount: 1,
                },
                // Not shortened to the schedule: a first full collection of a large tenant takes minutes
                // (10,000 users: ~7 at Graph's pace) and must be allowed to finish, while the lease keeps
                // the executions that start meanwhile from acting.
                replicaTimeout: s.replicaTimeoutSeconds,
                replicaRetryLimit: s.retryLimit,
                secrets: runner.secrets,
                ...(runner.registries.length > 0 ? { registries: runner.registries } : {}),
              },
              template,
            },
            after,
          )

    // Property names checked against azure-native 3.28's app.ContainerApp types (API 2025-02-02-preview):
    // configuration.activeRevisionsMode / secrets / registries / ingress, template.scale.minReplicas /
    // maxReplicas, template.terminationGracePeriodSeconds.
    this.watch =
      s.trigger !== 'watch'
        ? undefined
        : new app.ContainerApp(
            `${name}-watch`,
            {
              resourceGroupName: args.resourceGroupName,
              location: s.location,
              containerAppName: args.names.watch,
              workloadProfileName: WORKLOAD_PROFILE,
              environmentId,
              identity,
              configuration: {
                // One revision at a time: during a revision change two watchers would overlap only
                // briefly, and the lease still lets one act.
                activeRevisionsMode: 'Single',
                // No ingress: the watcher serves nothing; nothing can reach it.
                secrets: runner.secrets,
                ...(runner.registries.length > 0 ? { registries: runner.registries } : {}),
              },
              template: {
                ...template,
                // Exactly one watcher: two would race for the lease every interval for nothing, and
                // none would leave detections waiting until someone noticed. No scale rules.
                scale: { minReplicas: 1, maxReplicas: 1 },
                terminationGracePeriodSeconds: WATCH_GRACE_SECONDS,
              },
            },
            after,
          )
    this.registerOutputs({ jobName: this.job?.name, watchAppName: this.watch?.name })
  }

  /**
   * The identity's roles, each scoped to one resource: the vault, the ledger container, the decisions
   * container (read only: a job that could write decisions could approve its own steps), the
   * evidence state's container, the registry.
   * Granted to the identity, not to the job or app: the watcher runs as the same identity and needs
   * exactly these, so switching trigger neither adds nor removes an assignment.
   */
  private grantRoles(name: string, args: RunnerHostArgs): authorization.RoleAssignment[] {
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
      grant('state-contributor', ROLE.storageBlobDataContributor, args.stateContainerId),
    ]
    if (args.registry?.kind === 'acr') roles.push(grant('acr-pull', ROLE.acrPull, args.registry.registryId))
    return roles
  }
}
