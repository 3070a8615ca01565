/** Runs the stack builder under Pulumi mocks and records what it creates. One deploy per test file. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as pulumi from '@pulumi/pulumi'
import type { Settings } from '../src/settings.js'
import { type Recorded, RecordingMocks, resolve, settled } from './mocks.js'

export const POLICY_FILE = join(import.meta.dirname, '..', '..', 'examples', 'policy.yaml')
export const POLICY = readFileSync(POLICY_FILE, 'utf8')
export const base = { location: 'westeurope', image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0' }

export interface Deployed {
  mocks: RecordingMocks
  outputs: Awaited<ReturnType<typeof deploy>>['outputs']
}

export async function deploy(settings: Settings, policyText = POLICY, stack = 'dev') {
  const mocks = new RecordingMocks()
  await pulumi.runtime.setMocks(mocks, 'tourniquet', stack, false)
  const { createStack } = await import('../src/stack.js')
  const o = createStack(settings, policyText, 'policy.yaml')
  const outputs = {
    applicationClientId: await resolve(o.applicationClientId),
    servicePrincipalObjectId: await resolve(o.servicePrincipalObjectId),
    vaultUri: await resolve(o.vaultUri),
    jobName: await resolve(o.jobName),
    ledgerUrl: await resolve(o.ledgerUrl),
    grantedPermissions: o.grantedPermissions,
    directoryRolesToAssign: o.directoryRolesToAssign,
  }
  await settled(mocks)
  return { mocks, outputs }
}

export const ofType = (m: RecordingMocks, type: string): Recorded[] =>
  m.resources.filter((r) => r.type === type)
export const one = (m: RecordingMocks, type: string): Recorded => {
  const found = ofType(m, type)
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`)
  return found[0] as Recorded
}
export type Job = {
  configuration: {
    secrets: Array<Record<string, unknown>>
    triggerType: string
    scheduleTriggerConfig: Record<string, unknown>
    replicaTimeout: number
    replicaRetryLimit: number
  }
  template: {
    containers: Array<{
      env: Array<{ name: string; value?: string; secretRef?: string }>
      resources: Record<string, unknown>
      volumeMounts: unknown[]
      image: string
    }>
    volumes: unknown[]
  }
  identity: { type: string; userAssignedIdentities: string[] }
}
