/**
 * The runner's container as both triggers deploy it: the scheduled job and the watch app run the
 * same image with the same identity, Key Vault references, registry credentials, environment and
 * policy file; they differ only in what starts the process and in its command (`run` or `watch`).
 * One definition, so a setting added for one cannot be forgotten for the other.
 */
import type * as managedidentity from '@pulumi/azure-native/managedidentity/index.js'
import type * as pulumi from '@pulumi/pulumi'
// Types only (erased at build): the runner's settings table names every variable this environment sets.
import type { SettingName } from '@tourniquet/runner'
import type { Settings } from '../settings.js'

/** Where the image comes from when the registry is private. */
export type RegistryAccess =
  | { kind: 'acr'; server: string; registryId: string }
  | { kind: 'password'; server: string; username: string; passwordUri: pulumi.Input<string> }

/** A Key Vault secret the runner references: the resource (the runner waits for it) and its versionless URI. */
export interface VaultRef {
  resource: pulumi.Resource
  uri: pulumi.Input<string>
}

export interface RunnerContainerArgs {
  settings: Settings
  identity: managedidentity.UserAssignedIdentity
  tenantId: pulumi.Input<string>
  appClientId: pulumi.Input<string>
  /** Secret mode: the Key Vault secret (the runner waits for it) and its versionless URI. */
  clientSecret: VaultRef | undefined
  registry: RegistryAccess | undefined
  /** Resources the runner must wait for besides its role assignments (e.g. the registry password secret). */
  dependsOn: pulumi.Resource[]
  ledgerUrl: pulumi.Input<string>
  decisionsUrl: pulumi.Input<string>
  stateUrl: pulumi.Input<string>
  /** Notification settings in Key Vault; unset: the runner sends no notifications. */
  notify: { urls?: VaultRef | undefined; secret?: VaultRef | undefined }
  policyText: string
}

/**
 * The image's CMD up to the command (apps/runner/Dockerfile: the garbage-collector flags of
 * decision 006, then the CLI). The job passes no args, so the image's CMD (`... run`) runs as built;
 * the watcher must name its command, and Container Apps' `args` replace the whole CMD, so it repeats
 * these flags. A test reads the Dockerfile and fails when the two differ.
 */
export const RUNNER_CMD_PREFIX = [
  'node',
  '--max-semi-space-size=4',
  '--heap-growing-percent=50',
  'bundle/cli.mjs',
] as const

/**
 * What the watcher runs: the image's CMD with `watch` for `run`, passed as `args` (not `command`),
 * so the base image's ENTRYPOINT still starts it exactly as it starts the job.
 */
export const WATCH_ARGS: readonly string[] = [...RUNNER_CMD_PREFIX, 'watch']

export type RunnerCommand = 'run' | 'watch'

type Secret = {
  name: string
  keyVaultUrl?: pulumi.Input<string>
  identity?: pulumi.Input<string>
  value?: string
}
/** A variable of the runner's environment: the compiler holds its name to the runner's settings table. */
type Env = { name: SettingName; value?: pulumi.Input<string>; secretRef?: string }

export interface RunnerContainer {
  secrets: Secret[]
  registries: Array<Record<string, pulumi.Input<string>>>
  /** Resources the job or app must be created after: the Key Vault secrets it references. */
  waitFor: pulumi.Resource[]
  /** The revision template's containers and volumes (the same shape for jobs and apps). */
  containers: Array<{
    name: string
    image: string
    args?: string[]
    resources: { cpu: number; memory: string }
    env: Env[]
    volumeMounts: Array<{ volumeName: string; mountPath: string }>
  }>
  volumes: Array<{ name: string; storageType: 'Secret'; secrets: Array<{ secretRef: string; path: string }> }>
}

/** The runner's secrets (Key Vault references and the policy file), environment, registries and container. */
export function runnerContainer(args: RunnerContainerArgs, command: RunnerCommand): RunnerContainer {
  const s = args.settings
  const c: RunnerContainer = {
    // Not secret, but Container Apps mounts files only from secrets: this is the policy file.
    secrets: [{ name: 'policy', value: args.policyText }],
    registries: [],
    waitFor: [...args.dependsOn],
    containers: [],
    volumes: [
      { name: 'policy', storageType: 'Secret', secrets: [{ secretRef: 'policy', path: 'policy.yaml' }] },
    ],
  }
  const env: Env[] = [
    { name: 'AZURE_TENANT_ID', value: args.tenantId },
    { name: 'AZURE_CLIENT_ID', value: args.appClientId },
    { name: 'TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID', value: args.identity.clientId },
    { name: 'TOURNIQUET_CLOUD', value: s.cloud },
    { name: 'TOURNIQUET_POLICY', value: '/config/policy.yaml' },
    { name: 'TOURNIQUET_MODE', value: s.mode },
    { name: 'TOURNIQUET_LEDGER', value: args.ledgerUrl },
    // Not the default beside the ledger: that container is the job's to write, this one the approvers'.
    { name: 'TOURNIQUET_DECISIONS', value: args.decisionsUrl },
    // Outside the ledger's container and its retention policy: the state is overwritten every run.
    { name: 'TOURNIQUET_EVIDENCE', value: args.stateUrl },
    // Leave a margin inside the replica timeout so the job records its own stop. The watcher applies
    // it to each of its runs alike: a run that hangs ends, and the next one starts.
    { name: 'TOURNIQUET_MAX_RUNTIME', value: `PT${Math.max(60, s.replicaTimeoutSeconds - 120)}S` },
  ]
  if (command === 'watch') {
    // Unset keys leave the runner's own defaults (PT15S, 0.2): one place holds them.
    if (s.watchInterval !== undefined) env.push({ name: 'TOURNIQUET_WATCH_INTERVAL', value: s.watchInterval })
    if (s.watchShare !== undefined) env.push({ name: 'TOURNIQUET_WATCH_SHARE', value: String(s.watchShare) })
  }
  if (s.authMode === 'secret') {
    if (args.clientSecret === undefined)
      throw new Error('secret mode needs the Key Vault secret of the client secret')
    // The URI comes from the secret resource itself, so the runner is created after the secret exists.
    c.secrets.push({
      name: 'graph-client-secret',
      keyVaultUrl: args.clientSecret.uri,
      identity: args.identity.id,
    })
    c.waitFor.push(args.clientSecret.resource)
    env.push({ name: 'AZURE_CLIENT_SECRET', secretRef: 'graph-client-secret' })
    // A job execution reads the secret when it starts; the watcher's replica only when its revision
    // starts, and a versionless reference does not change the template. Naming the rotation here
    // does: each rotation starts a new revision that reads the new version (the runner ignores it).
    if (command === 'watch') env.push({ name: 'TOURNIQUET_SECRET_ROTATION', value: String(s.secretRotation) })
  } else {
    env.push({ name: 'TOURNIQUET_AUTH', value: 'federated' })
  }
  addNotify(c, env, args)
  // Container Apps pulls with the registries entry whose server matches the image's host.
  if (args.registry?.kind === 'acr') {
    c.registries.push({ server: args.registry.server, identity: args.identity.id })
  } else if (args.registry?.kind === 'password') {
    c.secrets.push({
      name: 'registry-password',
      keyVaultUrl: args.registry.passwordUri,
      identity: args.identity.id,
    })
    c.registries.push({
      server: args.registry.server,
      username: args.registry.username,
      passwordSecretRef: 'registry-password',
    })
  }
  c.containers.push({
    name: 'runner',
    image: s.image,
    // The job: no command or args, they would replace the image's CMD and with it the
    // garbage-collector flags it sets (decision 006). The watcher: WATCH_ARGS repeats them.
    ...(command === 'watch' ? { args: [...WATCH_ARGS] } : {}),
    resources: { cpu: s.cpu, memory: s.memory },
    env,
    volumeMounts: [{ volumeName: 'policy', mountPath: '/config' }],
  })
  return c
}

/** Notification URLs and key: Key Vault references only, and the runner waits for them like the client secret. */
function addNotify(c: RunnerContainer, env: Env[], args: RunnerContainerArgs): void {
  const refs = [
    ['notify-urls', 'TOURNIQUET_NOTIFY_URLS', args.notify.urls],
    ['notify-secret', 'TOURNIQUET_NOTIFY_SECRET', args.notify.secret],
  ] as const
  for (const [name, variable, ref] of refs) {
    if (ref === undefined) continue
    c.secrets.push({ name, keyVaultUrl: ref.uri, identity: args.identity.id })
    c.waitFor.push(ref.resource)
    env.push({ name: variable, secretRef: name })
  }
}
