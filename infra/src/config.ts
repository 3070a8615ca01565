/** The only module that reads pulumi.Config: once, validated by settings.ts. */
import * as pulumi from '@pulumi/pulumi'
import { parseSettings, type Settings } from './settings.js'

const KEYS = [
  'location',
  'cloud',
  'image',
  'schedule',
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
] as const

export function readSettings(): Settings {
  const config = new pulumi.Config('tourniquet')
  const raw: Record<string, unknown> = {}
  for (const key of KEYS) {
    const value = config.get(key)
    if (value !== undefined) raw[key] = value
  }
  return parseSettings(raw)
}
