/**
 * The stack's settings: one zod schema, so a bad value fails the preview with the key and what was
 * expected. Pure (no Pulumi): `config.ts` feeds it from pulumi.Config, tests from literals.
 */
import { parseDuration } from '@tourniquet/policy'
import { z } from 'zod'

// Five fields (Container Apps jobs use standard cron): minute hour day-of-month month day-of-week.
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/
const IMAGE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/

const ACR_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[A-Za-z0-9]{5,50}$/i

const number = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `expected a number (${what})` })
    .int({ message: `expected a whole number (${what})` })
    .min(min, { message: `expected at least ${min} (${what})` })
    .max(max, { message: `expected at most ${max} (${what})` })

const baseSchema = z.object({
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
        message: "expected a five-field cron expression, e.g. '* * * * *' (every minute)",
      },
    )
    // Every minute, the shortest cron Container Apps offers. Executions may overlap (a run can take
    // longer than a minute); the ledger's lease makes the overlapping ones exit at once, acting on
    // nothing (decision 014). For seconds rather than a minute, see trigger: watch.
    .default('* * * * *'),
  /**
   * What starts runs: `schedule`, the Container Apps job on `schedule`; or `watch`, one always-on
   * Container App running `tourniquet watch`, a run every `watchInterval` (decision 014). Never both.
   */
  trigger: z
    .enum(['schedule', 'watch'], {
      error:
        'expected schedule (a Container Apps job on the cron schedule) or watch (one replica running `tourniquet watch`)',
    })
    .default('schedule'),
  /** TOURNIQUET_WATCH_INTERVAL: unset leaves the runner's default (PT15S). */
  watchInterval: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 1_000, {
      message: "expected an ISO 8601 duration of at least PT1S between watch runs, e.g. 'PT15S'",
    })
    .optional(),
  /** TOURNIQUET_WATCH_SHARE: unset leaves the runner's default (0.2). */
  watchShare: z.coerce
    .number({ error: "expected a number: the watch's share of the job's Identity Protection rate, e.g. 0.2" })
    .gt(0, {
      message:
        "expected a share greater than 0 and at most 1 of the job's Identity Protection rate, e.g. 0.2",
    })
    .max(1, {
      message:
        "expected a share greater than 0 and at most 1 of the job's Identity Protection rate, e.g. 0.2",
    })
    .optional(),
  mode: z.enum(['plan', 'apply'], { error: 'expected plan (a dry run) or apply' }).default('plan'),
  authMode: z
    .enum(['secret', 'federated'], {
      error: 'expected secret (a client secret in Key Vault) or federated (no secret at all)',
    })
    .default('federated'),
  secretLifetimeDays: number('days a client secret is valid', 1, 365).default(180),
  /**
   * The client secret's generation: add one to rotate. The stack keeps two passwords, this one and
   * the one before, so a job that still holds the previous secret keeps working (decision 007).
   */
  secretRotation: z.coerce
    .number({ error: 'expected the rotation number (1, 2, 3, ...): add one to issue a new client secret' })
    .int({ message: 'expected the rotation number (1, 2, 3, ...): add one to issue a new client secret' })
    .min(1, { message: 'expected the rotation number (1, 2, 3, ...): add one to issue a new client secret' })
    .default(1),
  policyPath: z.string().min(1).default('../examples/policy.yaml'),
  replicaTimeoutSeconds: number('seconds a run may take', 60, 86_400).default(1_800),
  retryLimit: number('retries of a failed run', 0, 10).default(1),
  cpu: z.coerce.number({ error: 'expected a number of vCPUs such as 0.5' }).default(0.5),
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
  /** Azure Container Registry holding the image: the job's identity gets AcrPull on it. */
  registryId: z
    .string()
    .regex(ACR_ID, {
      message:
        "expected the registry's resource id: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>",
    })
    .optional(),
  /** Any other private registry: a username here, the password as a Pulumi secret (kept in Key Vault). */
  registryUsername: z.string().min(1).optional(),
  /** Set by config.ts when tourniquet:registryPassword holds a secret (its value never enters Settings). */
  registryPasswordSet: z.boolean().default(false),
  /** Days a deleted or overwritten ledger blob (and a deleted container) can be recovered. */
  ledgerRetentionDays: number('days a deleted ledger blob stays recoverable', 1, 365).default(30),
  /** Optional time-based immutability on the ledger container (0 = off); appends stay allowed. */
  ledgerImmutabilityDays: number('days ledger blobs cannot be changed or deleted', 0, 146_000).default(0),
  /**
   * Entra group whose members approve or reject waiting steps (`tourniquet approve` with their own
   * sign-in): Storage Blob Data Contributor on the decisions container, nothing else.
   */
  approverGroupId: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
      message:
        "expected the approvers' Entra group object id (a GUID such as 0a1b2c3d-0000-4000-a000-000000000001)",
    })
    .optional(),
  /** The longest the job waits after a new role assignment before Container Apps resolves it. */
  rbacPropagationSeconds: number('seconds to wait for a new role assignment to take effect', 0, 900).default(
    120,
  ),
})

/** Consumption sizes: vCPU with exactly twice as many GiB (azure-docs articles/container-apps/containers.md#allocations). */
export const CONSUMPTION_SIZES: ReadonlyArray<readonly [number, number]> = Array.from(
  { length: 16 },
  (_, i) => [(i + 1) * 0.25, (i + 1) * 0.5],
)

const settingsSchema = baseSchema.superRefine((s, ctx) => {
  const memory = Number.parseFloat(s.memory)
  if (!CONSUMPTION_SIZES.some(([cpu, gi]) => cpu === s.cpu && gi === memory)) {
    ctx.addIssue({
      code: 'custom',
      path: ['cpu'],
      message: `cpu ${s.cpu} with memory ${s.memory} is not a Container Apps Consumption size; expected one of ${CONSUMPTION_SIZES.map(([c, m]) => `${c}/${m}Gi`).join(', ')} (tourniquet:cpu / tourniquet:memory)`,
    })
  }
  // Settings of the watcher alone: with the scheduled job they would silently do nothing.
  for (const key of ['watchInterval', 'watchShare'] as const) {
    if (s[key] !== undefined && s.trigger !== 'watch')
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `only used with tourniquet:trigger watch (the trigger is ${s.trigger}); set the trigger to watch, or remove it: pulumi config rm tourniquet:${key}`,
      })
  }
  const host = s.image.split('/')[0] ?? ''
  if (s.registryId !== undefined && s.registryUsername !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['registryUsername'],
      message:
        'set either registryId (Azure Container Registry, pulled with the job identity) or registryUsername, not both',
    })
  }
  if (s.registryUsername !== undefined && !s.registryPasswordSet) {
    ctx.addIssue({
      code: 'custom',
      path: ['registryPassword'],
      message: `expected the password for ${host} as a secret: pulumi config set --secret tourniquet:registryPassword <password>`,
    })
  }
  if (s.registryPasswordSet && s.registryUsername === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['registryUsername'],
      message: 'registryPassword is set: expected the registry username with it',
    })
  }
  const registryName = s.registryId?.split('/').at(-1)?.toLowerCase()
  if (registryName !== undefined && !host.toLowerCase().startsWith(`${registryName}.azurecr.`)) {
    ctx.addIssue({
      code: 'custom',
      path: ['registryId'],
      message: `the image is pulled from ${host}, not from registry '${registryName}' (expected ${registryName}.azurecr.io/...)`,
    })
  }
  if (
    /\.azurecr\.(io|us|cn)$/i.test(host) &&
    s.registryId === undefined &&
    s.registryUsername === undefined
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['registryId'],
      message: `the image is in Azure Container Registry ${host}: expected the registry's resource id, so the job's identity can pull it (AcrPull)`,
    })
  }
})

export type Settings = z.output<typeof baseSchema>
export { settingsSchema }

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
