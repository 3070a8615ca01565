/**
 * Collects what the policy decides on, with the fewest requests Graph's budgets allow: Identity
 * Protection's risky users and detections (evidence/read.ts: everything in the lookback, or what
 * changed since the last run, decision 015), directory facts through $batch (20 users a request)
 * for the users whose signals changed, and the exclusions. What the steps about to be sent rest on
 * and this run did not read is read afterwards, by fresh.ts, once the ledger has said which steps
 * those are.
 */
import type { GraphClient } from '@tourniquet/core'
import type { Policy, Signals } from '@tourniquet/policy'
import {
  cutShort,
  FilterRefused,
  type Freshness,
  FutureWatermark,
  ReadCutShort,
  type Reading,
  ResumeRefused,
  type RiskyUsersRead,
  readAllDetections,
  readAllRiskyUsers,
  readChanges,
  UnusableBody,
} from '../evidence/read.js'
import {
  copyState,
  type EvidenceState,
  emptyState,
  policyDigest,
  unusableDetections,
} from '../evidence/state.js'
import { unavailableApis } from './cloud.js'
import { readDirectoryFacts } from './fresh.js'

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
  /** Whether an incremental run reads the changed risky users when no detection changed (readChanges). */
  riskyUsers?: RiskyUsersRead
  /** The state the last run left: undefined when there is none or it cannot be used. */
  previous: EvidenceState | undefined
  /** Collect in full for this reason, whatever the state (the fresh facts would cost more one by one). */
  full?: string | undefined
  /** What this run has read from Graph so far (a collection run again after an incremental one adds to it). */
  fresh: Freshness
}

export interface Collected {
  notes: CollectNotes
  /** The policy with exclusions by object id: evaluate it, not the one passed in. */
  policy: Policy
  /** The state to keep for the next run (fresh.ts adds what it reads). */
  state: EvidenceState
  collection: Collection
  /** The users whose signals changed this run (all of them in a full collection). */
  touched: ReadonlySet<string>
  /** Whether the state differs from the one the run started from (an unchanged one is not saved again). */
  changed: boolean
  /** What the signals carry besides the state. */
  extras: Pick<Signals, 'groupMembers' | 'unavailable'> & { upns: ReadonlyMap<string, string> }
  /**
   * Why a full collection stopped before its end (the deadline, a stop): the state then holds what
   * was read and where to resume (`progress`); the run saves it and ends with this error.
   */
  cutShort?: unknown
}

/**
 * Collects, first resolving every `exclude.users` UPN to its object id. The returned policy lists
 * exclusions by object id only: a user is excluded by who they are, not by a UPN copy that may be
 * null or lag a rename (Identity Protection's).
 */
export async function collectSignals(
  client: GraphClient,
  policy: Policy,
  now: Date,
  options: CollectOptions,
): Promise<Collected> {
  const { signal, fresh } = options
  const notes: CollectNotes = { riskyUsers: 0, detections: 0, warnings: [], unresolvedExclusions: [] }
  const upns = new Map<string, string>()
  const byId = await resolveExclusions(client, policy, { notes, upns, signal })
  const reading: Reading = { client, policy: byId, now, notes, signal, fresh }
  const { state, touched, collection, changed, cutShort } = await readEvidence(reading, policy, options)
  if (cutShort !== undefined)
    return { notes, policy: byId, state, collection, touched, changed: true, extras: { upns }, cutShort }
  const groupMembers = await readExclusionGroups(reading)
  const unavailable = unavailableApis(policy, client.endpoints.cloud)
  return {
    notes,
    policy: byId,
    state,
    collection,
    touched,
    changed: changed || touched.size > 0,
    extras: { groupMembers, ...(unavailable ? { unavailable } : {}), upns },
  }
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
  if (previous.fullAt === undefined)
    return previous.progress === undefined
      ? 'the last full collection was cut short'
      : `resuming the full collection cut short (${previous.users.size} risky users read so far)`
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
  collection: Collection
  changed: boolean
  cutShort?: unknown
}> {
  const digest = policyDigest(policy)
  const { previous, tenantId, settings } = options
  const directory = { ...reading, warnings: reading.notes.warnings }
  let reason = options.full ?? fullReason(previous, { tenantId, digest, now: reading.now, settings })
  let refusedAt: string | undefined
  if (reason === undefined && previous !== undefined) {
    const changes = await readChanges(reading, previous, settings.overlapMs, options.riskyUsers)
    if (
      !(
        changes instanceof FilterRefused ||
        changes instanceof FutureWatermark ||
        changes instanceof UnusableBody
      )
    ) {
      // Users without directory facts (a failed read) are asked again each run.
      for (const u of changes.state.users.values())
        if (u.directory === undefined) changes.touched.add(u.userId)
      await readDirectoryFacts({ ...directory, state: changes.state }, changes.touched)
      return { ...changes, collection: { kind: 'incremental' } }
    }
    if (changes instanceof FutureWatermark || changes instanceof UnusableBody) {
      reason = `the evidence state cannot be used: ${changes.message}`
      reading.notes.warnings.push(`incremental collection: ${reason}; collecting in full`)
    } else {
      refusedAt = reading.now.toISOString()
      reason = `fallback: the service refused a last-updated filter (${changes.message}); reading the whole lookback with the documented filters`
      reading.notes.warnings.push(`incremental collection: ${reason}`)
    }
  }
  const resumed =
    options.full === undefined ? resumable(previous, reading, { tenantId, digest, settings }) : undefined
  const state = resumed ?? emptyState(tenantId, digest)
  if (resumed === undefined) state.refusedAt = refusedAt ?? previous?.refusedAt
  const collection: Collection = { kind: 'full', reason: reason ?? 'full collection' }
  let read = await readInFull(reading, state, directory)
  if (read instanceof ResumeRefused) {
    reading.notes.warnings.push(
      `the full collection could not be resumed where it stopped (${read.message}); it starts over`,
    )
    const fresh = emptyState(tenantId, digest)
    fresh.refusedAt = previous?.refusedAt
    read = await readInFull(reading, fresh, directory)
    if (read instanceof ResumeRefused) throw new Error('unreachable: a read from the start resumes nothing')
  }
  return { ...read, collection, changed: true }
}

/**
 * The state of a full collection an earlier run cut short, to go on with: the same tenant and
 * policy (fullReason checked both), and a start Graph's clock has reached (a state is input: a
 * forged cursor can only name a page of the same list, and a forged user only costs reads).
 */
function resumable(
  previous: EvidenceState | undefined,
  reading: Reading,
  { tenantId, digest, settings }: { tenantId: string; digest: string; settings: CollectOptions['settings'] },
): EvidenceState | undefined {
  if (previous?.progress === undefined || previous.fullAt !== undefined) return undefined
  // A collection in full by setting, for another tenant or another policy starts over.
  if (settings.mode === 'full' || previous.tenantId !== tenantId || previous.policyDigest !== digest)
    return undefined
  const graphNow = reading.fresh.graphTime ?? reading.now.getTime()
  const starts = [previous.progress.users.startedAt, previous.progress.detections.startedAt]
  if (starts.some((t) => t !== undefined && Date.parse(t) > graphNow + 5 * 60_000)) return undefined
  const copy = copyState(previous)
  // What it read so far, parsed whole now: a part that cannot be used starts the collection over.
  return unusableDetections(copy) === undefined ? copy : undefined
}

/**
 * The full read of both lists, each from where an earlier part stopped, with the directory facts of
 * the users read now (and of any still without them). Cut short, the state says where to resume.
 */
async function readInFull(
  reading: Reading,
  state: EvidenceState,
  directory: Reading & { warnings: string[] },
): Promise<{ state: EvidenceState; touched: Set<string>; cutShort?: unknown } | ResumeRefused> {
  const progress = state.progress ?? { users: { done: false }, detections: { done: false } }
  const before = new Set(state.users.keys())
  const users = progress.users.done ? true : await readAllRiskyUsers(reading, state, progress.users)
  if (users instanceof ResumeRefused) return users
  const touched = new Set(state.users.keys())
  const unread = [...state.users.values()].filter((u) => !before.has(u.userId) || u.directory === undefined)
  const needDirectory = new Set(unread.map((u) => u.userId))
  if (users instanceof ReadCutShort) {
    state.progress = { users: users.progress, detections: progress.detections }
    return { state, touched, cutShort: users.cause }
  }
  // Detections (Identity Protection budget) and directory facts ($batch, directory budget) do not
  // compete for a budget: read them side by side. Either may be cut short; what was read is kept.
  const [detections, facts] = await Promise.allSettled([
    progress.detections.done ? undefined : readAllDetections(reading, state, progress.detections),
    readDirectoryFacts({ ...directory, state }, needDirectory),
  ])
  if (detections.status === 'rejected') {
    if (detections.reason instanceof ResumeRefused) return detections.reason
    throw detections.reason
  }
  if (facts.status === 'rejected' && !cutShort(facts.reason, reading.signal)) throw facts.reason
  const cause =
    detections.value instanceof ReadCutShort
      ? detections.value.cause
      : facts.status === 'rejected'
        ? facts.reason
        : undefined
  if (cause !== undefined) {
    state.progress = {
      users: { ...progress.users, done: users === true, next: undefined },
      detections:
        detections.value instanceof ReadCutShort
          ? detections.value.progress
          : { startedAt: state.watermarks.detections, done: true },
    }
    return { state, touched, cutShort: cause }
  }
  state.progress = undefined
  if (users === true) state.fullAt = reading.now.toISOString()
  return { state, touched }
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
