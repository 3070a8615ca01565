import * as app from '@pulumi/azure-native/app/index.js'
import { type ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy'

/** The job reads Key Vault and the ledger as its own identity; without one it would need a stored key. */
export const jobManagedIdentity: ResourceValidationPolicy = {
  name: 'container-apps-job-managed-identity',
  description: 'Container Apps jobs must run with a managed identity.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(app.Job, (job, _args, report) => {
    const type = String(job.identity?.type ?? 'None')
    if (!/assigned/i.test(type))
      report(`identity type is '${type}'; use a user-assigned (or system-assigned) managed identity`)
    if (/UserAssigned/.test(type) && (job.identity?.userAssignedIdentities ?? []).length === 0)
      report('identity is UserAssigned but names no identity')
  }),
}
