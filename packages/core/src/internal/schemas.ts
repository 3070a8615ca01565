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

/**
 * A risky service principal (MDC resources/riskyserviceprincipal.md). `servicePrincipalType` and the
 * risk enums are evolvable: open strings.
 */
export const riskyServicePrincipalSchema = z.object({
  id: str,
  appId: optStr,
  displayName: optStr,
  isEnabled: optBool,
  isProcessing: optBool,
  riskLevel: str,
  riskState: str,
  riskDetail: optStr,
  riskLastUpdatedDateTime: optStr,
  servicePrincipalType: optStr,
})

/**
 * A single riskyServicePrincipal: the entity, or wrapped in `value` as an object, as the v1.0
 * riskyserviceprincipal-get page's example shows it (unlike riskyUser's one-element array).
 */
export const riskyServicePrincipalMaybeWrappedSchema = z.preprocess((v) => {
  // Unwrapped before parsing, so a bad field is reported by its own name, not as "Invalid input".
  if (typeof v !== 'object' || v === null || 'id' in v) return v
  const inner = (v as { value?: unknown }).value
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : v
}, riskyServicePrincipalSchema)

/**
 * A service principal risk detection (MDC resources/serviceprincipalriskdetection.md). The docs
 * example's ids are not GUIDs ("...286grg") and its lastUpdatedDateTime ends in ')': ids and times
 * stay strings here, checked where they are used.
 */
export const servicePrincipalRiskDetectionSchema = z.object({
  id: str,
  servicePrincipalId: str,
  servicePrincipalDisplayName: optStr,
  appId: optStr,
  riskEventType: str,
  riskLevel: str,
  riskState: optStr,
  riskDetail: optStr,
  source: optStr,
  detectionTimingType: optStr,
  activity: optStr,
  detectedDateTime: str,
  activityDateTime: optStr,
  lastUpdatedDateTime: optStr,
  keyIds: z
    .array(str)
    .nullish()
    .transform((v) => v ?? []),
})

/**
 * A password credential as a GET returns it: never the secret (`secretText` is returned only by
 * addPassword), only its id, name, dates and `hint` (its first characters, shown in the portal).
 */
export const passwordCredentialSchema = z.object({
  keyId: str,
  displayName: optStr,
  hint: optStr,
  startDateTime: optStr,
  endDateTime: optStr,
})

/** A key credential's metadata. The certificate data (`key`) is deliberately not kept. */
export const keyCredentialSchema = z.object({
  keyId: str,
  displayName: optStr,
  type: optStr,
  usage: optStr,
  startDateTime: optStr,
  endDateTime: optStr,
})

const credentials = {
  passwordCredentials: z
    .array(passwordCredentialSchema)
    .nullish()
    .transform((v) => v ?? []),
  keyCredentials: z
    .array(keyCredentialSchema)
    .nullish()
    .transform((v) => v ?? []),
}

/** The directory's service principal (MDC resources/serviceprincipal.md). */
export const servicePrincipalSchema = z.object({
  id: str,
  appId: optStr,
  displayName: optStr,
  appOwnerOrganizationId: optStr,
  servicePrincipalType: optStr,
  accountEnabled: optBool,
  ...credentials,
})

/** An application registration (MDC resources/application.md): only where its credentials live. */
export const applicationSchema = z.object({
  id: str,
  appId: optStr,
  displayName: optStr,
  ...credentials,
})

/**
 * The key credentials of one object read with `$select=keyCredentials`: the only read that returns
 * each certificate's `key`, which a PATCH of the list must carry for the keys it keeps
 * (MDC resources/keycredential.md). Passed through untouched, never logged or returned.
 */
export const rawKeyCredentialsSchema = z.object({
  keyCredentials: z
    .array(z.looseObject({ keyId: str }))
    .nullish()
    .transform((v) => v ?? []),
})

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
export type RiskyServicePrincipal = z.output<typeof riskyServicePrincipalSchema>
export type ServicePrincipalRiskDetection = z.output<typeof servicePrincipalRiskDetectionSchema>
export type ServicePrincipal = z.output<typeof servicePrincipalSchema>
export type Application = z.output<typeof applicationSchema>
export type PasswordCredential = z.output<typeof passwordCredentialSchema>
export type KeyCredential = z.output<typeof keyCredentialSchema>
