import * as app from '@pulumi/azure-native/app/index.js'
import { type ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy'

const SECRET_NAME = /(secret|password|passwd|token|key|credential|connectionstring)/i
// The runner's own settings that are credentials whatever they look like: webhook URLs carry their
// signature (whoever has one can post), and the HMAC key signs notifications. Other TOURNIQUET_
// names are plain settings, which is why the name pattern above skips that prefix.
const ALWAYS_SECRET = new Set(['TOURNIQUET_NOTIFY_URLS', 'TOURNIQUET_NOTIFY_SECRET'])
// Long high-entropy values look like credentials whatever their name.
const SECRET_VALUE = /^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9+/=_~.-]{32,}$/

/** Credentials reach a job through secret references (Key Vault), never as plain environment values. */
export const jobNoPlainSecrets: ResourceValidationPolicy = {
  name: 'container-apps-job-no-plain-secrets',
  description:
    'Container Apps jobs must not carry secret-looking environment values in plain text; secrets come from Key Vault.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(app.Job, (job, _args, report) => {
    for (const container of job.template?.containers ?? []) {
      for (const env of container.env ?? []) {
        if (env.value === undefined || env.value === null) continue
        const name = env.name ?? ''
        if (ALWAYS_SECRET.has(name) || (SECRET_NAME.test(name) && !/^TOURNIQUET_/.test(name))) {
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
  }),
}
