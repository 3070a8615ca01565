/**
 * The policy file's schema: the single definition behind validation, the TypeScript types and the
 * published JSON Schema (editor completion). Objects are strict: an unknown key is an error, since
 * a typo in a safety setting ("exlude") must never be silently ignored.
 */
import { z } from 'zod'
import { ACTION_NAMES, type Action, canonicalAction } from './actions.js'
import { parseDuration } from './duration.js'
import { servicePrincipalSectionSchema } from './servicePrincipals/schema.js'

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const UPN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/

/** An ISO 8601 duration in the file, milliseconds in the parsed policy: parsed once, here. */
const duration = (what: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text)
    if (ms !== undefined) return ms
    ctx.addIssue({
      code: 'custom',
      input: text,
      message: `expected an ISO 8601 duration for ${what} in days/hours/minutes/seconds, e.g. PT24H or P7D`,
    })
    return z.NEVER
  })

const RISK_LEVELS = ['low', 'medium', 'high'] as const
const RISK_STATES = [
  'atRisk',
  'confirmedCompromised',
  'remediated',
  'dismissed',
  'confirmedSafe',
  'none',
] as const
export type RiskState = (typeof RISK_STATES)[number]

/** The risk states a rule without `riskState` matches (and so the ones collection reads). */
export const DEFAULT_RISK_STATES = ['atRisk', 'confirmedCompromised'] as const satisfies readonly RiskState[]
const USER_TYPES = ['member', 'guest'] as const

/**
 * A value from a policy file, for an error message. Never `String(value)`: a YAML mapping such as
 * `{toString: false}` cannot be converted and would turn a bad file into a crash.
 */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 80)}...` : value}'`
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`
  if (value === null || value === undefined) return 'an empty value'
  return Array.isArray(value) ? 'a list' : 'a mapping'
}

const enumList = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z
    .array(
      z.enum(values, {
        error: (issue) => `unknown ${what} ${shown(issue.input)}; expected one of ${values.join(', ')}`,
      }),
    )
    .min(1, { message: `expected at least one ${what}` })

const action = z
  .string({ error: 'expected an action name' })
  .refine((v) => canonicalAction(v) !== undefined, {
    error: (issue) => `unknown action ${shown(issue.input)}; expected one of ${ACTION_NAMES.join(', ')}`,
  })
  .transform((v) => canonicalAction(v) as Action)

const eventTypes = z
  .array(z.string().min(1, { message: 'expected a riskEventType name' }))
  .min(1, { message: 'expected at least one riskEventType' })

export const conditionSchema = z
  .strictObject({
    riskLevel: enumList(RISK_LEVELS, 'risk level').optional(),
    riskState: enumList(RISK_STATES, 'risk state').optional(),
    detections: z
      .strictObject({
        anyOf: eventTypes.optional(),
        allOf: eventTypes.optional(),
        none: eventTypes.optional(),
      })
      .optional(),
    sources: z.strictObject({ anyOf: eventTypes.optional(), none: eventTypes.optional() }).optional(),
    minDistinctSignals: z.number().int().min(1).max(50).optional(),
    minDistinctSources: z.number().int().min(1).max(10).optional(),
    detectedWithin: duration('detectedWithin').optional(),
    userType: enumList(USER_TYPES, 'user type').optional(),
    synced: z
      .boolean({ error: 'expected true (synced from on-premises AD) or false (cloud-only)' })
      .optional(),
  })
  .describe('All conditions must hold. Detections are those in the lookback window.')

export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    message: 'expected a short kebab-case name, e.g. leaked-credentials',
  }),
  description: z.string().max(500).optional(),
  when: conditionSchema,
  then: z.array(action).min(1, { message: 'expected at least one action' }),
  /** Actions of this rule that wait for a person's approval, on top of `approvals.require`. */
  requireApproval: z.array(action).optional(),
})

/**
 * Actions that wait for a person's yes before they are sent: a run records them as pending, a later
 * run acts on the approved ones whose evidence still holds. Unanswered after `timeout`, they are
 * skipped (`onTimeout: skip`, the default) or sent (`apply`).
 */
export const approvalsSchema = z
  .strictObject({
    require: z.array(action).default([]),
    timeout: duration('approvals.timeout').default(4 * 3_600_000),
    onTimeout: z
      .enum(['skip', 'apply'], {
        error: "expected 'skip' (the default: an unanswered request is dropped) or 'apply'",
      })
      .default('skip'),
  })
  .default({ require: [], timeout: 4 * 3_600_000, onTimeout: 'skip' })

export const policySchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }),
    lookback: duration('lookback').refine((ms) => ms <= 90 * 86_400_000, {
      message: 'lookback must be at most P90D (Identity Protection keeps 90 days)',
    }),
    match: z
      .enum(['first', 'all'], {
        error: "expected 'first' (first matching rule wins) or 'all' (merge every matching rule)",
      })
      .default('first'),
    exclude: z
      .strictObject({
        users: z
          .array(
            z.string().refine((v) => GUID.test(v) || UPN.test(v), {
              error: (issue) =>
                `${shown(issue.input)} is neither a UPN (name@domain) nor an object id (GUID)`,
            }),
          )
          .default([]),
        groups: z.array(z.string().regex(GUID, { message: 'expected a group object id (GUID)' })).default([]),
      })
      .default({ users: [], groups: [] }),
    limits: z
      .strictObject({
        maxActionsPerRun: z.number().int().min(0).default(50),
        maxPerAction: z
          .partialRecord(
            z.string().refine((v) => canonicalAction(v) !== undefined, {
              error: (issue) =>
                `unknown action ${shown(issue.input)} in maxPerAction; expected one of ${ACTION_NAMES.join(', ')}`,
            }),
            z.number().int().min(0),
          )
          .default({})
          // Aliases (revokeAllSessions, ...) count against the canonical action.
          .transform((limits) => {
            const out: Partial<Record<Action, number>> = {}
            for (const [name, n] of Object.entries(limits)) {
              const a = canonicalAction(name) as Action
              out[a] = Math.min(out[a] ?? Number.POSITIVE_INFINITY, n as number)
            }
            return out
          }),
      })
      .default({ maxActionsPerRun: 50, maxPerAction: {} }),
    approvals: approvalsSchema,
    rules: z.array(ruleSchema).min(1, { message: 'expected at least one rule' }),
    /** Workload identities: optional, so every user policy stays valid as it is. */
    servicePrincipals: servicePrincipalSectionSchema.optional(),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>()
    policy.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name '${rule.name}'`,
        })
      seen.add(rule.name)
    })
  })

export type PolicyInput = z.input<typeof policySchema>
export type Policy = z.output<typeof policySchema>
export type Rule = Policy['rules'][number]
export type Condition = Rule['when']

/** The JSON Schema of the policy file, for editors (`tourniquet policy schema`). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://tourniquet.dev/schema/policy-v1.json',
    title: 'Tourniquet policy (version 1)',
    ...(z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  }
}
