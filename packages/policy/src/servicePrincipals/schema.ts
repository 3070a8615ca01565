/**
 * The `servicePrincipals` section of a policy: rules for workload identities, beside the user rules
 * and independent of them (a policy without the section is a user policy, unchanged). Strict
 * objects, as the rest of the policy: a typo in a safety setting is an error.
 */
import { z } from 'zod'
import { parseDuration } from '../duration.js'
import { shown } from '../schema.js'
import { APPROVAL_BY_DEFAULT, SERVICE_PRINCIPAL_ACTIONS, type ServicePrincipalAction } from './actions.js'

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const enumList = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z
    .array(
      z.enum(values, {
        error: (issue) => `unknown ${what} ${shown(issue.input)}; expected one of ${values.join(', ')}`,
      }),
    )
    .min(1, { message: `expected at least one ${what}` })

const action = z.enum(SERVICE_PRINCIPAL_ACTIONS, {
  error: (issue) =>
    `unknown service principal action ${shown(issue.input)}; expected one of ${SERVICE_PRINCIPAL_ACTIONS.join(', ')}`,
})

const eventTypes = z
  .array(z.string().min(1, { message: 'expected a riskEventType name' }))
  .min(1, { message: 'expected at least one riskEventType' })

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

/** Who registered the app behind the service principal, from its appOwnerOrganizationId. */
export const APP_OWNERS = ['thisTenant', 'otherTenant'] as const
export type AppOwner = (typeof APP_OWNERS)[number]

/** Service principal types as policies name them (Graph's values, matched without regard to case). */
export const SERVICE_PRINCIPAL_TYPES = ['Application', 'ManagedIdentity', 'Legacy', 'SocialIdp'] as const

export const servicePrincipalConditionSchema = z
  .strictObject({
    riskLevel: enumList(['low', 'medium', 'high'] as const, 'risk level').optional(),
    riskState: enumList(
      ['atRisk', 'confirmedCompromised', 'remediated', 'dismissed', 'confirmedSafe', 'none'] as const,
      'risk state',
    ).optional(),
    detections: z
      .strictObject({
        anyOf: eventTypes.optional(),
        allOf: eventTypes.optional(),
        none: eventTypes.optional(),
      })
      .optional()
      .describe(
        'riskEventType of servicePrincipalRiskDetections in the lookback window, e.g. leakedCredentials',
      ),
    detectedWithin: duration('detectedWithin').optional(),
    servicePrincipalType: enumList(SERVICE_PRINCIPAL_TYPES, 'service principal type').optional(),
    appOwner: enumList(APP_OWNERS, 'app owner')
      .optional()
      .describe(
        "thisTenant: an app registered in this tenant (appOwnerOrganizationId is the tenant's id); otherTenant: another tenant's multi-tenant app",
      ),
  })
  .describe('All conditions must hold. A rule without riskState matches atRisk and confirmedCompromised.')

export const removeCredentialsSchema = z
  .strictObject({
    which: z
      .enum(['all', 'addedWithinLookback', 'namedByDetections'], {
        error:
          "expected 'all', 'addedWithinLookback' (credentials whose start is inside the lookback window) or 'namedByDetections' (the keyIds the detections name)",
      })
      .default('addedWithinLookback'),
    from: enumList(['application', 'servicePrincipal'] as const, 'credential owner').default([
      'application',
      'servicePrincipal',
    ]),
  })
  .describe(
    'Which password and key credentials removeCredentials removes. NOT UNDOABLE: a removed secret or certificate cannot be restored; it waits for approval by default.',
  )

export const servicePrincipalRuleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    message: 'expected a short kebab-case name, e.g. leaked-app-secret',
  }),
  description: z.string().max(500).optional(),
  when: servicePrincipalConditionSchema,
  then: z
    .array(action)
    .min(1, { message: 'expected at least one action' })
    .describe(
      'In order. disable: accountEnabled false in this tenant (undo re-enables). removeCredentials: NOT UNDOABLE, approval required by default.',
    ),
  removeCredentials: removeCredentialsSchema.optional(),
  requireApproval: z.array(action).optional(),
})

const DEFAULT_APPROVALS = {
  require: [...APPROVAL_BY_DEFAULT] as ServicePrincipalAction[],
  timeout: 4 * 3_600_000,
  onTimeout: 'skip' as const,
}

export const servicePrincipalSectionSchema = z
  .strictObject({
    match: z
      .enum(['first', 'all'], {
        error: "expected 'first' (first matching rule wins) or 'all' (merge every matching rule)",
      })
      .default('first'),
    exclude: z
      .strictObject({
        /**
         * Service principals never touched, by object id or appId (GUIDs). Each must resolve to a
         * service principal of the tenant, or the run is refused: a typo must not unprotect one.
         */
        servicePrincipals: z
          .array(
            z.string().regex(GUID, { message: 'expected a service principal object id or appId (GUID)' }),
          )
          .default([]),
      })
      .default({ servicePrincipals: [] }),
    limits: z
      .strictObject({
        maxActionsPerRun: z.number().int().min(0).default(20),
        maxPerAction: z.partialRecord(action, z.number().int().min(0)).default({}),
      })
      .default({ maxActionsPerRun: 20, maxPerAction: {} }),
    approvals: z
      .strictObject({
        require: z.array(action).default([...APPROVAL_BY_DEFAULT]),
        timeout: duration('servicePrincipals.approvals.timeout').default(4 * 3_600_000),
        onTimeout: z
          .enum(['skip', 'apply'], {
            error: "expected 'skip' (the default: an unanswered request is dropped) or 'apply'",
          })
          .default('skip'),
      })
      .default(DEFAULT_APPROVALS)
      .describe('Default: removeCredentials waits for approval. `require: []` lifts it.'),
    rules: z.array(servicePrincipalRuleSchema).min(1, { message: 'expected at least one rule' }),
  })
  .superRefine((section, ctx) => {
    const seen = new Set<string>()
    section.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name '${rule.name}'`,
        })
      seen.add(rule.name)
      if (rule.removeCredentials !== undefined && !rule.then.includes('removeCredentials'))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'removeCredentials'],
          message: "removeCredentials settings are given but 'then' has no removeCredentials action",
        })
    })
  })
  .describe('Rules for workload identities (service principals), evaluated apart from the user rules.')

export type ServicePrincipalSection = z.output<typeof servicePrincipalSectionSchema>
export type ServicePrincipalRule = ServicePrincipalSection['rules'][number]
export type ServicePrincipalCondition = ServicePrincipalRule['when']
export type RemoveCredentialsSettings = z.output<typeof removeCredentialsSchema>
