/** The fake tenant's state. Field names follow Graph so responses are projections of these objects. */

export interface MockUser {
  id: string
  userPrincipalName: string
  displayName: string
  accountEnabled: boolean
  /** true for users synced from on-premises AD; null for cloud-only (as Graph returns). */
  onPremisesSyncEnabled: boolean | null
  onPremisesSecurityIdentifier: string | null
  userType: 'Member' | 'Guest'
  /** Holds a directory admin role: sensitive properties need a privileged app role to change. */
  isAdmin: boolean
  signInSessionsValidFromDateTime: string
  lastPasswordChangeDateTime: string
  passwordResets: number
  forceChangePasswordNextSignIn: boolean
}

export interface MockRiskyUser {
  id: string
  /** Identity Protection's own copy: nullable, and it can lag a rename (MDC resources/riskyuser.md). */
  userPrincipalName: string | null
  userDisplayName: string
  riskLevel: string
  riskState: string
  riskDetail: string
  riskLastUpdatedDateTime: string
  isDeleted: boolean
  /** Epoch ms until which isProcessing reads true (after a write). */
  processingUntil: number
  history: MockHistoryItem[]
}

export interface MockHistoryItem {
  id: string
  userId: string
  initiatedBy: string | null
  riskLevel: string
  riskState: string
  riskDetail: string
  riskLastUpdatedDateTime: string
  activity: { riskEventTypes: string[]; detail: string }
}

export interface MockDetection {
  id: string
  requestId: string | null
  correlationId: string | null
  riskEventType: string
  riskLevel: string
  riskState: string
  riskDetail: string
  source: string
  detectionTimingType: string
  activity: string
  tokenIssuerType: string
  ipAddress: string
  location: { city: string; state: string; countryOrRegion: string; geoCoordinates: null }
  activityDateTime: string
  detectedDateTime: string
  lastUpdatedDateTime: string
  userId: string
  userDisplayName: string
  /** Nullable, as on the riskyUser (MDC resources/riskdetection.md). */
  userPrincipalName: string | null
  additionalInfo: string
}

export interface MockGroup {
  id: string
  displayName: string
  /** Direct members: user ids or group ids (nesting). */
  members: string[]
}

export interface MockProviderAccount {
  /** Sent as `provider` with PascalCase values, as every doc example does. */
  provider: 'ActiveDirectory' | 'EntraID' | 'Okta'
  identifier: string
  actions: string[]
}

export interface MockIdentityAccount {
  id: string
  displayName: string
  domain: string
  onPremisesSecurityIdentifier: string
  cloudSecurityIdentifier: string
  isEnabled: boolean
  accounts: MockProviderAccount[]
  /** The Entra user this identity is (not serialized). */
  userId: string
}

export interface MockApp {
  clientId: string
  displayName: string
  secrets: Array<{ value: string; expiresAt: number }>
  /** SHA-256 thumbprints (hex) and PEM of certificates registered on the app. */
  certificates: Array<{ thumbprintSha256: string; pem: string }>
  /** Microsoft Graph application permissions granted (app roles). */
  roles: string[]
  /** Directory roles held by the app's service principal (e.g. 'User Administrator'). */
  directoryRoles: string[]
  /** When set, the managed-identity endpoint issues this app's tokens for that client id. */
  managedIdentityClientId?: string
  /** Managed identities (client ids) this app trusts through a federated identity credential. */
  federatedManagedIdentities?: string[]
}

/** A password credential. `secretText` is held only so tests can prove it never leaves the mock. */
export interface MockPasswordCredential {
  keyId: string
  displayName: string
  hint: string
  startDateTime: string
  endDateTime: string
  /** Never served: Graph returns secretText only from addPassword (MDC resources/passwordcredential.md). */
  secretText: string
}

/** A key credential; `key` is the certificate's data, served only on `$select=keyCredentials`. */
export interface MockKeyCredential {
  keyId: string
  displayName: string
  type: string
  usage: string
  startDateTime: string
  endDateTime: string
  key: string
}

/** A service principal in this tenant (MDC resources/serviceprincipal.md). */
export interface MockServicePrincipal {
  id: string
  appId: string
  displayName: string
  /** The tenant that registered the app: this tenant, another one (multi-tenant app), or Microsoft's. */
  appOwnerOrganizationId: string | null
  /** Application, ManagedIdentity, Legacy, SocialIdp (an evolvable set). */
  servicePrincipalType: string
  accountEnabled: boolean
  passwordCredentials: MockPasswordCredential[]
  keyCredentials: MockKeyCredential[]
  /** Client ids of apps that own this object (Application.ReadWrite.OwnedBy reaches only these). */
  owners: string[]
}

/** An application registration of this tenant (MDC resources/application.md). */
export interface MockApplication {
  id: string
  appId: string
  displayName: string
  passwordCredentials: MockPasswordCredential[]
  keyCredentials: MockKeyCredential[]
  owners: string[]
}

/** Identity Protection's record of a risky service principal (MDC resources/riskyserviceprincipal.md). */
export interface MockRiskyServicePrincipal {
  /** The service principal's object id. */
  id: string
  riskLevel: string
  riskState: string
  riskDetail: string
  riskLastUpdatedDateTime: string
  processingUntil: number
}

/** A service principal risk detection (MDC resources/serviceprincipalriskdetection.md). */
export interface MockServicePrincipalDetection {
  id: string
  requestId: string | null
  correlationId: string | null
  riskEventType: string
  riskLevel: string
  riskState: string
  riskDetail: string
  source: string
  detectionTimingType: string
  activity: string
  tokenIssuerType: string
  ipAddress: string | null
  activityDateTime: string
  detectedDateTime: string
  lastUpdatedDateTime: string
  servicePrincipalId: string
  servicePrincipalDisplayName: string
  appId: string
  /** The credentials the detection names (a leaked secret's keyId). */
  keyIds: string[]
  additionalInfo: string
}

/** What the tenant did, one entry per effective action: the basis of "nothing twice" assertions. */
export interface MockAction {
  kind:
    | 'confirmCompromised'
    | 'dismiss'
    | 'confirmSafe'
    | 'revokeSignInSessions'
    | 'disable'
    | 'enable'
    | 'resetPassword'
    | `mdi:${string}`
    | 'sp:confirmCompromised'
    | 'sp:dismiss'
    | 'sp:disable'
    | 'sp:enable'
    | 'sp:removePassword'
    | 'sp:removeKey'
    | 'app:removePassword'
    | 'app:removeKey'
  /** The user's object id; for sp:/app: kinds, the service principal's or application's. */
  userId: string
  at: number
  appId: string
  /** Defender for Identity correlation id, for mdi actions. */
  correlationId?: string
  /** The credential removed, for removePassword / removeKey. */
  keyId?: string
}
