/** The only module that reads pulumi.Config: once, validated by settings.ts. */
import * as pulumi from '@pulumi/pulumi'
import { parseSettings, type Settings } from './settings.js'

export const CONFIG_KEYS = [
  'location',
  'cloud',
  'image',
  'schedule',
  'trigger',
  'watchInterval',
  'watchShare',
  'mode',
  'authMode',
  'secretLifetimeDays',
  'secretRotation',
  'policyPath',
  'replicaTimeoutSeconds',
  'retryLimit',
  'cpu',
  'memory',
  'namePrefix',
  'logRetentionDays',
  'registryId',
  'registryUsername',
  'ledgerRetentionDays',
  'ledgerImmutabilityDays',
  'rbacPropagationSeconds',
  'approverGroupId',
] as const

export interface StackConfig {
  settings: Settings
  /** tourniquet:registryPassword, a Pulumi secret: it only ever flows into Key Vault. */
  registryPassword: pulumi.Output<string> | undefined
  /** tourniquet:notifyUrls and tourniquet:notifySecret, Pulumi secrets: they only ever flow into Key Vault. */
  notifyUrls: pulumi.Output<string> | undefined
  notifySecret: pulumi.Output<string> | undefined
}

export function readConfig(): StackConfig {
  const config = new pulumi.Config('tourniquet')
  const raw: Record<string, unknown> = {}
  for (const key of CONFIG_KEYS) {
    const value = config.get(key)
    if (value !== undefined) raw[key] = value
  }
  const registryPassword = config.getSecret('registryPassword')
  raw.registryPasswordSet = registryPassword !== undefined
  return {
    settings: parseSettings(raw),
    registryPassword,
    notifyUrls: config.getSecret('notifyUrls'),
    notifySecret: config.getSecret('notifySecret'),
  }
}
