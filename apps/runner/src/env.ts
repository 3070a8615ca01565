/**
 * The only module that reads process.env. Settings are validated once, at start-up, into a typed
 * object; command-line flags override them. A bad or missing setting is a SettingsError that
 * names the variable and what was expected (exit 2, before any request is sent).
 */

import {
  CLOUD_NAMES,
  type CloudName,
  isConfigError,
  isLoopbackHost,
  redactText,
  registerSecret,
  validateOrigin,
} from '@tourniquet/core'
import { parseDuration } from '@tourniquet/policy'
import { type SettingProblem, SettingsError } from './errors.js'
import type { NotifySettings } from './outputs/notify/send.js'
import { type NotifyTarget, parseTarget } from './outputs/notify/targets.js'

export type CredentialConfig =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; path: string }
  | { kind: 'managedIdentity'; clientId: string | undefined }
  | { kind: 'federated'; managedIdentityClientId: string | undefined }

export interface RunnerConfig {
  tenantId: string
  clientId: string
  credential: CredentialConfig
  cloud: CloudName
  authorityHost: string | undefined
  graphRoot: string | undefined
  policyPath: string
  mode: 'plan' | 'apply'
  /** A file path, or an https URL of a blob in Azure Storage. */
  ledger: string
  reportPath: string | undefined
  /** Longest a run may take; retries never wait past it (default PT20M). */
  maxRuntimeMs: number
  /** Write groups executed at once (default 4). */
  concurrency: number
  /**
   * The job's user-assigned managed identity (TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID): the blob
   * ledger authenticates as it. Unset: the ledger uses the same credential as Graph.
   */
  managedIdentityClientId: string | undefined
  /**
   * Identity Protection requests per second this job may use (TOURNIQUET_IDENTITY_PROTECTION_RPS,
   * default 0.95). The service allows 1 per second per tenant for all apps together: lower it when
   * other tools share the tenant's budget.
   */
  identityProtectionRps: number
  /**
   * Directory writes per second (TOURNIQUET_DIRECTORY_WRITE_RPS, default 20: Graph's 3,000 per
   * 150 s per app and tenant, after a burst of 3,000). Only a faster fake tenant needs another value.
   */
  directoryWriteRps: number
  /**
   * Defender for Identity requests per second (TOURNIQUET_DEFENDER_RPS, default 10 after a burst of
   * 20). Graph documents no limit for /security/identities; each `$batch` item counts as one.
   */
  defenderRps: number
  /**
   * Where approvers write their decisions (TOURNIQUET_DECISIONS: a file path or a blob URL; default
   * `<ledger>.decisions.jsonl`). In Azure, a container only the approvers' group may write.
   */
  decisions: string | undefined
  /** `tourniquet watch`: the time between runs (TOURNIQUET_WATCH_INTERVAL) and its share of Identity Protection's 1 request/s (TOURNIQUET_WATCH_SHARE). */
  watch: { intervalMs: number; share: number }
  /** Where and how a run's notification goes (TOURNIQUET_NOTIFY_URLS, _SECRET, _TIMEOUT). */
  notify: NotifySettings
  /**
   * How a run reads Identity Protection (decision 015): `incremental` (TOURNIQUET_COLLECTION,
   * default) reads what changed since the last run, re-reading the last `overlapMs`
   * (TOURNIQUET_OVERLAP, default PT10M), with a full collection at least every `reconcileEveryMs`
   * (TOURNIQUET_RECONCILE_EVERY, default PT24H); `full` reads the whole lookback every run.
   */
  collection: {
    mode: 'incremental' | 'full'
    overlapMs: number
    reconcileEveryMs: number
    /**
     * Where the evidence state lives (TOURNIQUET_EVIDENCE: a file path or a blob URL; default
     * `<ledger>.evidence.json`). In Azure a container without the ledger's retention policy: the
     * state is overwritten every run, the ledger never.
     */
    location?: string | undefined
  }
}

/** Flags that override the environment. */
export interface ConfigOverrides {
  policy?: string | undefined
  mode?: 'plan' | 'apply' | undefined
  ledger?: string | undefined
  report?: string | undefined
}

type Env = Record<string, string | undefined>

const GUIDISH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i

/** The environment as read so far: values trimmed (empty is unset), and every problem found. */
class EnvReader {
  readonly problems: SettingProblem[] = []
  constructor(private readonly env: Env) {}

  get(name: string): string | undefined {
    const v = this.env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }

  required(name: string, what: string): string {
    const v = this.get(name)
    if (v === undefined) this.problem(name, `is not set; expected ${what}`)
    return v ?? ''
  }

  problem(variable: string, message: string): void {
    this.problems.push({ variable, message })
  }
}

/**
 * Said instead of quoting the tenant, client id or auth mode: a client secret pasted into one of
 * them is the likely mistake, and an error line ends up in the job's logs.
 */
const NOT_SHOWN = '(value not shown: it sits next to the credentials)'

const APP_ID_MISSING = 'is not set; expected the application (client) id of the app registration'

/** Reads the remediation job's settings; `env` defaults to the process environment. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): RunnerConfig {
  const r = new EnvReader(env)
  // Read in this order: problems are reported in it.
  const tenantId = readTenant(r)
  const { credential, clientId } = readCredential(r)
  const cloud = readCloud(r)
  const authorityHost = readOrigin(r, 'AZURE_AUTHORITY_HOST')
  const graphRoot = readOrigin(r, 'TOURNIQUET_GRAPH_URL')
  const mode = readMode(r, overrides)
  const ledger = readLedger(r, overrides)
  const maxRuntimeMs = readRuntime(r)
  const budgets = readBudgets(r)
  const notify = readNotify(r)
  const watch = readWatch(r)
  const collection = readCollection(r)
  // Messages never quote credential-adjacent values (see NOT_SHOWN); the rest still pass through the
  // sanitizer, which knows the client secret and the shape of any Entra secret.
  registerSecret(r.get('AZURE_CLIENT_SECRET'))
  if (r.problems.length > 0)
    throw new SettingsError(r.problems.map((p) => ({ ...p, message: redactText(p.message) })))
  return {
    tenantId,
    clientId,
    credential,
    cloud,
    authorityHost,
    graphRoot,
    policyPath: overrides.policy ?? r.get('TOURNIQUET_POLICY') ?? 'policy.yaml',
    mode,
    ledger,
    reportPath: overrides.report ?? r.get('TOURNIQUET_REPORT'),
    maxRuntimeMs,
    ...budgets,
    notify,
    watch,
    collection,
    decisions: r.get('TOURNIQUET_DECISIONS'),
    managedIdentityClientId: r.get('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID'),
  }
}

/**
 * What `tourniquet approvals`, `approve` and `reject` need: where the trails are, and the policy
 * (for its approvals timeout). No app credential: an approver is not the remediation app, and
 * signs in as a person only when a trail is a blob (approvals/signIn.ts).
 */
export interface TrailConfig {
  ledger: string
  decisions: string | undefined
  policyPath: string
  /** AZURE_TENANT_ID when set: the tenant the approver's Azure CLI token is asked for. */
  tenantId: string | undefined
}

/** Reads the trail commands' settings; `env` defaults to the process environment. */
export function loadTrailConfig(overrides: ConfigOverrides = {}, env: Env = process.env): TrailConfig {
  const r = new EnvReader(env)
  const tenantId = r.get('AZURE_TENANT_ID')
  if (tenantId !== undefined && !TENANT.test(tenantId))
    r.problem('AZURE_TENANT_ID', `is not a tenant id (GUID) or domain ${NOT_SHOWN}`)
  const ledger = readLedger(r, overrides)
  if (r.problems.length > 0)
    throw new SettingsError(r.problems.map((p) => ({ ...p, message: redactText(p.message) })))
  return {
    ledger,
    decisions: r.get('TOURNIQUET_DECISIONS'),
    policyPath: overrides.policy ?? r.get('TOURNIQUET_POLICY') ?? 'policy.yaml',
    tenantId,
  }
}

function readTenant(r: EnvReader): string {
  const tenantId = r.required('AZURE_TENANT_ID', 'the directory (tenant) id or its primary domain')
  if (tenantId !== '' && !TENANT.test(tenantId))
    r.problem('AZURE_TENANT_ID', `is not a tenant id (GUID) or domain ${NOT_SHOWN}`)
  return tenantId
}

/** The credential and the client id it goes with (for managed identity, the identity's own). */
function readCredential(r: EnvReader): { credential: CredentialConfig; clientId: string } {
  const auth = r.get('TOURNIQUET_AUTH')
  const clientId = r.get('AZURE_CLIENT_ID') ?? ''
  if (auth === undefined) return { credential: readAppCredential(r, clientId), clientId }
  if (auth !== 'managed-identity' && auth !== 'federated') {
    r.problem(
      'TOURNIQUET_AUTH',
      `is not supported ${NOT_SHOWN}; expected managed-identity or federated (or leave it unset to use AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH)`,
    )
    return { credential: { kind: 'secret', secret: '' }, clientId }
  }
  if (r.get('AZURE_CLIENT_SECRET') !== undefined || r.get('AZURE_CLIENT_CERTIFICATE_PATH') !== undefined)
    r.problem(
      'TOURNIQUET_AUTH',
      `${auth} takes no AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; unset them`,
    )
  if (auth === 'managed-identity') {
    // AZURE_CLIENT_ID names the user-assigned identity; unset means system-assigned.
    return {
      credential: { kind: 'managedIdentity', clientId: clientId === '' ? undefined : clientId },
      clientId,
    }
  }
  // The app (AZURE_CLIENT_ID) trusts the job's managed identity through a federated credential.
  if (clientId === '') r.problem('AZURE_CLIENT_ID', APP_ID_MISSING)
  const managedIdentityClientId = r.get('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID')
  return { credential: { kind: 'federated', managedIdentityClientId }, clientId }
}

/** An app registration's own credential: a client secret or a certificate, exactly one. */
function readAppCredential(r: EnvReader, clientId: string): CredentialConfig {
  if (clientId === '') r.problem('AZURE_CLIENT_ID', APP_ID_MISSING)
  else if (!GUIDISH.test(clientId))
    r.problem('AZURE_CLIENT_ID', `is not an application (client) id (GUID) ${NOT_SHOWN}`)
  const secret = r.get('AZURE_CLIENT_SECRET')
  const certPath = r.get('AZURE_CLIENT_CERTIFICATE_PATH')
  if (secret !== undefined && certPath !== undefined)
    r.problem('AZURE_CLIENT_SECRET', 'and AZURE_CLIENT_CERTIFICATE_PATH are both set; set exactly one')
  else if (secret !== undefined) return { kind: 'secret', secret }
  else if (certPath !== undefined) return { kind: 'certificate', path: certPath }
  else
    r.problem(
      'AZURE_CLIENT_SECRET',
      'no credential is configured; set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or TOURNIQUET_AUTH=managed-identity',
    )
  return { kind: 'secret', secret: '' }
}

function readCloud(r: EnvReader): CloudName {
  const cloud = (r.get('TOURNIQUET_CLOUD') ?? 'global') as CloudName
  if (!CLOUD_NAMES.includes(cloud))
    r.problem('TOURNIQUET_CLOUD', `'${cloud}' is not a cloud; expected one of ${CLOUD_NAMES.join(', ')}`)
  return cloud
}

function readOrigin(r: EnvReader, name: string): string | undefined {
  const v = r.get(name)
  if (v === undefined) return undefined
  try {
    return validateOrigin(name, v)
  } catch (e) {
    r.problem(name, isConfigError(e) ? e.message.replace(`${name}: `, '') : 'is not a valid URL')
    return undefined
  }
}

function readMode(r: EnvReader, overrides: ConfigOverrides): 'plan' | 'apply' {
  const mode = overrides.mode ?? r.get('TOURNIQUET_MODE') ?? 'plan'
  if (mode === 'plan' || mode === 'apply') return mode
  r.problem('TOURNIQUET_MODE', `'${mode}' is not a mode; expected plan (the default, a dry run) or apply`)
  return 'plan'
}

function readLedger(r: EnvReader, overrides: ConfigOverrides): string {
  const ledger = overrides.ledger ?? r.get('TOURNIQUET_LEDGER') ?? 'tourniquet-ledger.jsonl'
  if (!/^https?:/i.test(ledger)) return ledger
  const u = URL.parse(ledger)
  // Plain http only to a loopback host (Azurite), compared exactly: 127.evil.example is not one.
  const local = u !== null && isLoopbackHost(u.hostname)
  const blob =
    u !== null && (u.protocol === 'https:' || local) && u.pathname.split('/').filter(Boolean).length >= 2
  // Quoted without its query: a SAS token's signature grants access to the ledger.
  const shown = u === null ? 'the value' : `'${u.origin}${u.pathname}'`
  if (!blob)
    r.problem(
      'TOURNIQUET_LEDGER',
      `${shown} is not a blob URL; expected https://<account>.blob.core.windows.net/<container>/<blob> or a file path`,
    )
  return ledger
}

/** Notification targets; each URL (a credential) and the signing key go to the sanitizer at once. */
function readNotify(r: EnvReader): NotifySettings {
  const secret = r.get('TOURNIQUET_NOTIFY_SECRET')
  registerSecret(secret)
  const entries = (r.get('TOURNIQUET_NOTIFY_URLS') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  const targets: NotifyTarget[] = []
  entries.forEach((entry, i) => {
    registerSecret(entry.replace(/^(teams|slack|json):/i, ''))
    const target = parseTarget(entry, i + 1)
    // One key per receiver: a receiver that knows the shared key could sign as Tourniquet to the others.
    const keyName = `TOURNIQUET_NOTIFY_SECRET_${i + 1}`
    const key = r.get(keyName)
    registerSecret(key)
    if (typeof target === 'string') r.problem('TOURNIQUET_NOTIFY_URLS', `entry ${i + 1} ${target}`)
    else if (key !== undefined && target.kind !== 'json')
      r.problem(
        keyName,
        `entry ${i + 1} is a ${target.kind} webhook, which is not signed; only generic JSON targets take a key`,
      )
    else targets.push(key === undefined ? target : { ...target, key })
  })
  const timeoutText = r.get('TOURNIQUET_NOTIFY_TIMEOUT') ?? 'PT10S'
  const timeoutMs = parseDuration(timeoutText)
  if (timeoutMs === undefined || timeoutMs <= 0)
    r.problem(
      'TOURNIQUET_NOTIFY_TIMEOUT',
      `'${timeoutText}' is not an ISO 8601 duration; expected e.g. PT10S`,
    )
  return { targets, secret, timeoutMs: timeoutMs ?? 10_000 }
}

function readWatch(r: EnvReader): RunnerConfig['watch'] {
  const intervalText = r.get('TOURNIQUET_WATCH_INTERVAL') ?? 'PT15S'
  const intervalMs = parseDuration(intervalText)
  if (intervalMs === undefined || intervalMs < 1_000)
    r.problem(
      'TOURNIQUET_WATCH_INTERVAL',
      `'${intervalText}' is not an ISO 8601 duration of at least PT1S; expected e.g. PT15S`,
    )
  const shareText = r.get('TOURNIQUET_WATCH_SHARE') ?? '0.2'
  const share = Number(shareText)
  if (!Number.isFinite(share) || share <= 0 || share > 1)
    r.problem(
      'TOURNIQUET_WATCH_SHARE',
      `'${shareText}' is not a share between 0 and 1 of Identity Protection's 1 request/s`,
    )
  return { intervalMs: intervalMs ?? 15_000, share }
}

function readCollection(r: EnvReader): RunnerConfig['collection'] {
  const mode = r.get('TOURNIQUET_COLLECTION') ?? 'incremental'
  if (mode !== 'incremental' && mode !== 'full')
    r.problem(
      'TOURNIQUET_COLLECTION',
      `'${mode}' is not a collection mode; expected incremental (what changed since the last run) or full (the whole lookback every run)`,
    )
  const duration = (name: string, fallback: string, example: string): number => {
    const text = r.get(name) ?? fallback
    const ms = parseDuration(text)
    if (ms === undefined) r.problem(name, `'${text}' is not an ISO 8601 duration; expected e.g. ${example}`)
    return ms ?? 0
  }
  const overlapMs = duration('TOURNIQUET_OVERLAP', 'PT10M', 'PT10M')
  const reconcileEveryMs = duration('TOURNIQUET_RECONCILE_EVERY', 'PT24H', 'PT24H')
  const location = r.get('TOURNIQUET_EVIDENCE')
  return {
    mode: mode === 'full' ? 'full' : 'incremental',
    overlapMs,
    reconcileEveryMs,
    ...(location ? { location } : {}),
  }
}

function readRuntime(r: EnvReader): number {
  const text = r.get('TOURNIQUET_MAX_RUNTIME') ?? 'PT20M'
  const ms = parseDuration(text)
  if (ms === undefined)
    r.problem('TOURNIQUET_MAX_RUNTIME', `'${text}' is not an ISO 8601 duration; expected e.g. PT20M`)
  return ms ?? 0
}

function readBudgets(
  r: EnvReader,
): Pick<RunnerConfig, 'concurrency' | 'identityProtectionRps' | 'directoryWriteRps' | 'defenderRps'> {
  const concurrencyText = r.get('TOURNIQUET_CONCURRENCY') ?? '4'
  const concurrency = Number(concurrencyText)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32)
    r.problem('TOURNIQUET_CONCURRENCY', `'${concurrencyText}' is not a whole number from 1 to 32`)
  const rpsText = r.get('TOURNIQUET_IDENTITY_PROTECTION_RPS') ?? '0.95'
  const identityProtectionRps = Number(rpsText)
  if (!Number.isFinite(identityProtectionRps) || identityProtectionRps <= 0)
    r.problem(
      'TOURNIQUET_IDENTITY_PROTECTION_RPS',
      `'${rpsText}' is not a positive number of requests per second (Graph allows 1 per tenant)`,
    )
  const writeText = r.get('TOURNIQUET_DIRECTORY_WRITE_RPS') ?? '20'
  const directoryWriteRps = Number(writeText)
  if (!Number.isFinite(directoryWriteRps) || directoryWriteRps <= 0)
    r.problem(
      'TOURNIQUET_DIRECTORY_WRITE_RPS',
      `'${writeText}' is not a positive number of writes per second`,
    )
  const defenderText = r.get('TOURNIQUET_DEFENDER_RPS') ?? '10'
  const defenderRps = Number(defenderText)
  if (!Number.isFinite(defenderRps) || defenderRps <= 0)
    r.problem('TOURNIQUET_DEFENDER_RPS', `'${defenderText}' is not a positive number of requests per second`)
  return { concurrency, identityProtectionRps, directoryWriteRps, defenderRps }
}
