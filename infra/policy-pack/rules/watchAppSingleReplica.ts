import * as app from '@pulumi/azure-native/app/index.js'
import { type ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy'

/**
 * The watcher (tourniquet:trigger watch) is one replica that nobody can call: a second replica would
 * only race the first for the ledger's lease, and ingress would expose a process that holds the
 * tenant's remediation permissions. Container Apps defaults maxReplicas to 10 when it is unset.
 */
export const watchAppSingleReplica: ResourceValidationPolicy = {
  name: 'container-app-watch-single-replica',
  description: 'The watch Container App must run at most one replica and have no ingress.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(app.ContainerApp, (watcher, _args, report) => {
    const max = watcher.template?.scale?.maxReplicas
    if (max !== 1)
      report(
        `template.scale.maxReplicas is ${max === undefined ? 'unset (Container Apps then allows 10)' : max}; the watcher must run exactly one replica: set it to 1`,
      )
    if (watcher.configuration?.ingress !== undefined && watcher.configuration.ingress !== null)
      report('configuration.ingress is set; the watcher serves nothing: remove the ingress')
  }),
}
