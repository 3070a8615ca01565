/** What the evaluator knows about each risky user: collected by the runner, or written in case files. */

export interface DetectionSignal {
  id: string
  riskEventType: string
  riskLevel?: string | undefined
  source?: string | undefined
  detectedDateTime: string
  detectionTimingType?: string | undefined
}

export interface DirectoryFacts {
  accountEnabled: boolean
  /** true for users synced from on-premises AD. */
  onPremisesSyncEnabled: boolean
  userType: 'Member' | 'Guest' | string
}

export interface DefenderAccount {
  provider: string
  identifier: string
  actions: string[]
}

export interface DefenderIdentitySignal {
  identityAccountId: string
  accounts: DefenderAccount[]
}

export interface UserSignals {
  userId: string
  userPrincipalName: string
  risk: { level: string; state: string; detail?: string | undefined }
  detections: DetectionSignal[]
  /** Undefined when the directory could not be read for this user: no route can then be chosen. */
  directory?: DirectoryFacts | undefined
  /** The Defender for Identity identity of a synced user, when one was found. */
  defender?: DefenderIdentitySignal | undefined
  /** Why no Defender for Identity identity is known, when the lookup said more than "none found". */
  defenderNote?: string | undefined
}

export interface Signals {
  users: UserSignals[]
  /**
   * APIs this tenant's cloud does not offer, with the reason to show: their routes become skips.
   * Only Defender for Identity can be missing here; a cloud without Identity Protection cannot run.
   */
  unavailable?: { defenderForIdentity?: string | undefined }
  /** Transitive user members of each exclusion group (object ids). */
  groupMembers?: Record<string, readonly string[]>
}
