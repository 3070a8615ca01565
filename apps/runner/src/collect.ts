/**
 * Collects the signals the policy decides on, with the fewest requests Graph's budgets allow:
 * Identity Protection's risky users and detections (evidence/read.ts: everything in the lookback,
 * or what changed since the last run, decision 015), directory facts through $batch (20 users a
 * request) for the users whose signals changed, exclusion groups, and Defender for Identity
 * accounts of the synced users the plan would act on through Defender for Identity ($batch, under
 * their own budget).
 */
import { type GraphClient, USER_SELECT } from '@tourniquet/core'
import { evaluate, type Policy, type Signals, type UserSignals } from '@tourniquet/policy'
import { unavailableApis } from './cloud.js'
import {
  FilterRefused,
  type Reading,
  readAllDetections,
  readAllRiskyUsers,
  readChanges,
} from './evidence/read.js'
import { type EvidenceState, emptyState, policyDigest, signalsOf } from './evidence/state.js'

export interface CollectNotes {
  riskyUsers: number
  detections: number
  warnings: string[]
  /** The `exclude.users` UPNs the directory does not know (or could not be asked about): the run is refused. */
  unresolvedExclusions: string[]
}

/** How Identity Protection was read this run, for the plan and summary lines. */
export interface Collection {
  kind: 'full' | 'incremental'
  /** Why a full collection ran: no state yet, the policy changed, the daily reconciliation, a refused filter. */
  reason?: string
}

export interface CollectOptions {
  signal: AbortSignal | undefined
  tenantId: string
  settings: { mode: 'incremental' | 'full'; overlapMs: number; reconcileEveryMs: number }
  /** The state the last run left: undefined when there is none or it cannot be used. */
  previous: EvidenceState | undefined
}

export interface Collected {
  signals: Signals
  notes: CollectNotes
  /** The policy with exclusions by object id: evaluate it, not the one passed in. */
  policy: Policy
  /** The state to keep for the next run. */
  state: EvidenceState
  collection: Collection
  /** The users whose signals this run read afresh (all of them in a full collection). */
  touched: ReadonlySet<string>
  /** Whether the state differs from the one the run started from (an unchanged one is not saved again). */
  changed: boolean
}

/**
 * Collects the signals, first resolving every `exclude.users` UPN to its object id. The returned
 * policy lists exclusions by object id only: a user is excluded by who they are, not by a UPN copy
 * that may be null or lag a rename (Identity Protection's).
 */
export async function collectSignals(
  client: GraphClient,
  policy: Policy,
  now: Date,
  options: CollectOptions,
): Promise<Collected> {
  const { signal } = options
  const notes: CollectNotes = { riskyUsers: 0, detections: 0, warnings: [], unresolvedExclusions: [] }
  const upns = new Map<string, string>()
  const byId = await resolveExclusions(client, policy, { notes, upns, signal })
  const reading: Reading = { client, policy: byId, now, notes, signal }
  const { state, touched, sids, collection, changed } = await readEvidence(reading, policy, options)
  const signals = signalsOf(state)
  // An excluded user whose directory facts could not be read is still named by the directory's UPN.
  for (const user of signals.users) {
    const upn = upns.get(user.userId)
    if (upn !== undefined && user.directory === undefined) user.userPrincipalName = upn
  }
  signals.groupMembers = await readExclusionGroups(reading)
  const unavailable = unavailableApis(policy, client.endpoints.cloud)
  if (unavailable) signals.unavailable = unavailable
  else await readDefenderIdentities(reading, signals, sids)
  keepDefenderFacts(state, signals, touched)
  return { signals, notes, policy: byId, state, collection, touched, changed: changed || touched.size > 0 }
}

/** Why this run cannot be incremental, or undefined when it can. */
export function fullReason(
  previous: EvidenceState | undefined,
  {
    tenantId,
    digest,
    now,
    settings,
  }: { tenantId: string; digest: string; now: Date; settings: CollectOptions['settings'] },
): string | undefined {
  if (settings.mode === 'full') return 'TOURNIQUET_COLLECTION is full'
  if (previous === undefined) return 'no evidence state yet'
  if (previous.tenantId !== tenantId) return 'the evidence state is of another tenant'
  if (previous.policyDigest !== digest) return 'the policy changed'
  if (previous.fullAt === undefined) return 'the last full collection was cut short'
  const since = now.getTime() - Date.parse(previous.fullAt)
  if (since >= settings.reconcileEveryMs || since < 0)
    return `reconciliation: the last full collection was at ${previous.fullAt}`
  if (
    previous.refusedAt !== undefined &&
    now.getTime() - Date.parse(previous.refusedAt) < settings.reconcileEveryMs
  )
    return `the service refused a last-updated filter at ${previous.refusedAt}; it is tried again at the next reconciliation`
  return undefined
}

/** Identity Protection's side (incremental when it can be), then the directory facts of the users it touched. */
async function readEvidence(
  reading: Reading,
  policy: Policy,
  options: CollectOptions,
): Promise<{
  state: EvidenceState
  touched: Set<string>
  sids: Map<string, string>
  collection: Collection
  changed: boolean
}> {
  const digest = policyDigest(policy)
  const { previous, tenantId, settings } = options
  let reason = fullReason(previous, { tenantId, digest, now: reading.now, settings })
  let refusedAt: string | undefined
  if (reason === undefined && previous !== undefined) {
    const changes = await readChanges(reading, previous, settings.overlapMs)
    if (!(changes instanceof FilterRefused)) {
      // Users without directory facts (a failed read) are asked again each run.
      for (const u of changes.state.users.values())
        if (u.directory === undefined) changes.touched.add(u.userId)
      const sids = await readDirectoryFacts(reading, changes.state, changes.touched)
      return { ...changes, sids, collection: { kind: 'incremental' } }
    }
    refusedAt = reading.now.toISOString()
    reason = `fallback: the service refused a last-updated filter (${changes.message}); reading the whole lookback with the documented filters`
    reading.notes.warnings.push(`incremental collection: ${reason}`)
  }
  const state = emptyState(tenantId, digest)
  state.refusedAt = refusedAt ?? previous?.refusedAt
  const complete = await readAllRiskyUsers(reading, state)
  const touched = new Set(state.users.keys())
  // Detections (Identity Protection budget) and directory facts ($batch, directory budget) do not
  // compete for a budget: read them side by side.
  const [, sids] = await Promise.all([
    readAllDetections(reading, state),
    readDirectoryFacts(reading, state, touched),
  ])
  if (complete) state.fullAt = reading.now.toISOString()
  return {
    state,
    touched,
    sids,
    collection: { kind: 'full', reason: reason ?? 'full collection' },
    changed: true,
  }
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

/**
 * The directory facts of the given risky users, into the state; returns the on-premises SIDs of
 * the synced ones. Their Defender for Identity facts are dropped: they are looked up again.
 */
async function readDirectoryFacts(
  { client, notes, signal }: Reading,
  state: EvidenceState,
  ids: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const sids = new Map<string, string>()
  const wanted = [...ids].filter((id) => state.users.has(id))
  if (wanted.length === 0) return sids
  // Handled as each $batch round answers: 10,000 users' facts are never all in memory at once.
  for await (const [id, fact] of client.users.getEach(wanted, { select: USER_SELECT, signal })) {
    const user = state.users.get(id)
    if (!user) continue
    user.defender = undefined
    user.defenderNote = undefined
    if (fact instanceof Error) {
      user.directory = undefined
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

/** What the Defender for Identity lookups found for the users read afresh, kept for the next run. */
function keepDefenderFacts(state: EvidenceState, signals: Signals, touched: ReadonlySet<string>): void {
  for (const user of signals.users) {
    if (!touched.has(user.userId)) continue
    const stored = state.users.get(user.userId)
    if (stored === undefined) continue
    stored.defender = user.defender
    stored.defenderNote = user.defenderNote
  }
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
