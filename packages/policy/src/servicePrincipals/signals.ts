/** What the service-principal evaluator knows: collected by the runner, or written in case files. */

export interface ServicePrincipalDetectionSignal {
  id: string
  riskEventType: string
  riskLevel?: string | undefined
  detectedDateTime: string
  /** The credentials the detection names (servicePrincipalRiskDetection.keyIds). */
  keyIds?: readonly string[] | undefined
}

/** A credential's metadata: never its secret or certificate data. */
export interface CredentialFact {
  kind: 'password' | 'key'
  keyId: string
  /** When the credential became valid: credentials "added within the lookback" start inside it. */
  startDateTime?: string | undefined
  displayName?: string | undefined
  /** A password's hint (its first characters). */
  hint?: string | undefined
}

/** The directory's service principal (GET /servicePrincipals/{id}). */
export interface ServicePrincipalFacts {
  accountEnabled: boolean
  servicePrincipalType: string
  /** The tenant that registered the app; null or undefined for managed identities. */
  appOwnerOrganizationId: string | null | undefined
  credentials: readonly CredentialFact[]
}

/** The app registration in this tenant (GET /applications(appId=...)), when there is one. */
export interface ApplicationFacts {
  objectId: string
  credentials: readonly CredentialFact[]
}

export interface ServicePrincipalSignals {
  servicePrincipalId: string
  appId?: string | undefined
  displayName?: string | undefined
  risk: { level: string; state: string; detail?: string | undefined }
  detections: readonly ServicePrincipalDetectionSignal[]
  /** Undefined when the service principal could not be read: no route can then be chosen. */
  directory?: ServicePrincipalFacts | undefined
  /** Undefined when this tenant holds no application object for the appId (or it was not read). */
  application?: ApplicationFacts | undefined
}

export interface WorkloadSignals {
  /** This tenant's id: an app whose appOwnerOrganizationId is it is "thisTenant". */
  tenantId: string
  /** Tourniquet's own service principal: never touched, whatever the policy says. */
  self: { servicePrincipalId?: string | undefined; appId: string }
  servicePrincipals: readonly ServicePrincipalSignals[]
  /**
   * Each entry of `servicePrincipals.exclude.servicePrincipals` (object id or appId, as written) ->
   * the object id of the service principal it names, or null when the lookup found none. An entry
   * missing or null refuses the run.
   */
  exclusions?: Readonly<Record<string, string | null>>
}
