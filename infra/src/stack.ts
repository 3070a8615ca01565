/**
 * The whole environment for one tenant. Builders take typed settings and the policy text, so tests
 * run them under Pulumi mocks with literal inputs; index.ts feeds them from the stack config.
 */

import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js'
import * as resources from '@pulumi/azure-native/resources/index.js'
import * as azuread from '@pulumi/azuread'
import * as pulumi from '@pulumi/pulumi'
import { parsePolicy, permissionReport, permissionsIn } from '@tourniquet/policy'
import { assertCloudFits, CLOUDS } from './clouds.js'
import { AuditWorkbook } from './components/auditWorkbook.js'
import {
  BLOB_LOG_CATEGORIES,
  DECISIONS_CONTAINER,
  LedgerStore,
  REQUESTS_BLOB,
} from './components/ledgerStore.js'
import { RemediationApp } from './components/remediationApp.js'
import type { RegistryAccess } from './components/runnerContainer.js'
import { ROLE, RunnerHost } from './components/runnerHost.js'
import { SecretVault } from './components/secretVault.js'
import { globalName, scopedName, stackSlug } from './names.js'
import type { Settings } from './settings.js'
import { checkTenants } from './tenants.js'

export interface StackInputs {
  settings: Settings
  policyText: string
  /** Where the policy came from, for error messages. */
  policyFile: string
  /** When this deployment runs: a newly issued client secret ends secretLifetimeDays later. */
  now: Date
  /** tourniquet:registryPassword (a Pulumi secret), required with registryUsername. */
  registryPassword?: pulumi.Input<string> | undefined
  /** tourniquet:notifyUrls and tourniquet:notifySecret (Pulumi secrets): kept in Key Vault only. */
  notifyUrls?: pulumi.Input<string> | undefined
  notifySecret?: pulumi.Input<string> | undefined
}

export interface StackOutputs {
  applicationClientId: pulumi.Output<string>
  servicePrincipalObjectId: pulumi.Output<string>
  vaultUri: pulumi.Output<string>
  /** What starts runs (tourniquet:trigger): the scheduled job or the watch app. */
  trigger: Settings['trigger']
  /** The scheduled job's name; undefined with trigger watch. */
  jobName: pulumi.Output<string> | undefined
  /** The watch Container App's name; undefined with trigger schedule. */
  watchAppName: pulumi.Output<string> | undefined
  ledgerUrl: pulumi.Output<string>
  /** Where approvers append decisions and the job reads them (TOURNIQUET_DECISIONS). */
  decisionsUrl: pulumi.Output<string>
  grantedPermissions: string[]
  directoryRolesToAssign: string[]
}

export function createStack({
  settings,
  policyText,
  policyFile,
  now,
  registryPassword,
  notifyUrls,
  notifySecret,
}: StackInputs): StackOutputs {
  // The same parser and the same permission derivation as the runner and CI: a policy that does not
  // validate fails the preview with file, line and path.
  const policy = parsePolicy(policyText, policyFile)
  assertCloudFits(policy, settings.cloud)
  // Permissions of an API the cloud lacks are not granted: the job skips those routes with the reason.
  const full = permissionReport(policy)
  const report = { ...full, permissions: permissionsIn(full.permissions, settings.cloud) }
  const stack = pulumi.getStack()
  const prefix = settings.namePrefix
  const cloud = CLOUDS[settings.cloud]
  // Logical names (Pulumi URNs) use the sanitized stack too, so auto-named Azure names stay valid.
  const base = `${prefix}-${stackSlug(stack)}`

  const entra = azuread.getClientConfigOutput()
  const arm = authorization.getClientConfigOutput()
  const tenants = pulumi
    .all([entra.tenantId, arm.tenantId])
    .apply(([app, subscription]) => checkTenants(settings.authMode, { app, subscription }))

  // Auto-named: Pulumi adds a random suffix kept in state, which makes the global names below unique.
  const group = new resources.ResourceGroup(base, { location: settings.location })
  const identity = new managedidentity.UserAssignedIdentity(`${base}-job`, {
    resourceGroupName: group.name,
    resourceName: scopedName('identity', prefix, stack, 'job'),
    location: settings.location,
  })

  const remediation = new RemediationApp(`${base}-app`, {
    displayName: `tourniquet-${stack}`,
    permissions: report.permissions,
    authMode: settings.authMode,
    ...(settings.authMode === 'secret'
      ? { secret: { rotation: settings.secretRotation, lifetimeDays: settings.secretLifetimeDays, now } }
      : {
          federated: {
            // The managed identity's tenant issues its tokens (checkTenants: the same as the app's).
            issuer: pulumi.interpolate`${cloud.login}/${tenants.subscription}/v2.0`,
            subject: identity.principalId,
            audience: cloud.federatedAudience,
          },
        }),
  })

  const deployment = pulumi.all([arm.subscriptionId, group.name])
  const vault = new SecretVault(`${base}-vault`, {
    resourceGroupName: group.name,
    location: settings.location,
    tenantId: tenants.subscription,
    vaultName: deployment.apply(([sub, rg]) => globalName('vault', prefix, sub, rg)),
    ...(remediation.password
      ? { clientSecret: { value: remediation.password.value, endDate: remediation.password.endDate } }
      : {}),
    ...(settings.registryUsername !== undefined && registryPassword !== undefined
      ? { registryPassword }
      : {}),
    ...(notifyUrls !== undefined ? { notifyUrls } : {}),
    ...(notifySecret !== undefined ? { notifySecret } : {}),
  })

  const ledger = new LedgerStore(`${base}-ledger`, {
    resourceGroupName: group.name,
    location: settings.location,
    accountName: deployment.apply(([sub, rg]) => globalName('storage', prefix, sub, rg)),
    blobSuffix: cloud.blobSuffix,
    retentionDays: settings.ledgerRetentionDays,
    immutabilityDays: settings.ledgerImmutabilityDays,
  })

  const runner = new RunnerHost(`${base}-job`, {
    resourceGroupName: group.name,
    subscriptionId: arm.subscriptionId,
    settings,
    identity,
    tenantId: tenants.app,
    appClientId: remediation.clientId,
    vaultId: vault.vault.id,
    clientSecret:
      vault.clientSecret && vault.clientSecretUri
        ? { resource: vault.clientSecret, uri: vault.clientSecretUri }
        : undefined,
    registry: registryAccess(settings, vault),
    dependsOn: vault.registryPassword ? [vault.registryPassword] : [],
    ledgerContainerId: ledger.container.id,
    ledgerUrl: ledger.ledgerUrl,
    decisionsContainerId: ledger.decisions.id,
    decisionsUrl: ledger.decisionsUrl,
    stateContainerId: ledger.state.id,
    stateUrl: ledger.stateUrl,
    notify: { urls: vault.notifyUrls, secret: vault.notifySecret },
    policyText,
    names: {
      job: scopedName('job', prefix, stack, 'runner'),
      watch: scopedName('containerApp', prefix, stack, 'watch'),
      environment: scopedName('environment', prefix, stack, 'env'),
      workspace: scopedName('workspace', prefix, stack, 'logs'),
    },
  })

  // The ledger account's writes go to the runner's workspace: who wrote a decision sits next to
  // the audit of the run that read it.
  ledger.logWrites({ workspaceId: runner.workspace.id })

  if (settings.approverGroupId !== undefined)
    grantApprovers(base, settings.approverGroupId, arm.subscriptionId, ledger)

  new AuditWorkbook(`${base}-workbook`, {
    resourceGroupName: group.name,
    location: settings.location,
    subscriptionId: arm.subscriptionId,
    workspaceId: runner.workspace.id,
    // Both names, whichever runs now: the audit of a stack that switched trigger stays in one view.
    jobName: scopedName('job', prefix, stack, 'runner'),
    appName: scopedName('containerApp', prefix, stack, 'watch'),
    displayName: `Tourniquet (${stack})`,
    decisionLogs: {
      accountName: ledger.account.name,
      container: DECISIONS_CONTAINER,
      categories: BLOB_LOG_CATEGORIES,
    },
  })

  return {
    applicationClientId: remediation.clientId,
    servicePrincipalObjectId: remediation.servicePrincipal.objectId,
    vaultUri: vault.vaultUri,
    trigger: settings.trigger,
    jobName: runner.job?.name,
    watchAppName: runner.watch?.name,
    ledgerUrl: ledger.ledgerUrl,
    decisionsUrl: ledger.decisionsUrl,
    grantedPermissions: remediation.grantedPermissions,
    directoryRolesToAssign: report.directoryRoles,
  }
}

/** How the job pulls its image: with its identity from Azure Container Registry, or with a password. */
function registryAccess(settings: Settings, vault: SecretVault): RegistryAccess | undefined {
  const server = settings.image.split('/')[0] ?? ''
  if (settings.registryId !== undefined) return { kind: 'acr', server, registryId: settings.registryId }
  if (settings.registryUsername !== undefined && vault.registryPasswordUri !== undefined)
    return {
      kind: 'password',
      server,
      username: settings.registryUsername,
      passwordUri: vault.registryPasswordUri,
    }
  return undefined
}

/**
 * Approvers sign in as themselves (`tourniquet approve`): they may write decisions, and read the
 * requests they decide on, which the job writes beside the ledger. That read is one blob of the
 * ledger container, so the role carries a condition: reads elsewhere in the container (the ledger
 * itself) are not granted. Condition format: azure-docs articles/role-based-access-control/
 * conditions-format.md; the blob path attribute: articles/storage/blobs/storage-auth-abac-attributes.md.
 */
function grantApprovers(
  base: string,
  groupId: string,
  subscriptionId: pulumi.Input<string>,
  ledger: LedgerStore,
) {
  const role = (id: string) =>
    pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`
  new authorization.RoleAssignment(`${base}-approvers`, {
    principalId: groupId,
    principalType: 'Group',
    roleDefinitionId: role(ROLE.storageBlobDataContributor),
    scope: ledger.decisions.id,
  })
  new authorization.RoleAssignment(`${base}-approvers-requests`, {
    principalId: groupId,
    principalType: 'Group',
    roleDefinitionId: role(ROLE.storageBlobDataReader),
    scope: ledger.container.id,
    conditionVersion: '2.0',
    condition: approversReadOnly(REQUESTS_BLOB),
  })
}

/** Allows the read data action only on the blob named; other data actions of the role are unaffected. */
export function approversReadOnly(blob: string): string {
  return [
    '(',
    " (!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}))",
    ' OR',
    ` (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringEquals '${blob}')`,
    ')',
  ].join('\n')
}
