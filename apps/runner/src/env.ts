/**
 * The only module that reads process.env. Settings are validated once, at start-up, into a typed
 * object; command-line flags override them. A bad or missing setting is a ConfigurationError that
 * names the variable and what was expected (exit 2, before any request is sent).
 */
import {
  CLOUD_NAMES,
  type CloudName,
  isConfigError,
  redactText,
  registerSecret,
  validateOrigin,
} from '@tourniquet/core'
import { parseDuration } from '@tourniquet/policy'
import { type ConfigProblem, ConfigurationError } from './errors.js'

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

/** Reads the remediation job's settings; `env` defaults to the process environment. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): RunnerConfig {
  const problems: ConfigProblem[] = []
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const required = (name: string, what: string): string => {
    const v = get(name)
    if (v === undefined) problems.push({ variable: name, message: `is not set; expected ${what}` })
    return v ?? ''
  }

  const tenantId = required('AZURE_TENANT_ID', 'the directory (tenant) id or its primary domain')
  if (tenantId !== '' && !TENANT.test(tenantId))
    problems.push({
      variable: 'AZURE_TENANT_ID',
      message: `'${tenantId}' is not a tenant id (GUID) or domain`,
    })

  const auth = get('TOURNIQUET_AUTH')
  const secret = get('AZURE_CLIENT_SECRET')
  const certPath = get('AZURE_CLIENT_CERTIFICATE_PATH')
  let credential: CredentialConfig = { kind: 'secret', secret: '' }
  let clientId = get('AZURE_CLIENT_ID') ?? ''
  const miClientId = get('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID')
  if (auth !== undefined && auth !== 'managed-identity' && auth !== 'federated') {
    problems.push({
      variable: 'TOURNIQUET_AUTH',
      message: `'${auth}' is not supported; expected managed-identity or federated (or leave it unset to use AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH)`,
    })
  } else if (auth === 'federated') {
    // The app (AZURE_CLIENT_ID) trusts the job's managed identity through a federated credential.
    if (secret !== undefined || certPath !== undefined) {
      problems.push({
        variable: 'TOURNIQUET_AUTH',
        message: 'federated takes no AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; unset them',
      })
    }
    if (clientId === '')
      problems.push({
        variable: 'AZURE_CLIENT_ID',
        message: 'is not set; expected the application (client) id of the app registration',
      })
    credential = { kind: 'federated', managedIdentityClientId: miClientId }
  } else if (auth === 'managed-identity') {
    if (secret !== undefined || certPath !== undefined) {
      problems.push({
        variable: 'TOURNIQUET_AUTH',
        message: 'managed-identity takes no AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; unset them',
      })
    }
    // AZURE_CLIENT_ID names the user-assigned identity; unset means system-assigned.
    credential = { kind: 'managedIdentity', clientId: clientId === '' ? undefined : clientId }
  } else {
    if (clientId === '')
      problems.push({
        variable: 'AZURE_CLIENT_ID',
        message: 'is not set; expected the application (client) id of the app registration',
      })
    else if (!GUIDISH.test(clientId))
      problems.push({
        variable: 'AZURE_CLIENT_ID',
        message: `'${clientId}' is not an application (client) id (GUID)`,
      })
    if (secret !== undefined && certPath !== undefined) {
      problems.push({
        variable: 'AZURE_CLIENT_SECRET',
        message: 'and AZURE_CLIENT_CERTIFICATE_PATH are both set; set exactly one',
      })
    } else if (secret !== undefined) {
      credential = { kind: 'secret', secret }
    } else if (certPath !== undefined) {
      credential = { kind: 'certificate', path: certPath }
    } else {
      problems.push({
        variable: 'AZURE_CLIENT_SECRET',
        message:
          'no credential is configured; set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or TOURNIQUET_AUTH=managed-identity',
      })
    }
  }
  if (credential.kind === 'managedIdentity') clientId = credential.clientId ?? ''

  const cloud = (get('TOURNIQUET_CLOUD') ?? 'global') as CloudName
  if (!CLOUD_NAMES.includes(cloud))
    problems.push({
      variable: 'TOURNIQUET_CLOUD',
      message: `'${cloud}' is not a cloud; expected one of ${CLOUD_NAMES.join(', ')}`,
    })

  const origin = (name: string): string | undefined => {
    const v = get(name)
    if (v === undefined) return undefined
    try {
      return validateOrigin(name, v)
    } catch (e) {
      problems.push({
        variable: name,
        message: isConfigError(e) ? e.message.replace(`${name}: `, '') : 'is not a valid URL',
      })
      return undefined
    }
  }
  const authorityHost = origin('AZURE_AUTHORITY_HOST')
  const graphRoot = origin('TOURNIQUET_GRAPH_URL')

  const mode = overrides.mode ?? get('TOURNIQUET_MODE') ?? 'plan'
  if (mode !== 'plan' && mode !== 'apply')
    problems.push({
      variable: 'TOURNIQUET_MODE',
      message: `'${mode}' is not a mode; expected plan (the default, a dry run) or apply`,
    })

  const ledger = overrides.ledger ?? get('TOURNIQUET_LEDGER') ?? 'tourniquet-ledger.jsonl'
  if (/^https?:/i.test(ledger)) {
    try {
      const u = new URL(ledger)
      if (u.protocol !== 'https:' && !/^(127\.|localhost$)/.test(u.hostname)) throw new Error('https')
      if (u.pathname.split('/').filter(Boolean).length < 2) throw new Error('path')
    } catch {
      problems.push({
        variable: 'TOURNIQUET_LEDGER',
        message: `'${ledger}' is not a blob URL; expected https://<account>.blob.core.windows.net/<container>/<blob> or a file path`,
      })
    }
  }

  const runtimeText = get('TOURNIQUET_MAX_RUNTIME') ?? 'PT20M'
  const maxRuntimeMs = parseDuration(runtimeText)
  if (maxRuntimeMs === undefined)
    problems.push({
      variable: 'TOURNIQUET_MAX_RUNTIME',
      message: `'${runtimeText}' is not an ISO 8601 duration; expected e.g. PT20M`,
    })

  const concurrencyText = get('TOURNIQUET_CONCURRENCY') ?? '4'
  const concurrency = Number(concurrencyText)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    problems.push({
      variable: 'TOURNIQUET_CONCURRENCY',
      message: `'${concurrencyText}' is not a whole number from 1 to 32`,
    })
  }

  const rpsText = get('TOURNIQUET_IDENTITY_PROTECTION_RPS') ?? '0.95'
  const identityProtectionRps = Number(rpsText)
  if (!Number.isFinite(identityProtectionRps) || identityProtectionRps <= 0) {
    problems.push({
      variable: 'TOURNIQUET_IDENTITY_PROTECTION_RPS',
      message: `'${rpsText}' is not a positive number of requests per second (Graph allows 1 per tenant)`,
    })
  }

  const writeText = get('TOURNIQUET_DIRECTORY_WRITE_RPS') ?? '20'
  const directoryWriteRps = Number(writeText)
  if (!Number.isFinite(directoryWriteRps) || directoryWriteRps <= 0) {
    problems.push({
      variable: 'TOURNIQUET_DIRECTORY_WRITE_RPS',
      message: `'${writeText}' is not a positive number of writes per second`,
    })
  }

  if (problems.length > 0) {
    // Messages quote the values they refuse; a secret pasted into the wrong variable must not be quoted.
    registerSecret(secret)
    throw new ConfigurationError(problems.map((p) => ({ ...p, message: redactText(p.message) })))
  }
  registerSecret(secret)
  return {
    tenantId,
    clientId,
    credential,
    cloud,
    authorityHost,
    graphRoot,
    policyPath: overrides.policy ?? get('TOURNIQUET_POLICY') ?? 'policy.yaml',
    mode: mode as 'plan' | 'apply',
    ledger,
    reportPath: overrides.report ?? get('TOURNIQUET_REPORT'),
    maxRuntimeMs: maxRuntimeMs ?? 0,
    concurrency,
    managedIdentityClientId: get('TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID'),
    identityProtectionRps,
    directoryWriteRps,
  }
}
