/**
 * Collects the signals the policy decides on, with the fewest requests Graph's budgets allow:
 * risky users (paged at 500), detections in the lookback (paged at 500), directory facts through
 * $batch (20 users a request), exclusion groups, and Defender for Identity accounts of the synced
 * users the plan would act on through Defender for Identity ($batch, under their own budget).
 */
import {
  type GraphClient,
  isGraphError,
  RISK_DETECTION_SELECT,
  RISKY_USER_SELECT,
  USER_SELECT,
} from '@tourniquet/core'
import {
  DEFAULT_RISK_STATES,
  type DetectionSignal,
  evaluate,
  type Policy,
  type Signals,
  type UserSignals,
} from '@tourniquet/policy'
import { unavailableApis } from './cloud.js'

export interface CollectNotes {
  riskyUsers: number
  detections: number
  warnings: string[]
  /** The `exclude.users` UPNs the directory does not know (or could not be asked about): the run is refused. */
  unresolvedExclusions: string[]
}

/** What one collection reads with, and writes its notes to. */
interface Reading {
  client: GraphClient
  policy: Policy
  now: Date
  notes: CollectNotes
  signal: AbortSignal | undefined
}

/**
 * Collects the signals, first resolving every `exclude.users` UPN to its object id. The returned
 * policy lists exclusions by object id only: a user is excluded by who they are, not by a UPN copy
 * that may be null or lag a rename (Identity Protection's), so evaluate it, not the one passed in.
 */
export async function collectSignals(
  client: GraphClient,
  policy: Policy,
  now: Date,
  signal: AbortSignal | undefined,
): Promise<{ signals: Signals; notes: CollectNotes; policy: Policy }> {
  const notes: CollectNotes = { riskyUsers: 0, detections: 0, warnings: [], unresolvedExclusions: [] }
  const upns = new Map<string, string>()
  const byId = await resolveExclusions(client, policy, { notes, upns, signal })
  const reading: Reading = { client, policy: byId, now, notes, signal }
  const risky = await readRiskyUsers(reading)
  // Detections (Identity Protection budget) and directory facts ($batch, directory budget) do not
  // compete for a budget: read them side by side.
  const [, sids] = await Promise.all([readDetections(reading, risky), readDirectoryFacts(reading, risky)])
  // An excluded user whose directory facts could not be read is still named by the directory's UPN.
  for (const [id, upn] of upns) {
    const user = risky.get(id)
    if (user && user.directory === undefined) user.userPrincipalName = upn
  }
  const signals: Signals = { users: [...risky.values()], groupMembers: await readExclusionGroups(reading) }
  const unavailable = unavailableApis(policy, client.endpoints.cloud)
  if (unavailable) signals.unavailable = unavailable
  else await readDefenderIdentities(reading, signals, sids)
  return { signals, notes, policy: byId }
}

/**
 * The policy with each `exclude.users` UPN replaced by the object id the directory gives it now.
 * A UPN that does not resolve is noted (the caller refuses the run, as for an unreadable exclusion
 * group): guessing would risk acting on a break-glass account.
 */
async function resolveExclusions(
  client: GraphClient,
  policy: Policy,
  {
    notes,
    upns,
    signal,
  }: { notes: CollectNotes; upns: Map<string, string>; signal: AbortSignal | undefined },
): Promise<Policy> {
  const ids: string[] = []
  for (const entry of policy.exclude.users) {
    // The schema admits a GUID or a UPN; only a UPN has an '@'.
    if (!entry.includes('@')) {
      ids.push(entry.toLowerCase())
      continue
    }
    try {
      const user = await client.users.get(entry, { select: ['id', 'userPrincipalName'], signal })
      ids.push(user.id.toLowerCase())
      upns.set(user.id, user.userPrincipalName ?? entry)
    } catch (e) {
      if (signal?.aborted) throw e
      notes.unresolvedExclusions.push(entry)
      notes.warnings.push(
        `exclude.users: ${entry} could not be resolved to an object id (${(e as Error).message})`,
      )
    }
  }
  return { ...policy, exclude: { ...policy.exclude, users: ids } }
}

/** The risky users any rule can match (by risk level and state), keyed by user id. */
async function readRiskyUsers({ client, policy, notes, signal }: Reading): Promise<Map<string, UserSignals>> {
  const levels = policy.rules.every((r) => r.when.riskLevel)
    ? [...new Set(policy.rules.flatMap((r) => r.when.riskLevel ?? []))]
    : undefined
  const states = [...new Set(policy.rules.flatMap((r) => r.when.riskState ?? DEFAULT_RISK_STATES))]
  const risky = new Map<string, UserSignals>()
  let read = 0
  try {
    for await (const u of client.riskyUsers.list(
      { riskLevels: levels, riskStates: states, select: RISKY_USER_SELECT },
      { signal },
    )) {
      read++
      if (u.isDeleted) continue
      risky.set(u.id, {
        userId: u.id,
        userPrincipalName: u.userPrincipalName ?? u.id,
        risk: { level: u.riskLevel, state: u.riskState, detail: u.riskDetail },
        detections: [],
      })
    }
  } catch (e) {
    // A reported service quirk: the last page's nextLink answers 400 (graph-contract.md Corrections
    // 6). A refused next page after users were read ends the list with a warning: the users read are
    // acted on (the guardrails still count them), any others are read by the next run. A 400 before
    // any user was read is a real error (a refused filter, say).
    if (!(isGraphError(e) && e.status === 400 && read > 0)) throw e
    notes.warnings.push(
      `riskyUsers: the service refused the next page after ${read} risky users (400, a known quirk of the last page); they are acted on, any others are read by the next run`,
    )
  }
  notes.riskyUsers = risky.size
  return risky
}

/** Every detection in the lookback, attached to its risky user. */
async function readDetections(
  { client, policy, now, notes, signal }: Reading,
  risky: Map<string, UserSignals>,
): Promise<void> {
  const since = new Date(now.getTime() - policy.lookback)
  for await (const d of client.riskDetections.list({ since, select: RISK_DETECTION_SELECT }, { signal })) {
    notes.detections++
    const user = risky.get(d.userId)
    if (!user) continue
    const detection: DetectionSignal = {
      id: d.id,
      riskEventType: d.riskEventType,
      riskLevel: d.riskLevel,
      source: d.source,
      detectedDateTime: d.detectedDateTime,
      detectionTimingType: d.detectionTimingType,
    }
    user.detections.push(detection)
  }
}

/** The directory facts of each risky user; returns the on-premises SIDs of the synced ones. */
async function readDirectoryFacts(
  { client, notes, signal }: Reading,
  risky: Map<string, UserSignals>,
): Promise<Map<string, string>> {
  const sids = new Map<string, string>()
  if (risky.size === 0) return sids
  // Handled as each $batch round answers: 10,000 users' facts are never all in memory at once.
  for await (const [id, fact] of client.users.getEach([...risky.keys()], { select: USER_SELECT, signal })) {
    const user = risky.get(id)
    if (!user) continue
    if (fact instanceof Error) {
      notes.warnings.push(`directory facts of ${user.userPrincipalName} could not be read (${fact.message})`)
      continue
    }
    // The directory's UPN, not Identity Protection's copy (nullable, and it lags a rename).
    if (fact.userPrincipalName) user.userPrincipalName = fact.userPrincipalName
    user.directory = {
      accountEnabled: fact.accountEnabled ?? true,
      onPremisesSyncEnabled: fact.onPremisesSyncEnabled === true,
      userType: fact.userType ?? 'Member',
    }
    if (fact.onPremisesSyncEnabled === true && fact.onPremisesSecurityIdentifier)
      sids.set(id, fact.onPremisesSecurityIdentifier)
  }
  return sids
}

/** The transitive members of each exclusion group; a group that cannot be read is left out. */
async function readExclusionGroups({
  client,
  policy,
  notes,
  signal,
}: Reading): Promise<Record<string, string[]>> {
  const groupMembers: Record<string, string[]> = {}
  for (const groupId of policy.exclude.groups) {
    try {
      const members: string[] = []
      for await (const m of client.groups.transitiveMembers(groupId, { signal })) members.push(m.id)
      groupMembers[groupId] = members
    } catch (e) {
      // Left out on purpose: the evaluator refuses a run whose exclusions are unknown.
      notes.warnings.push(`members of exclusion group ${groupId} could not be read (${(e as Error).message})`)
    }
  }
  return groupMembers
}

/**
 * Finds the Defender for Identity identity of each synced user the plan would act on through it:
 * the plan is evaluated once without them, and only the users it sends to Defender for Identity
 * are looked up, by SID, 20 a `$batch` under that API's own budget. An identity counts only when
 * exactly one carries exactly the user's SID (the filter is the service's; the check is ours).
 */
async function readDefenderIdentities(
  { client, policy, now, notes, signal }: Reading,
  signals: Signals,
  sids: Map<string, string>,
): Promise<void> {
  if (sids.size === 0) return
  const wanted = new Set(
    evaluate(policy, signals, now)
      .skips.filter((s) => s.reason === 'noDefenderAccount')
      .map((s) => s.userId),
  )
  const byUser = new Map(signals.users.map((u) => [u.userId, u]))
  const usersOfSid = new Map<string, UserSignals>()
  for (const id of wanted) {
    const sid = sids.get(id)
    const user = byUser.get(id)
    if (sid !== undefined && user !== undefined) usersOfSid.set(sid.toUpperCase(), user)
  }
  for await (const [sid, found] of client.identityAccounts.findBySids([...usersOfSid.keys()], { signal })) {
    const user = usersOfSid.get(sid) as UserSignals
    if (found instanceof Error) {
      notes.warnings.push(
        `Defender for Identity account of ${user.userPrincipalName} could not be read (${found.message})`,
      )
      continue
    }
    const exact = found.filter((i) => i.onPremisesSecurityIdentifier?.toUpperCase() === sid)
    if (exact.length !== 1) {
      user.defenderNote =
        exact.length === 0
          ? found.length === 0
            ? 'no Defender for Identity account was found'
            : `no Defender for Identity identity carries exactly its SID (${found.length} returned by the filter)`
          : `${exact.length} Defender for Identity identities carry its SID, so none is trusted`
      continue
    }
    const identity = exact[0] as (typeof exact)[number]
    user.defender = {
      identityAccountId: identity.id,
      accounts: identity.accounts.map((a) => ({
        provider: a.provider ?? 'unknown',
        identifier: a.identifier,
        actions: a.actions,
      })),
    }
  }
}
