/** Pulumi entrypoint: read the stack config once, read the policy, build the stack, export outputs. */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import * as pulumi from '@pulumi/pulumi'
import { isPolicyError } from '@tourniquet/policy'
import { readConfig } from './config.js'
import { SettingsError } from './settings.js'
import { createStack, type StackOutputs } from './stack.js'

/**
 * Bad config and a bad policy are the deployer's to fix: Pulumi prints a RunError's message without
 * a stack trace, and the message already names the key (or file, line and path) and what was expected.
 */
function build(): StackOutputs {
  try {
    const { settings, registryPassword, notifyUrls, notifySecret } = readConfig()
    const policyFile = resolve(process.cwd(), settings.policyPath)
    let policyText: string
    try {
      policyText = readFileSync(policyFile, 'utf8')
    } catch {
      throw new pulumi.RunError(
        `tourniquet:policyPath: ${policyFile} cannot be read; expected the policy file the job will run (e.g. ../examples/policy.yaml)`,
      )
    }
    return createStack({
      settings,
      policyText,
      policyFile: settings.policyPath,
      now: new Date(),
      registryPassword,
      notifyUrls,
      notifySecret,
    })
  } catch (e) {
    if (e instanceof SettingsError || isPolicyError(e)) throw new pulumi.RunError(e.message)
    throw e
  }
}

const outputs = build()

export const applicationClientId = outputs.applicationClientId
export const servicePrincipalObjectId = outputs.servicePrincipalObjectId
export const vaultUri = outputs.vaultUri
/** `schedule` (the Container Apps job) or `watch` (the always-on watcher app). */
export const trigger = outputs.trigger
/** The scheduled job's name (trigger schedule only). */
export const jobName = outputs.jobName
/** The watch Container App's name (trigger watch only). */
export const watchAppName = outputs.watchAppName
export const ledgerUrl = outputs.ledgerUrl
export const decisionsUrl = outputs.decisionsUrl
export const grantedPermissions = outputs.grantedPermissions
/** Directory roles to assign to the service principal by hand (a Privileged Role Administrator). */
export const directoryRolesToAssign = outputs.directoryRolesToAssign
