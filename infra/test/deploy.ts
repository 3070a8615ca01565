/** Runs the stack builder under Pulumi mocks and records what it creates. One deploy per test file. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as pulumi from '@pulumi/pulumi'
import type { Settings } from '../src/settings.js'
import { type MockOptions, type Recorded, RecordingMocks, resolve, settled } from './mocks.js'

export const POLICY_FILE = join(import.meta.dirname, '..', '..', 'examples', 'policy.yaml')
export const POLICY = readFileSync(POLICY_FILE, 'utf8')
export const REGISTRY_ID =
  '/subscriptions/0b1c2d3e-0000-4000-a000-000000000001/resourceGroups/images/providers/Microsoft.ContainerRegistry/registries/myregistry'
export const base = {
  location: 'westeurope',
  image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
  registryId: REGISTRY_ID,
}
// A policy US Government can serve: Identity Protection and directory actions, no Defender for
// Identity routes (synced users excluded), since identityAccounts is global-only.
export const CLOUD_ONLY = `version: 1
lookback: PT12H
rules:
  - name: cloud-high
    when: { riskLevel: [high], synced: false, userType: [member] }
    then: [revokeSessions, disable]
`

/** A fixed "now" for deployments, so end dates are exact. */
export const NOW = new Date('2026-12-01T06:00:00.000Z')

export interface Deployed {
  mocks: RecordingMocks
  outputs: Awaited<ReturnType<typeof deploy>>['outputs']
}

export interface DeployOptions {
  policyText?: string
  stack?: string
  mocks?: MockOptions
  now?: Date
  registryPassword?: string
  notifyUrls?: string
  notifySecret?: string
}

export async function deploy(settings: Settings, options: DeployOptions = {}) {
  const mocks = new RecordingMocks(options.mocks)
  await pulumi.runtime.setMocks(mocks, 'tourniquet', options.stack ?? 'dev', false)
  const { createStack } = await import('../src/stack.js')
  const o = createStack({
    settings,
    policyText: options.policyText ?? POLICY,
    policyFile: 'policy.yaml',
    now: options.now ?? NOW,
    registryPassword:
      options.registryPassword === undefined ? undefined : pulumi.secret(options.registryPassword),
    notifyUrls: options.notifyUrls === undefined ? undefined : pulumi.secret(options.notifyUrls),
    notifySecret: options.notifySecret === undefined ? undefined : pulumi.secret(options.notifySecret),
  })
  const outputs = {
    applicationClientId: await resolve(o.applicationClientId),
    servicePrincipalObjectId: await resolve(o.servicePrincipalObjectId),
    vaultUri: await resolve(o.vaultUri),
    trigger: o.trigger,
    jobName: o.jobName === undefined ? undefined : await resolve(o.jobName),
    watchAppName: o.watchAppName === undefined ? undefined : await resolve(o.watchAppName),
    ledgerUrl: await resolve(o.ledgerUrl),
    decisionsUrl: await resolve(o.decisionsUrl),
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
  jobName: string
  workloadProfileName?: string
  configuration: {
    secrets: Array<Record<string, unknown>>
    registries?: Array<Record<string, unknown>>
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
      command?: unknown
      args?: unknown
    }>
    volumes: unknown[]
  }
  identity: { type: string; userAssignedIdentities: string[] }
}
export type WatchApp = {
  containerAppName: string
  workloadProfileName?: string
  environmentId: string
  configuration: {
    activeRevisionsMode: string
    ingress?: unknown
    secrets: Array<Record<string, unknown>>
    registries?: Array<Record<string, unknown>>
  }
  template: Job['template'] & {
    scale: { minReplicas: number; maxReplicas: number; rules?: unknown }
    terminationGracePeriodSeconds: number
  }
  identity: { type: string; userAssignedIdentities: string[] }
}
