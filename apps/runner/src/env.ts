/**
 * The only module that reads process.env. It folds over the settings table (settings.ts): each
 * row's text, a flag's when one overrides it, becomes a value or a problem; then the rules across
 * rows (exactly one credential, a key per notification target) are checked. Every problem is
 * reported at once, in the table's order, as a SettingsError that names the variable (exit 2,
 * before any request is sent).
 */

import { type CloudName, redactText, registerSecret } from '@tourniquet/core'
import { type SettingProblem, SettingsError } from './errors.js'
import type { NotifySettings } from './outputs/notify/send.js'
import { type NotifyTarget, parseTarget } from './outputs/notify/targets.js'
import { NOT_SHOWN, SETTING_NAMES, SETTINGS, type Setting, type SettingName, settingOf } from './settings.js'

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

const APP_ID_MISSING = 'is not set; expected the application (client) id of the app registration'

/** Where each variable sits in the table: problems are reported in that order. */
const rowOf = (variable: string): number => {
  const name = settingOf(variable)
  return name === undefined ? SETTING_NAMES.length : SETTING_NAMES.indexOf(name)
}

// A row without a parse keeps its text.
type Value<K extends SettingName> =
  (typeof SETTINGS)[K] extends Setting<infer T> ? (unknown extends T ? string : T) : never

/** The environment read through the table: values by variable, and every problem found. */
class Reading {
  readonly problems: SettingProblem[] = []
  private readonly values = new Map<SettingName, unknown>()

  constructor(
    private readonly env: Env,
    overrides: ConfigOverrides,
    rows: readonly SettingName[],
  ) {
    const flags: Partial<Record<SettingName, string | undefined>> = {
      TOURNIQUET_POLICY: overrides.policy,
      TOURNIQUET_MODE: overrides.mode,
      TOURNIQUET_LEDGER: overrides.ledger,
      TOURNIQUET_REPORT: overrides.report,
    }
    for (const name of rows) {
      const row: Setting<unknown> = SETTINGS[name]
      const text = flags[name] ?? this.get(name) ?? row.fallback
      if (text === undefined) continue
      const parsed = row.parse === undefined ? { value: text } : row.parse(text)
      if ('value' in parsed) this.values.set(name, parsed.value)
      else this.problem(name, parsed.problem)
    }
  }

  /** A variable's text: trimmed, and empty is unset. */
  get(name: string): string | undefined {
    const v = this.env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }

  /** A setting's value; undefined when it is unset without a fallback, or its text was refused. */
  value<K extends SettingName>(name: K): Value<K> | undefined {
    return this.values.get(name) as Value<K> | undefined
  }

  /** A setting with a fallback, after check(): it has a value. */
  known<K extends SettingName>(name: K): Value<K> {
    if (!this.values.has(name)) throw new Error(`${name} has no value`)
    return this.values.get(name) as Value<K>
  }

  problem(variable: string, message: string): void {
    this.problems.push({ variable, message })
  }

  /** Throws every problem, in the table's order, or returns when there are none. */
  check(): void {
    if (this.problems.length === 0) return
    const ordered = this.problems
      .map((p, i) => ({ p, i }))
      .sort((a, b) => rowOf(a.p.variable) - rowOf(b.p.variable) || a.i - b.i)
      .map(({ p }) => ({ ...p, message: redactText(p.message) }))
    throw new SettingsError(ordered)
  }
}

const ALL_ROWS: readonly SettingName[] = SETTING_NAMES

/** Reads the remediation job's settings; `env` defaults to the process environment. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): RunnerConfig {
  const r = new Reading(env, overrides, ALL_ROWS)
  // Messages never quote credential-adjacent values (NOT_SHOWN); the rest pass through the
  // sanitizer, which knows the secrets and the shape of any Entra secret.
  registerSecret(r.value('AZURE_CLIENT_SECRET'))
  registerSecret(r.value('TOURNIQUET_NOTIFY_SECRET'))
  const tenantId = r.value('AZURE_TENANT_ID') ?? ''
  if (r.get('AZURE_TENANT_ID') === undefined)
    r.problem('AZURE_TENANT_ID', 'is not set; expected the directory (tenant) id or its primary domain')
  const { credential, clientId } = readCredential(r)
  const notify = readNotify(r)
  r.check()
  return {
    tenantId,
    clientId,
    credential,
    cloud: r.known('TOURNIQUET_CLOUD'),
    authorityHost: r.value('AZURE_AUTHORITY_HOST'),
    graphRoot: r.value('TOURNIQUET_GRAPH_URL'),
    policyPath: r.known('TOURNIQUET_POLICY'),
    mode: r.known('TOURNIQUET_MODE'),
    ledger: r.known('TOURNIQUET_LEDGER'),
    reportPath: r.value('TOURNIQUET_REPORT'),
    maxRuntimeMs: r.known('TOURNIQUET_MAX_RUNTIME'),
    concurrency: r.known('TOURNIQUET_CONCURRENCY'),
    identityProtectionRps: r.known('TOURNIQUET_IDENTITY_PROTECTION_RPS'),
    directoryWriteRps: r.known('TOURNIQUET_DIRECTORY_WRITE_RPS'),
    defenderRps: r.known('TOURNIQUET_DEFENDER_RPS'),
    notify,
    watch: { intervalMs: r.known('TOURNIQUET_WATCH_INTERVAL'), share: r.known('TOURNIQUET_WATCH_SHARE') },
    collection: readCollection(r),
    decisions: r.value('TOURNIQUET_DECISIONS'),
    managedIdentityClientId: r.value('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID'),
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

const TRAIL_ROWS: readonly SettingName[] = [
  'AZURE_TENANT_ID',
  'TOURNIQUET_LEDGER',
  'TOURNIQUET_DECISIONS',
  'TOURNIQUET_POLICY',
]

/** Reads the trail commands' settings; `env` defaults to the process environment. */
export function loadTrailConfig(overrides: ConfigOverrides = {}, env: Env = process.env): TrailConfig {
  const r = new Reading(env, overrides, TRAIL_ROWS)
  r.check()
  return {
    ledger: r.known('TOURNIQUET_LEDGER'),
    decisions: r.value('TOURNIQUET_DECISIONS'),
    policyPath: r.known('TOURNIQUET_POLICY'),
    tenantId: r.value('AZURE_TENANT_ID'),
  }
}

/** The credential and the client id it goes with (for managed identity, the identity's own). */
function readCredential(r: Reading): { credential: CredentialConfig; clientId: string } {
  const auth = r.value('TOURNIQUET_AUTH')
  const clientId = r.value('AZURE_CLIENT_ID') ?? ''
  if (r.get('TOURNIQUET_AUTH') === undefined) return { credential: readAppCredential(r, clientId), clientId }
  // Refused (reported by the table): no credential is checked against it.
  if (auth === undefined) return { credential: { kind: 'secret', secret: '' }, clientId }
  if (r.value('AZURE_CLIENT_SECRET') !== undefined || r.value('AZURE_CLIENT_CERTIFICATE_PATH') !== undefined)
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
  const managedIdentityClientId = r.value('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID')
  return { credential: { kind: 'federated', managedIdentityClientId }, clientId }
}

/** An app registration's own credential: a client secret or a certificate, exactly one. */
function readAppCredential(r: Reading, clientId: string): CredentialConfig {
  if (clientId === '') r.problem('AZURE_CLIENT_ID', APP_ID_MISSING)
  else if (!GUIDISH.test(clientId))
    r.problem('AZURE_CLIENT_ID', `is not an application (client) id (GUID) ${NOT_SHOWN}`)
  const secret = r.value('AZURE_CLIENT_SECRET')
  const certPath = r.value('AZURE_CLIENT_CERTIFICATE_PATH')
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

/** Notification targets; each URL (a credential) and each target's own key go to the sanitizer at once. */
function readNotify(r: Reading): NotifySettings {
  const targets: NotifyTarget[] = []
  const entries = (r.value('TOURNIQUET_NOTIFY_URLS') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
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
  return {
    targets,
    secret: r.value('TOURNIQUET_NOTIFY_SECRET'),
    timeoutMs: r.known('TOURNIQUET_NOTIFY_TIMEOUT'),
  }
}

function readCollection(r: Reading): RunnerConfig['collection'] {
  const location = r.value('TOURNIQUET_EVIDENCE')
  return {
    mode: r.known('TOURNIQUET_COLLECTION'),
    overlapMs: r.known('TOURNIQUET_OVERLAP'),
    reconcileEveryMs: r.known('TOURNIQUET_RECONCILE_EVERY'),
    ...(location ? { location } : {}),
  }
}
