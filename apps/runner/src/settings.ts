/**
 * The runner's settings: one row per environment variable, in the order problems are reported.
 * `env.ts` folds over this table (it is the only reader of process.env), `--help` and the README's
 * configuration tables are generated from it, and a test holds infra's job environment to its names.
 * Operator settings are what a deployment chooses; advanced ones are test knobs (a mock's host, a
 * faster fake tenant) and tuning that the defaults already get right.
 */
import { CLOUD_NAMES, type CloudName, isConfigError, isLoopbackHost, validateOrigin } from '@tourniquet/core'
import { parseDuration } from '@tourniquet/policy'

export type Audience = 'operator' | 'advanced'

/** A parsed value, or what is wrong with the text (the message follows the variable's name). */
export type Parsed<T> = { value: T } | { problem: string }

export interface Setting<T = string> {
  readonly audience: Audience
  /** The command-line flag that overrides it, if any. */
  readonly flag?: string
  /** Markdown, as the README shows it. */
  readonly description: string
  /** The text used when the variable is unset (or empty). */
  readonly fallback?: string
  /** The README's default column when it is not the fallback itself (`required`, `the cloud's`). */
  readonly shownDefault?: string
  readonly parse?: (text: string) => Parsed<T>
}

/**
 * Said instead of quoting the tenant, client id or auth mode: a client secret pasted into one of
 * them is the likely mistake, and an error line ends up in the job's logs.
 */
export const NOT_SHOWN = '(value not shown: it sits next to the credentials)'

const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i

const row = <T = string>(s: Setting<T>): Setting<T> => s

function oneOf<const T extends string>(values: readonly T[], problem: (text: string) => string) {
  return (text: string): Parsed<T> =>
    (values as readonly string[]).includes(text) ? { value: text as T } : { problem: problem(text) }
}

function duration(example: string, min = 0, atLeast = '') {
  return (text: string): Parsed<number> => {
    const ms = parseDuration(text)
    return ms !== undefined && ms >= min
      ? { value: ms }
      : { problem: `'${text}' is not an ISO 8601 duration${atLeast}; expected e.g. ${example}` }
  }
}

function positive(what: string) {
  return (text: string): Parsed<number> => {
    const n = Number(text)
    return Number.isFinite(n) && n > 0
      ? { value: n }
      : { problem: `'${text}' is not a positive number of ${what}` }
  }
}

function origin(name: string) {
  return (text: string): Parsed<string> => {
    try {
      return { value: validateOrigin(name, text) }
    } catch (e) {
      return { problem: isConfigError(e) ? e.message.replace(`${name}: `, '') : 'is not a valid URL' }
    }
  }
}

function ledgerLocation(text: string): Parsed<string> {
  if (!/^https?:/i.test(text)) return { value: text }
  const u = URL.parse(text)
  // Plain http only to a loopback host (Azurite), compared exactly: 127.evil.example is not one.
  const local = u !== null && isLoopbackHost(u.hostname)
  const blob =
    u !== null && (u.protocol === 'https:' || local) && u.pathname.split('/').filter(Boolean).length >= 2
  // Quoted without its query: a SAS token's signature grants access to the ledger.
  const shown = u === null ? 'the value' : `'${u.origin}${u.pathname}'`
  return blob
    ? { value: text }
    : {
        problem: `${shown} is not a blob URL; expected https://<account>.blob.core.windows.net/<container>/<blob> or a file path`,
      }
}

/** Every setting, in the order its problems are reported. */
export const SETTINGS = {
  AZURE_TENANT_ID: row({
    audience: 'operator',
    description: 'directory (tenant) id or primary domain',
    shownDefault: 'required',
    parse: (text) =>
      TENANT.test(text) ? { value: text } : { problem: `is not a tenant id (GUID) or domain ${NOT_SHOWN}` },
  }),
  TOURNIQUET_AUTH: row({
    audience: 'operator',
    description:
      "`managed-identity` (the job's identity holds the Graph roles) or `federated` (the app trusts the job's identity; no secret)",
    parse: oneOf(
      ['managed-identity', 'federated'],
      () =>
        `is not supported ${NOT_SHOWN}; expected managed-identity or federated (or leave it unset to use AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH)`,
    ),
  }),
  AZURE_CLIENT_ID: row({
    audience: 'operator',
    description:
      "app registration's client id; with managed identity, the user-assigned identity's client id",
    shownDefault: 'required (unless system-assigned identity)',
  }),
  AZURE_CLIENT_SECRET: row({
    audience: 'operator',
    description: 'client secret',
    shownDefault: 'one credential is required',
  }),
  AZURE_CLIENT_CERTIFICATE_PATH: row({
    audience: 'operator',
    description: 'PEM file with the private key and the certificate',
  }),
  TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID: row({
    audience: 'operator',
    description:
      "the job's user-assigned identity: federated mode's assertion, and the blob ledger's credential",
  }),
  TOURNIQUET_CLOUD: row<CloudName>({
    audience: 'operator',
    description: '`global`, `usgov`, `usgovdod` or `china`',
    fallback: 'global',
    parse: oneOf(
      CLOUD_NAMES,
      (text) => `'${text}' is not a cloud; expected one of ${CLOUD_NAMES.join(', ')}`,
    ),
  }),
  AZURE_AUTHORITY_HOST: row({
    audience: 'advanced',
    description: 'login host override (origin only); no request goes to any other host',
    shownDefault: "the cloud's",
    parse: origin('AZURE_AUTHORITY_HOST'),
  }),
  TOURNIQUET_GRAPH_URL: row({
    audience: 'advanced',
    description: 'Graph root override (origin only, no version)',
    shownDefault: "the cloud's",
    parse: origin('TOURNIQUET_GRAPH_URL'),
  }),
  TOURNIQUET_MODE: row<'plan' | 'apply'>({
    audience: 'operator',
    flag: '--apply',
    description: '`plan` or `apply`',
    fallback: 'plan',
    parse: oneOf(
      ['plan', 'apply'],
      (text) => `'${text}' is not a mode; expected plan (the default, a dry run) or apply`,
    ),
  }),
  TOURNIQUET_LEDGER: row({
    audience: 'operator',
    flag: '--ledger',
    description: 'a file path, or `https://<account>.blob.core.windows.net/<container>/<blob>`',
    fallback: 'tourniquet-ledger.jsonl',
    parse: ledgerLocation,
  }),
  TOURNIQUET_MAX_RUNTIME: row<number>({
    audience: 'operator',
    description: 'ISO 8601 duration; no retry waits past it',
    fallback: 'PT20M',
    parse: duration('PT20M'),
  }),
  TOURNIQUET_CONCURRENCY: row<number>({
    audience: 'advanced',
    description: 'write groups in flight at once (1–32)',
    fallback: '4',
    parse: (text) => {
      const n = Number(text)
      return Number.isInteger(n) && n >= 1 && n <= 32
        ? { value: n }
        : { problem: `'${text}' is not a whole number from 1 to 32` }
    },
  }),
  TOURNIQUET_IDENTITY_PROTECTION_RPS: row<number>({
    audience: 'operator',
    description:
      'Identity Protection requests per second this job may use; Graph allows 1 per tenant for all apps, so lower it when other tools share the budget',
    fallback: '0.95',
    parse: (text) => {
      const parsed = positive('requests per second')(text)
      return 'value' in parsed ? parsed : { problem: `${parsed.problem} (Graph allows 1 per tenant)` }
    },
  }),
  TOURNIQUET_DIRECTORY_WRITE_RPS: row<number>({
    audience: 'advanced',
    description:
      'directory writes per second after a burst of 3,000 (Graph: 3,000 per 150 s per app and tenant); only a faster fake tenant needs another value',
    fallback: '20',
    parse: positive('writes per second'),
  }),
  TOURNIQUET_DEFENDER_RPS: row<number>({
    audience: 'advanced',
    description:
      'Defender for Identity requests per second (each `$batch` item counts); Graph documents no limit for `/security/identities`, so the job keeps to its own',
    fallback: '10',
    parse: positive('requests per second'),
  }),
  TOURNIQUET_NOTIFY_URLS: row({
    audience: 'operator',
    description:
      "where a run's notification goes, comma-separated: Teams Workflows webhooks (Adaptive Card), Slack incoming webhooks (Block Kit), any other https endpoint (generic JSON); the kind is told by the host or named by a prefix `teams:`, `slack:`, `json:`. The URLs are secrets: only their origin is ever logged",
    shownDefault: 'none',
  }),
  TOURNIQUET_NOTIFY_SECRET: row({
    audience: 'operator',
    description:
      'HMAC-SHA256 key for generic JSON targets: they carry `X-Tourniquet-Signature: t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">` (see Notifications)',
    shownDefault: 'none (unsigned, with an audit warning each run)',
  }),
  'TOURNIQUET_NOTIFY_SECRET_<n>': row({
    audience: 'operator',
    description:
      'the key of the n-th entry of `TOURNIQUET_NOTIFY_URLS` (from 1), in place of the shared one: one key per receiver, so no receiver can sign as Tourniquet to another (generic JSON only)',
    shownDefault: '`TOURNIQUET_NOTIFY_SECRET`',
  }),
  TOURNIQUET_NOTIFY_TIMEOUT: row<number>({
    audience: 'operator',
    description: "one delivery attempt's limit (three attempts with backoff, within the run's deadline)",
    fallback: 'PT10S',
    parse: (text) => {
      const ms = parseDuration(text)
      return ms !== undefined && ms > 0
        ? { value: ms }
        : { problem: `'${text}' is not an ISO 8601 duration; expected e.g. PT10S` }
    },
  }),
  TOURNIQUET_WATCH_INTERVAL: row<number>({
    audience: 'operator',
    description: "`watch`: time from one run's start to the next",
    fallback: 'PT15S',
    parse: duration('PT15S', 1_000, ' of at least PT1S'),
  }),
  TOURNIQUET_WATCH_SHARE: row<number>({
    audience: 'operator',
    description:
      "`watch`: the share of `TOURNIQUET_IDENTITY_PROTECTION_RPS` it uses on average, in bursts of at most 8 requests (0.2 × 0.95 = 19% of the tenant's 1 request/s; a quiet run costs 1 request, 2 when it also reads the changed risky users (every fourth run); a full collection reads at the job's pace)",
    fallback: '0.2',
    parse: (text) => {
      const share = Number(text)
      return Number.isFinite(share) && share > 0 && share <= 1
        ? { value: share }
        : { problem: `'${text}' is not a share between 0 and 1 of Identity Protection's 1 request/s` }
    },
  }),
  TOURNIQUET_COLLECTION: row<'incremental' | 'full'>({
    audience: 'operator',
    description:
      "`incremental`: read what changed since the last run (by Graph's last-updated times), keeping the lookback's evidence in `<ledger>.evidence.json`; `full`: read the whole lookback every run",
    fallback: 'incremental',
    parse: oneOf(
      ['incremental', 'full'],
      (text) =>
        `'${text}' is not a collection mode; expected incremental (what changed since the last run) or full (the whole lookback every run)`,
    ),
  }),
  TOURNIQUET_OVERLAP: row<number>({
    audience: 'advanced',
    description:
      "`incremental`: how far before the last run's watermark each run re-reads (records can become readable out of order)",
    fallback: 'PT10M',
    parse: duration('PT10M'),
  }),
  TOURNIQUET_RECONCILE_EVERY: row<number>({
    audience: 'advanced',
    description:
      '`incremental`: a full collection at least this often (also when there is no state, the policy changed, or the service refused a last-updated filter)',
    fallback: 'PT24H',
    parse: duration('PT24H'),
  }),
  TOURNIQUET_EVIDENCE: row({
    audience: 'advanced',
    description:
      "where the evidence state (a cache of Graph, decision 015) is kept: a file path or a blob URL. `pulumi up` sets it to the `state` container, outside the ledger's retention policy",
    shownDefault: '`<ledger>.evidence.json`',
  }),
  TOURNIQUET_POLICY: row({
    audience: 'operator',
    flag: '--policy',
    description: 'policy file',
    fallback: 'policy.yaml',
  }),
  TOURNIQUET_REPORT: row({
    audience: 'operator',
    flag: '--report',
    description: 'write a Markdown report of the run here',
    shownDefault: 'none',
  }),
  TOURNIQUET_DECISIONS: row({
    audience: 'operator',
    description:
      "where approvers' decisions are written: a file path or a blob URL; required with a blob ledger (exit 2 without it: beside the ledger the job could write them itself)",
    shownDefault: '`<ledger>.decisions.jsonl` for a file ledger',
  }),
  TOURNIQUET_SECRET_ROTATION: row({
    audience: 'advanced',
    description:
      "read by nothing: `pulumi up` sets it on the watch app to the secret's rotation, so that each rotation starts a revision that reads the new secret",
    shownDefault: 'none',
  }),
} as const satisfies Record<string, Setting<unknown>>

export type SettingName = keyof typeof SETTINGS

/** The variable names, in the table's order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

/** The row a variable belongs to (`TOURNIQUET_NOTIFY_SECRET_2` is a `TOURNIQUET_NOTIFY_SECRET_<n>`). */
export function settingOf(variable: string): SettingName | undefined {
  if (variable in SETTINGS) return variable as SettingName
  return /^TOURNIQUET_NOTIFY_SECRET_\d+$/.test(variable) ? 'TOURNIQUET_NOTIFY_SECRET_<n>' : undefined
}

function defaultText(s: Setting<unknown>): string {
  if (s.shownDefault !== undefined) return s.shownDefault
  return s.fallback === undefined ? '' : `\`${s.fallback}\``
}

/** The README's configuration table of one audience, as Markdown lines. */
export function settingsMarkdown(audience: Audience): string {
  const rows = SETTING_NAMES.flatMap((name) => {
    const s: Setting<unknown> = SETTINGS[name]
    if (s.audience !== audience) return []
    const flag = s.flag === undefined ? '' : ` (\`${s.flag}\`)`
    return [`| \`${name}\`${flag} | ${s.description} | ${defaultText(s)} |`]
  })
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n')
}

/** The settings part of `--help`: operator settings with their defaults, advanced ones by name. */
export function settingsHelp(): string {
  const operator = SETTING_NAMES.filter((n) => SETTINGS[n].audience === 'operator')
  const width = Math.max(...operator.map((n) => n.length))
  const lines = operator.map((name) => {
    const s: Setting<unknown> = SETTINGS[name]
    const shown = defaultText(s).replaceAll('`', '')
    return `  ${name.padEnd(width)}  ${[s.flag, shown && `default: ${shown}`].filter(Boolean).join('; ')}`.trimEnd()
  })
  const advanced = SETTING_NAMES.filter((n) => SETTINGS[n].audience === 'advanced')
  return [
    'settings (environment; flags override; the README says what each means):',
    ...lines,
    ...wrap(`advanced (tests, fake tenants, tuning): ${advanced.join(', ')}`, 100),
  ].join('\n')
}

/** Words into lines of at most `width` characters, continued with an indent. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  for (const word of text.split(' ')) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`
    else lines.push(last === undefined ? word : `  ${word}`)
  }
  return lines
}
