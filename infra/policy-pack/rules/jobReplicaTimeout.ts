import * as app from '@pulumi/azure-native/app/index.js'
import { type ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy'

/** A hung run must end: the next scheduled run cannot start while one holds the ledger lease. */
export const jobReplicaTimeout: ResourceValidationPolicy = {
  name: 'container-apps-job-replica-timeout',
  description: 'Container Apps jobs must set a replica timeout (at most one day).',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(app.Job, (job, _args, report) => {
    const timeout = job.configuration?.replicaTimeout
    if (typeof timeout !== 'number' || timeout <= 0)
      report('configuration.replicaTimeout must be set to a positive number of seconds')
    else if (timeout > 86_400) report(`configuration.replicaTimeout is ${timeout} s; keep it at most 86400`)
  }),
}
