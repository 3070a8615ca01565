import * as app from '@pulumi/azure-native/app/index.js'
import type { ResourceValidationPolicy } from '@pulumi/policy'

const SECRET_NAME = /(secret|password|passwd|token|key|credential|connectionstring)/i
// The runner's own settings that are credentials whatever they look like: webhook URLs carry their
// signature (whoever has one can post), and the HMAC key signs notifications. Other TOURNIQUET_
// names are plain settings, which is why the name pattern above skips that prefix.
const ALWAYS_SECRET = new Set(['TOURNIQUET_NOTIFY_URLS', 'TOURNIQUET_NOTIFY_SECRET'])
// A notification target's own key (TOURNIQUET_NOTIFY_SECRET_<n>, one per receiver) is one too.
const TARGET_KEY = /^TOURNIQUET_NOTIFY_SECRET_\d+$/
// Long high-entropy values look like credentials whatever their name.
const SECRET_VALUE = /^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9+/=_~.-]{32,}$/

/** What this rule reads of a job or a Container App (the watcher): the same shape in both. */
interface Runner {
  template?: {
    containers?: Array<{ name?: string; env?: Array<{ name?: string; value?: string | null }> }>
  }
  configuration?: { secrets?: Array<{ name?: string; keyVaultUrl?: string }> }
}

/**
 * Credentials reach a job, or the watch app that runs the same container, through secret references
 * (Key Vault), never as plain environment values.
 */
export const jobNoPlainSecrets: ResourceValidationPolicy = {
  name: 'container-apps-job-no-plain-secrets',
  description:
    'Container Apps jobs and apps must not carry secret-looking environment values in plain text; secrets come from Key Vault.',
  enforcementLevel: 'mandatory',
  // One function for both types (not an array of validateResourceOfType: each member would declare
  // the other type not applicable).
  validateResource: (args, report) => {
    if (!args.isType(app.Job) && !args.isType(app.ContainerApp))
      return args.notApplicable('not a Container Apps job or app')
    const props = args.props as { identity?: { type?: string; userAssignedIdentities?: unknown } } & Runner
    check(props as Runner, report)
  },
}

function check(job: Runner, report: (message: string) => void): void {
  for (const container of job.template?.containers ?? []) {
    for (const env of container.env ?? []) {
      if (env.value === undefined || env.value === null) continue
      const name = env.name ?? ''
      if (
        ALWAYS_SECRET.has(name) ||
        TARGET_KEY.test(name) ||
        (SECRET_NAME.test(name) && !/^TOURNIQUET_/.test(name))
      ) {
        report(
          `container '${container.name}' env ${env.name} has a plain value; use secretRef to a Key Vault secret`,
        )
      } else if (SECRET_VALUE.test(String(env.value)) && !/^[0-9a-f-]{36}$/i.test(String(env.value))) {
        report(
          `container '${container.name}' env ${env.name} has a value that looks like a credential; use secretRef`,
        )
      }
    }
  }
  for (const secret of job.configuration?.secrets ?? []) {
    if (SECRET_NAME.test(secret.name ?? '') && secret.keyVaultUrl === undefined) {
      report(
        `secret '${secret.name}' is stored in the job; reference it from Key Vault (keyVaultUrl + identity)`,
      )
    }
  }
}
