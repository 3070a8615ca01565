/** Pulumi entrypoint: read the stack config once, read the policy, build the stack, export outputs. */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { readConfig } from './config.js'
import { createStack } from './stack.js'

const { settings, registryPassword } = readConfig()
const policyFile = resolve(process.cwd(), settings.policyPath)
let policyText: string
try {
  policyText = readFileSync(policyFile, 'utf8')
} catch {
  throw new Error(
    `tourniquet:policyPath: ${policyFile} cannot be read; expected the policy file the job will run (e.g. ../examples/policy.yaml)`,
  )
}
const outputs = createStack({
  settings,
  policyText,
  policyFile: settings.policyPath,
  now: new Date(),
  registryPassword,
})

export const applicationClientId = outputs.applicationClientId
export const servicePrincipalObjectId = outputs.servicePrincipalObjectId
export const vaultUri = outputs.vaultUri
export const jobName = outputs.jobName
export const ledgerUrl = outputs.ledgerUrl
export const grantedPermissions = outputs.grantedPermissions
/** Directory roles to assign to the service principal by hand (a Privileged Role Administrator). */
export const directoryRolesToAssign = outputs.directoryRolesToAssign
