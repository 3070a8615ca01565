/**
 * The stack's settings: one zod schema, so a bad value fails the preview with the key and what was
 * expected. Pure (no Pulumi): `config.ts` feeds it from pulumi.Config, tests from literals.
 */
import { z } from 'zod'

// Five fields (Container Apps jobs use standard cron): minute hour day-of-month month day-of-week.
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/
const IMAGE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/

const number = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `expected a number (${what})` })
    .int({ message: `expected a whole number (${what})` })
    .min(min, { message: `expected at least ${min} (${what})` })
    .max(max, { message: `expected at most ${max} (${what})` })

export const settingsSchema = z.object({
  location: z.string().regex(/^[a-z0-9]+$/, { message: 'expected an Azure region name such as westeurope' }),
  cloud: z
    .enum(['global', 'usgov', 'usgovdod', 'china'], {
      error: 'expected one of global, usgov, usgovdod, china',
    })
    .default('global'),
  image: z.string().regex(IMAGE, {
    message:
      'expected an image reference with a tag or digest, e.g. myregistry.azurecr.io/tourniquet-runner:1.0.0',
  }),
  schedule: z
    .string()
    .refine(
      (v) =>
        v.trim().split(/\s+/).length === 5 &&
        v
          .trim()
          .split(/\s+/)
          .every((f) => CRON_FIELD.test(f)),
      {
        message: "expected a five-field cron expression, e.g. '*/10 * * * *'",
      },
    )
    .default('*/10 * * * *'),
  mode: z.enum(['plan', 'apply'], { error: 'expected plan (a dry run) or apply' }).default('plan'),
  authMode: z
    .enum(['secret', 'federated'], {
      error: 'expected secret (a client secret in Key Vault) or federated (no secret at all)',
    })
    .default('federated'),
  secretLifetimeDays: number('days a client secret is valid', 1, 365).default(180),
  /** A date (YYYY-MM-DD); change it to issue a new secret. The secret expires secretLifetimeDays later. */
  secretRotation: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected the rotation date as YYYY-MM-DD' })
    .default('2026-01-01'),
  policyPath: z.string().min(1).default('../examples/policy.yaml'),
  replicaTimeoutSeconds: number('seconds a run may take', 60, 86_400).default(1_800),
  retryLimit: number('retries of a failed run', 0, 10).default(1),
  cpu: z.coerce
    .number()
    .refine((v) => [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2].includes(v), {
      message: 'expected a Container Apps CPU size: 0.25 to 2 in steps of 0.25',
    })
    .default(0.5),
  memory: z
    .string()
    .regex(/^\d+(\.\d+)?Gi$/, { message: "expected memory such as '1Gi'" })
    .default('1Gi'),
  namePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,9}$/, {
      message: 'expected 2-10 lowercase letters or digits, starting with a letter',
    })
    .default('tq'),
  logRetentionDays: number('days Log Analytics keeps the audit', 30, 730).default(90),
})

export type Settings = z.output<typeof settingsSchema>

export class SettingsError extends Error {
  constructor(readonly problems: Array<{ key: string; message: string }>) {
    super(
      `invalid stack configuration:\n${problems.map((p) => `  tourniquet:${p.key}: ${p.message}`).join('\n')}`,
    )
    this.name = 'SettingsError'
  }
}

export function parseSettings(raw: Record<string, unknown>): Settings {
  const result = settingsSchema.safeParse(raw)
  if (result.success) return result.data
  throw new SettingsError(
    result.error.issues.map((i) => ({ key: String(i.path[0] ?? '(config)'), message: i.message })),
  )
}

/** The secret's end date: the rotation date plus its lifetime (deterministic, so previews are stable). */
export function secretEndDate(settings: Settings): string {
  const start = Date.parse(`${settings.secretRotation}T00:00:00Z`)
  return new Date(start + settings.secretLifetimeDays * 86_400_000).toISOString()
}

/** Per-cloud endpoints the job and the identity setup need. */
export const CLOUD_ENDPOINTS = {
  global: { login: 'https://login.microsoftonline.com', blobSuffix: 'blob.core.windows.net' },
  usgov: { login: 'https://login.microsoftonline.us', blobSuffix: 'blob.core.usgovcloudapi.net' },
  usgovdod: { login: 'https://login.microsoftonline.us', blobSuffix: 'blob.core.usgovcloudapi.net' },
  china: { login: 'https://login.chinacloudapi.cn', blobSuffix: 'blob.core.chinacloudapi.cn' },
} as const
