/**
 * zod schemas for every Graph response the client reads. Objects are not strict (Graph adds
 * fields) and enums Graph calls evolvable are open strings; only what the client relies on is
 * required.
 */
import { z } from 'zod'

const str = z.string()
const optStr = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined)
const optBool = z
  .boolean()
  .nullish()
  .transform((v) => v ?? undefined)

export const riskDetectionSchema = z.object({
  id: str,
  userId: str,
  userPrincipalName: optStr,
  userDisplayName: optStr,
  riskEventType: str,
  riskLevel: str,
  riskState: optStr,
  riskDetail: optStr,
  source: optStr,
  detectionTimingType: optStr,
  activity: optStr,
  ipAddress: optStr,
  requestId: optStr,
  correlationId: optStr,
  detectedDateTime: str,
  activityDateTime: optStr,
  lastUpdatedDateTime: optStr,
})

export const riskyUserSchema = z.object({
  id: str,
  userPrincipalName: optStr,
  userDisplayName: optStr,
  riskLevel: str,
  riskState: str,
  riskDetail: optStr,
  riskLastUpdatedDateTime: optStr,
  isDeleted: optBool,
  isProcessing: optBool,
})

export const riskyUserHistoryItemSchema = riskyUserSchema.extend({
  userId: optStr,
  initiatedBy: optStr,
  activity: z
    .object({ riskEventTypes: z.array(str).nullish(), detail: optStr })
    .nullish()
    .transform((v) => (v == null ? undefined : { riskEventTypes: v.riskEventTypes ?? [], detail: v.detail })),
})

export const userSchema = z.object({
  id: str,
  userPrincipalName: optStr,
  displayName: optStr,
  accountEnabled: optBool,
  onPremisesSyncEnabled: optBool,
  onPremisesSecurityIdentifier: optStr,
  userType: optStr,
  signInSessionsValidFromDateTime: optStr,
  lastPasswordChangeDateTime: optStr,
})

export const directoryObjectSchema = z.object({
  id: str,
  '@odata.type': optStr,
  userPrincipalName: optStr,
})

const identityAccountEntrySchema = z
  .object({
    identifier: str,
    identityProvider: optStr,
    provider: optStr,
    actions: z.array(str).nullish(),
  })
  .transform((a) => ({
    identifier: a.identifier,
    provider: a.identityProvider ?? a.provider,
    actions: a.actions ?? [],
  }))

export const identityAccountSchema = z.object({
  id: str,
  displayName: optStr,
  domain: optStr,
  onPremisesSecurityIdentifier: optStr,
  cloudSecurityIdentifier: optStr,
  isEnabled: optBool,
  accounts: z
    .array(identityAccountEntrySchema)
    .nullish()
    .transform((v) => v ?? []),
})

const invokeActionResultInner = z
  .object({
    accountId: optStr,
    action: optStr,
    identityProvider: optStr,
    provider: optStr,
    correlationId: optStr,
  })
  .transform((r) => ({
    accountId: r.accountId,
    action: r.action,
    identityProvider: r.identityProvider ?? r.provider,
    correlationId: r.correlationId,
  }))

// The doc example wraps the result (and a single identityAccount) in `value`; a normal Graph
// response does not. Accept both.
export const invokeActionResultSchema = z.union([
  z.object({ value: invokeActionResultInner }).transform((w) => w.value),
  invokeActionResultInner,
])

export const identityAccountMaybeWrappedSchema = z.union([
  z.object({ value: identityAccountSchema }).transform((w) => w.value),
  identityAccountSchema,
])

/**
 * A single riskyUser: the entity itself, as Graph answers single-entity GETs, or wrapped in a
 * one-element `value` array, as the v1.0 riskyuser-get page's example shows it.
 */
export const riskyUserMaybeWrappedSchema = z.union([
  riskyUserSchema,
  z.object({ value: z.tuple([riskyUserSchema]) }).transform((w) => w.value[0]),
])

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    value: z.array(item),
    '@odata.nextLink': optStr,
  })

export const batchResponseSchema = z.object({
  responses: z.array(
    z.object({
      id: str,
      status: z.number().int(),
      headers: z
        .record(z.string(), z.string())
        .nullish()
        .transform((h) => h ?? {}),
      body: z.unknown().optional(),
    }),
  ),
})

export const graphErrorBodySchema = z.object({
  error: z.object({
    code: optStr,
    message: optStr,
    innerError: z
      .object({ 'request-id': optStr, 'client-request-id': optStr, date: optStr })
      .partial()
      .nullish(),
    innererror: z
      .object({ 'request-id': optStr, 'client-request-id': optStr, date: optStr })
      .partial()
      .nullish(),
  }),
})

export type RiskDetection = z.output<typeof riskDetectionSchema>
export type RiskyUser = z.output<typeof riskyUserSchema>
export type RiskyUserHistoryItem = z.output<typeof riskyUserHistoryItemSchema>
export type User = z.output<typeof userSchema>
export type DirectoryObject = z.output<typeof directoryObjectSchema>
export type IdentityAccount = z.output<typeof identityAccountSchema>
export type InvokeActionResult = z.output<typeof invokeActionResultSchema>
