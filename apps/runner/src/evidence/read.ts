/**
 * Identity Protection's side of a collection, into an evidence state: everything in the lookback
 * (a full collection), or only what changed since each list's watermark (an incremental one). The
 * two must leave the same state for the same tenant history (apps/runner/test/incremental.test.ts).
 *
 * Each list's watermark is Graph's clock when its read began (the first answer's `Date` header),
 * never the newest record time seen: a record that changes while a long read pages past it is
 * after the watermark, so the next run reads it.
 */
import {
  type GraphClient,
  isDeadlineError,
  isGraphError,
  type PageInfo,
  RISK_DETECTION_SELECT,
  RISKY_USER_SELECT,
  type RiskDetection,
  type RiskyUser,
} from '@tourniquet/core'
import type { Policy } from '@tourniquet/policy'
import { isRunnerError } from '../errors.js'
import { copyDetections, detectionsOf } from './detections.js'
import {
  admits,
  type EvidenceState,
  type ListProgress,
  pruneDetections,
  type RiskFilter,
  riskFilterOf,
  type StoredDetection,
  type StoredUser,
} from './state.js'

/** What the reads tell the run: counts for the plan line, and warnings. */
export interface ReadNotes {
  riskyUsers: number
  detections: number
  warnings: string[]
}

/** What this run read from Graph itself: the facts a step may rest on (fresh.ts). */
export interface Freshness {
  /** Risky-user records read this run (by user id), found or found absent. */
  users: Set<string>
  /** Detections read this run, by id. */
  detections: Set<string>
  /** Users whose directory facts this run asked for. */
  directory: Set<string>
  /** Users whose Defender for Identity identity this run looked up by SID. */
  defender: Set<string>
  /** The on-premises SID of each synced user whose directory facts were read this run. */
  sids: Map<string, string>
  /** Graph's clock (ms) at its first answer this run, from the `Date` header. */
  graphTime: number | undefined
  /** Whether a fresh read (fresh.ts) changed a stored fact: the state is then saved. */
  modified: boolean
}

export const emptyFreshness = (): Freshness => ({
  users: new Set(),
  detections: new Set(),
  directory: new Set(),
  defender: new Set(),
  sids: new Map(),
  graphTime: undefined,
  modified: false,
})

export interface Reading {
  client: GraphClient
  policy: Policy
  now: Date
  notes: ReadNotes
  signal: AbortSignal | undefined
  fresh: Freshness
}

/** The service refused a last-updated filter: its first request was answered 400. */
export class FilterRefused {
  constructor(readonly message: string) {}
}

/** Graph's refusal of the next page after `pages` answered: the known last-page quirk (microsoft-graph-docs issue 16332). */
const lastPageQuirk = (e: unknown, pages: number): boolean => isGraphError(e) && e.status === 400 && pages > 0

/**
 * Follows one list's pages: remembers the first answer's `Date` (the list's watermark) and how
 * many pages answered, so a 400 is judged by which request it answered, never by items counted
 * (an empty first page with a nextLink is an answer, not a refusal).
 */
class ListRead {
  pages = 0
  startedAt: string | undefined
  /** The page to read next: where a read cut short resumes. */
  next: string | undefined
  constructor(
    private readonly fresh: Freshness,
    resume?: ListProgress,
  ) {
    // A resumed read keeps the time its first part began: what changed since is after its watermark.
    this.startedAt = resume?.startedAt
    this.next = resume?.next
  }
  readonly onPage = (page: PageInfo): void => {
    this.pages = page.number
    this.next = page.nextLink
    if (page.number !== 1 || page.date === undefined) return
    const ms = Date.parse(page.date)
    if (Number.isNaN(ms)) return
    this.fresh.graphTime ??= ms
    this.startedAt ??= new Date(ms).toISOString()
  }

  /** Where the list stands when its read was cut short. */
  progress(): ListProgress {
    return { startedAt: this.startedAt, next: this.next, done: false }
  }
}

/** A full read cut short by the run's deadline or a stop: what was read is kept, and where it stopped. */
export class ReadCutShort {
  constructor(
    readonly progress: ListProgress,
    readonly cause: unknown,
  ) {}
}

/**
 * The stored page to resume from was refused (a link the client will not follow, or one the service
 * no longer answers): the state is a cache, so the full collection starts over.
 */
export class ResumeRefused {
  constructor(readonly message: string) {}
}

/** Whether a read that resumed failed on its very first request (the stored link itself). */
const resumeRefused = (
  e: unknown,
  resume: ListProgress | undefined,
  pages: number,
): ResumeRefused | undefined =>
  resume?.next !== undefined && pages === 0 ? new ResumeRefused((e as Error).message) : undefined

/** The run's deadline passed, or a stop was asked for, while a list was being read. */
export const cutShort = (e: unknown, signal: AbortSignal | undefined): boolean =>
  signal?.aborted === true || isDeadlineError(e)

/**
 * Every risky user the policy's filter admits, from the start or (`resume`) from where an earlier
 * run's read stopped. A refused next page after users were read ends the list with a warning (the
 * users read are acted on); the state is then not a complete collection, so the next run collects
 * in full again. A 400 to the first request is a real error. The deadline or a stop keeps what was
 * read and says where to resume (ReadCutShort).
 */
export async function readAllRiskyUsers(
  reading: Reading,
  state: EvidenceState,
  resume?: ListProgress,
): Promise<boolean | ReadCutShort | ResumeRefused> {
  const { client, policy, notes, signal, fresh } = reading
  const filter = riskFilterOf(policy)
  const list = new ListRead(fresh, resume)
  try {
    for await (const u of client.riskyUsers.list(
      { riskLevels: filter.levels, riskStates: filter.states, select: RISKY_USER_SELECT },
      { signal, onPage: list.onPage, from: resume?.next },
    )) {
      fresh.users.add(u.id)
      if (!u.isDeleted) state.users.set(u.id, storedUser(u))
    }
  } catch (e) {
    if (cutShort(e, signal)) return new ReadCutShort(list.progress(), e)
    const refused = resumeRefused(e, resume, list.pages)
    if (refused) return refused
    if (!lastPageQuirk(e, list.pages)) throw e
    notes.warnings.push(
      `riskyUsers: the service refused page ${list.pages + 1} after ${state.users.size} risky users (400, a known quirk of the last page); they are acted on, any others are read by the next run`,
    )
    return false
  } finally {
    notes.riskyUsers = state.users.size
  }
  state.watermarks.users = list.startedAt
  return true
}

/**
 * Every detection in the lookback, of any user (one of them may become risky before it ages out),
 * from the start or from where an earlier run's read stopped (`resume`); cut short as the users are.
 */
export async function readAllDetections(
  reading: Reading,
  state: EvidenceState,
  resume?: ListProgress,
): Promise<undefined | ReadCutShort | ResumeRefused> {
  const { client, policy, now, notes, signal, fresh } = reading
  const since = new Date(now.getTime() - policy.lookback)
  const list = new ListRead(fresh, resume)
  try {
    for await (const d of client.riskDetections.list(
      { since, select: RISK_DETECTION_SELECT },
      { signal, onPage: list.onPage, from: resume?.next },
    )) {
      notes.detections++
      fresh.detections.add(d.id)
      state.detections.set(d.id, storedDetection(d))
    }
  } catch (e) {
    if (cutShort(e, signal)) return new ReadCutShort(list.progress(), e)
    throw resumeRefused(e, resume, list.pages) ?? e
  }
  state.watermarks.detections = list.startedAt
  return undefined
}

/** How far Graph's clock may be behind a watermark before the state is taken for forged or broken. */
const CLOCK_TOLERANCE_MS = 5 * 60_000

/** A watermark later than Graph's own clock: written by a faster clock, or forged; the state is not used. */
export class FutureWatermark {
  constructor(readonly message: string) {}
}

/**
 * The part of the state a run parses only when it needs it (a version 4 body, format.ts) could not
 * be used: the state is a cache, so the run collects in full.
 */
export class UnusableBody {
  constructor(readonly message: string) {}
}

/**
 * Which runs read the changed risky users: every run, or (`tourniquet watch` between its
 * once-a-minute reads) only a run whose changed detections touched someone.
 */
export type RiskyUsersRead = 'always' | 'onNewDetections'

/**
 * What changed since each list's watermark less `overlapMs` (`gt`, so the overlap also covers a
 * service that reads `gt` as `ge`), merged into a copy of `previous`; returns the ids of the users
 * whose signals changed, FilterRefused when the service does not take a last-updated filter, or
 * FutureWatermark when a watermark is ahead of Graph's clock. Records re-read in the overlap and
 * unchanged are skipped. A list's watermark only moves when it was read to the end.
 */
export async function readChanges(
  reading: Reading,
  previous: EvidenceState,
  overlapMs: number,
  riskyUsers: RiskyUsersRead = 'always',
): Promise<
  | { state: EvidenceState; touched: Set<string>; changed: boolean }
  | FilterRefused
  | FutureWatermark
  | UnusableBody
> {
  try {
    return await mergeChanges(reading, previous, overlapMs, riskyUsers)
  } catch (e) {
    // A detection read, a user admitted or a detection aged out made the run parse the body.
    if (isRunnerError(e) && e.code === 'TQ_RUNNER_STATE_UNUSABLE') return new UnusableBody(e.message)
    throw e
  }
}

async function mergeChanges(
  reading: Reading,
  previous: EvidenceState,
  overlapMs: number,
  riskyUsers: RiskyUsersRead,
): Promise<
  { state: EvidenceState; touched: Set<string>; changed: boolean } | FilterRefused | FutureWatermark
> {
  const state: EvidenceState = {
    ...previous,
    watermarks: { ...previous.watermarks },
    users: new Map(previous.users),
    detections: copyDetections(previous.detections),
  }
  // With a list never read to the end there is no Graph time to start from: the lookback bounds what matters.
  const localLookbackStart = reading.now.getTime() - reading.policy.lookback
  const after = (mark: string | undefined) =>
    new Date((mark === undefined ? localLookbackStart : Date.parse(mark)) - overlapMs)
  const touched = new Set<string>()
  // Detections first: a new one is what raises a user, and its run then reads the users too. A run
  // that skips the users' list keeps their watermark, so the next read covers what it did not.
  const detections = await readChangedDetections(
    reading,
    state,
    after(previous.watermarks.detections),
    touched,
  )
  if (detections instanceof FilterRefused) return detections
  if (riskyUsers === 'always' || touched.size > 0 || previous.watermarks.users === undefined) {
    const users = await readChangedUsers(reading, state, after(previous.watermarks.users), touched)
    if (users instanceof FilterRefused) return users
  }
  const { fresh, notes, policy, now } = reading
  const ahead = aheadOfGraph(previous, fresh.graphTime)
  if (ahead) return new FutureWatermark(ahead)
  // A user whose evidence aged out (by Graph's clock) has changed signals too.
  for (const userId of pruneDetections(state, (fresh.graphTime ?? now.getTime()) - policy.lookback))
    touched.add(userId)
  // The signals of a user admitted now need its detections: parsed here, where a body that cannot
  // be used still means a full collection, not a failed run.
  detectionsOf(state.detections, touched)
  notes.riskyUsers = state.users.size
  // Graph's clock moves every run: a quiet run saves the state (megabytes at 10,000 users) only once
  // its watermarks are half an overlap old, which keeps what the next run re-reads bounded.
  const moved = (list: 'users' | 'detections') => {
    const was = previous.watermarks[list]
    const is = state.watermarks[list]
    if (was === undefined || is === undefined) return was !== is
    return Date.parse(is) - Date.parse(was) > overlapMs / 2
  }
  const changed = touched.size > 0 || moved('users') || moved('detections')
  return { state, touched, changed }
}

/** The risky users changed after `after`, merged; the list's watermark moves when it was read to the end. */
async function readChangedUsers(
  { client, policy, notes, signal, fresh }: Reading,
  state: EvidenceState,
  after: Date,
  touched: Set<string>,
): Promise<undefined | FilterRefused> {
  const filter = riskFilterOf(policy)
  const list = new ListRead(fresh)
  try {
    for await (const u of client.riskyUsers.list(
      { updatedAfter: after, select: RISKY_USER_SELECT },
      { signal, onPage: list.onPage },
    )) {
      fresh.users.add(u.id)
      mergeRiskyUser(state, filter, u, touched)
    }
    state.watermarks.users = list.startedAt
  } catch (e) {
    if (isGraphError(e) && e.status === 400 && list.pages === 0) return new FilterRefused(e.message)
    if (!lastPageQuirk(e, list.pages)) throw e
    notes.warnings.push(
      `riskyUsers: the service refused page ${list.pages + 1} of the changed risky users (400, a known quirk of the last page); the next run reads the same changes again`,
    )
  }
  return undefined
}

/** The detections changed after `after`, merged (detections age out by Graph's clock, not ours). */
async function readChangedDetections(
  { client, policy, now, notes, signal, fresh }: Reading,
  state: EvidenceState,
  after: Date,
  touched: Set<string>,
): Promise<undefined | FilterRefused> {
  const list = new ListRead(fresh)
  // One run with a fast clock must not drop what later runs never read again.
  const lookbackStart = () => (fresh.graphTime ?? now.getTime()) - policy.lookback
  try {
    for await (const d of client.riskDetections.list(
      { updatedAfter: after, select: RISK_DETECTION_SELECT },
      { signal, onPage: list.onPage },
    )) {
      notes.detections++
      fresh.detections.add(d.id)
      mergeDetection(state, lookbackStart(), d, touched)
    }
  } catch (e) {
    if (isGraphError(e) && e.status === 400 && list.pages === 0) return new FilterRefused(e.message)
    throw e
  }
  state.watermarks.detections = list.startedAt
  return undefined
}

/** Why a stored watermark cannot be Graph's (it is ahead of Graph's clock now), or undefined. */
function aheadOfGraph(previous: EvidenceState, graphTime: number | undefined): string | undefined {
  if (graphTime === undefined) return undefined
  for (const [list, mark] of Object.entries(previous.watermarks)) {
    if (mark === undefined) continue
    if (Date.parse(mark) > graphTime + CLOCK_TOLERANCE_MS)
      return `its ${list} watermark ${mark} is later than Graph's clock (${new Date(graphTime).toISOString()})`
  }
  return undefined
}

export function storedUser(u: RiskyUser): StoredUser {
  return {
    userId: u.id,
    // Identity Protection's copy, until the directory's is read (it is nullable and lags a rename).
    userPrincipalName: u.userPrincipalName ?? u.id,
    risk: { level: u.riskLevel, state: u.riskState, detail: u.riskDetail },
    updated: u.riskLastUpdatedDateTime,
  }
}

export function storedDetection(d: RiskDetection): StoredDetection {
  return {
    id: d.id,
    userId: d.userId,
    riskEventType: d.riskEventType,
    riskLevel: d.riskLevel,
    source: d.source,
    detectedDateTime: d.detectedDateTime,
    detectionTimingType: d.detectionTimingType,
    updated: d.lastUpdatedDateTime,
  }
}

/** A risky user read again: unchanged (the overlap), admitted (stored afresh), or no longer admitted (dropped). */
function mergeRiskyUser(state: EvidenceState, filter: RiskFilter, u: RiskyUser, touched: Set<string>): void {
  const stored = state.users.get(u.id)
  const same =
    stored !== undefined &&
    stored.updated === u.riskLastUpdatedDateTime &&
    stored.risk.level === u.riskLevel &&
    stored.risk.state === u.riskState &&
    stored.risk.detail === u.riskDetail
  if (same) return
  const admitted = !u.isDeleted && admits(filter, { level: u.riskLevel, state: u.riskState })
  if (admitted) state.users.set(u.id, storedUser(u))
  else if (stored === undefined) return
  else state.users.delete(u.id)
  touched.add(u.id)
}

/** A detection read again: unchanged (the overlap), or stored afresh when it is in the lookback. */
function mergeDetection(
  state: EvidenceState,
  lookbackStart: number,
  d: RiskDetection,
  touched: Set<string>,
): void {
  const stored = state.detections.get(d.id)
  if (stored !== undefined && stored.updated === d.lastUpdatedDateTime && stored.userId === d.userId) return
  // The full collection reads by detectedDateTime from the lookback's start: nothing older.
  if (Date.parse(d.detectedDateTime) < lookbackStart) {
    if (stored === undefined) return
    state.detections.delete(d.id)
  } else state.detections.set(d.id, storedDetection(d))
  touched.add(d.userId)
  if (stored !== undefined && stored.userId !== d.userId) touched.add(stored.userId)
}
