/**
 * The whole environment for one tenant. Builders take typed settings and the policy text, so tests
 * run them under Pulumi mocks with literal inputs; index.ts feeds them from the stack config.
 */

import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js'
import * as resources from '@pulumi/azure-native/resources/index.js'
import * as azuread from '@pulumi/azuread'
import * as pulumi from '@pulumi/pulumi'
import { parsePolicy, permissionReport } from '@tourniquet/policy'
import { LedgerStore } from './components/ledgerStore.js'
import { RemediationApp } from './components/remediationApp.js'
import { ScheduledRunner } from './components/scheduledRunner.js'
import { SecretVault } from './components/secretVault.js'
import { CLOUD_ENDPOINTS, type Settings, secretEndDate } from './settings.js'

export interface StackOutputs {
  applicationClientId: pulumi.Output<string>
  servicePrincipalObjectId: pulumi.Output<string>
  vaultUri: pulumi.Output<string>
  jobName: pulumi.Output<string>
  ledgerUrl: pulumi.Output<string>
  grantedPermissions: string[]
  directoryRolesToAssign: string[]
}

/** Storage and Key Vault names are global: derive short, stable ones from the stack. */
function globalName(prefix: string, kind: string, stack: string, max: number): string {
  let hash = 0
  for (const c of `${prefix}-${kind}-${stack}`) hash = (hash * 31 + c.charCodeAt(0)) >>> 0
  return `${prefix}${kind}${hash.toString(36)}`.replace(/[^a-z0-9]/g, '').slice(0, max)
}

export function createStack(settings: Settings, policyText: string, policyFile: string): StackOutputs {
  // The same parser and the same permission derivation as the runner and CI: a policy that does not
  // validate fails the preview with file, line and path.
  const policy = parsePolicy(policyText, policyFile)
  const report = permissionReport(policy)
  const stack = pulumi.getStack()
  const prefix = settings.namePrefix
  const endpoints = CLOUD_ENDPOINTS[settings.cloud]

  const client = azuread.getClientConfigOutput()
  const subscription = authorization.getClientConfigOutput()
  const group = new resources.ResourceGroup(`${prefix}-${stack}`, { location: settings.location })
  const identity = new managedidentity.UserAssignedIdentity(`${prefix}-${stack}-job`, {
    resourceGroupName: group.name,
    location: settings.location,
  })

  const remediation = new RemediationApp(`${prefix}-${stack}-app`, {
    displayName: `tourniquet-${stack}`,
    permissions: report.permissions,
    authMode: settings.authMode,
    ...(settings.authMode === 'secret'
      ? { secret: { endDate: secretEndDate(settings), rotation: settings.secretRotation } }
      : {
          federated: {
            issuer: pulumi.interpolate`${endpoints.login}/${client.tenantId}/v2.0`,
            subject: identity.principalId,
          },
        }),
  })

  const vault = new SecretVault(`${prefix}-${stack}-vault`, {
    resourceGroupName: group.name,
    location: settings.location,
    tenantId: client.tenantId,
    vaultName: globalName(prefix, 'kv', stack, 24),
    ...(remediation.password
      ? { secret: { value: remediation.password.value, expiresOn: secretEndDate(settings) } }
      : {}),
  })

  const ledger = new LedgerStore(`${prefix}-${stack}-ledger`, {
    resourceGroupName: group.name,
    location: settings.location,
    accountName: globalName(prefix, 'st', stack, 24),
    blobSuffix: endpoints.blobSuffix,
  })

  const runner = new ScheduledRunner(`${prefix}-${stack}-job`, {
    resourceGroupName: group.name,
    subscriptionId: subscription.subscriptionId,
    settings,
    identity,
    tenantId: client.tenantId,
    appClientId: remediation.clientId,
    vaultId: vault.vault.id,
    clientSecretUri: vault.secretUri,
    ledgerContainerId: ledger.container.id,
    ledgerUrl: ledger.ledgerUrl,
    policyText,
    jobName: `${prefix}-${stack}-runner`.slice(0, 32),
  })

  return {
    applicationClientId: remediation.clientId,
    servicePrincipalObjectId: remediation.servicePrincipal.objectId,
    vaultUri: vault.vaultUri,
    jobName: runner.job.name,
    ledgerUrl: ledger.ledgerUrl,
    grantedPermissions: remediation.grantedPermissions,
    directoryRolesToAssign: report.directoryRoles,
  }
}
