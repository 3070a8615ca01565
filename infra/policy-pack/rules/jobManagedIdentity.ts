import * as app from '@pulumi/azure-native/app/index.js'
import type { ResourceValidationPolicy } from '@pulumi/policy'

/**
 * The job (or the watch app) reads Key Vault and the ledger as its own identity; without one it
 * would need a stored key.
 */
export const jobManagedIdentity: ResourceValidationPolicy = {
  name: 'container-apps-job-managed-identity',
  description: 'Container Apps jobs and apps must run with a managed identity.',
  enforcementLevel: 'mandatory',
  // One function for both types (not an array of validateResourceOfType: each member would declare
  // the other type not applicable).
  validateResource: (args, report) => {
    if (!args.isType(app.Job) && !args.isType(app.ContainerApp))
      return args.notApplicable('not a Container Apps job or app')
    const props = args.props as { identity?: { type?: string; userAssignedIdentities?: unknown } }
    check(props.identity, report)
  },
}

function check(
  identity: { type?: string; userAssignedIdentities?: unknown } | undefined,
  report: (message: string) => void,
): void {
  const type = String(identity?.type ?? 'None')
  if (!/assigned/i.test(type))
    report(`identity type is '${type}'; use a user-assigned (or system-assigned) managed identity`)
  const named = Array.isArray(identity?.userAssignedIdentities)
    ? identity.userAssignedIdentities.length
    : Object.keys(identity?.userAssignedIdentities ?? {}).length
  if (/UserAssigned/.test(type) && named === 0) report('identity is UserAssigned but names no identity')
}
