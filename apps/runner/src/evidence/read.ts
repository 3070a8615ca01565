/**
 * Identity Protection's side of a collection, into an evidence state: everything in the lookback
 * (a full collection), or only what changed since the state's watermark (an incremental one). The
 * two must leave the same state for the same tenant history (apps/runner/test/incremental.test.ts).
 */
import {
  type GraphClient,
  isGraphError,
  RISK_DETECTION_SELECT,
  RISKY_USER_SELECT,
  type RiskDetection,
  type RiskyUser,
} from '@tourniquet/core'
import type { Policy } from '@tourniquet/policy'
import {
  admits,
  type EvidenceState,
  later,
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

export interface Reading {
  client: GraphClient
  policy: Policy
  now: Date
  notes: ReadNotes
  signal: AbortSignal | undefined
}

/** The service answered a last-updated filter with 400 before any item: it does not take it. */
export class FilterRefused {
  constructor(readonly message: string) {}
}

/** Graph's refusal of the next page after `read` items: the known last-page quirk (graph-contract.md Corrections 6). */
const lastPageQuirk = (e: unknown, read: number): boolean => isGraphError(e) && e.status === 400 && read > 0

/**
 * Every risky user the policy's filter admits. A refused next page after users were read ends the
 * list with a warning (the users read are acted on); the state is then not a complete collection,
 * so the next run collects in full again. A 400 before any user is a real error.
 */
export async function readAllRiskyUsers(reading: Reading, state: EvidenceState): Promise<boolean> {
  const { client, policy, notes, signal } = reading
  const filter = riskFilterOf(policy)
  let read = 0
  try {
    for await (const u of client.riskyUsers.list(
      { riskLevels: filter.levels, riskStates: filter.states, select: RISKY_USER_SELECT },
      { signal },
    )) {
      read++
      state.watermark = later(state.watermark, u.riskLastUpdatedDateTime)
      if (!u.isDeleted) state.users.set(u.id, storedUser(u))
    }
  } catch (e) {
    if (!lastPageQuirk(e, read)) throw e
    notes.warnings.push(
      `riskyUsers: the service refused the next page after ${read} risky users (400, a known quirk of the last page); they are acted on, any others are read by the next run`,
    )
    return false
  } finally {
    notes.riskyUsers = state.users.size
  }
  return true
}

/** Every detection in the lookback, of any user: one of them may become risky before it ages out. */
export async function readAllDetections(reading: Reading, state: EvidenceState): Promise<void> {
  const { client, policy, now, notes, signal } = reading
  const since = new Date(now.getTime() - policy.lookback)
  for await (const d of client.riskDetections.list({ since, select: RISK_DETECTION_SELECT }, { signal })) {
    notes.detections++
    state.watermark = later(state.watermark, d.lastUpdatedDateTime)
    state.detections.set(d.id, storedDetection(d))
  }
}

/**
 * What changed since `previous.watermark` less `overlapMs`, merged into a copy of `previous`;
 * returns the ids of the users whose signals changed (their directory facts are read again), or
 * FilterRefused when the service does not take a last-updated filter. Records re-read in the
 * overlap and unchanged are skipped. The watermark only moves when both lists were read to the end.
 */
export async function readChanges(
  reading: Reading,
  previous: EvidenceState,
  overlapMs: number,
): Promise<{ state: EvidenceState; touched: Set<string>; changed: boolean } | FilterRefused> {
  const { client, policy, now, notes, signal } = reading
  const state: EvidenceState = {
    ...previous,
    users: new Map(previous.users),
    detections: new Map(previous.detections),
  }
  const lookbackStart = now.getTime() - policy.lookback
  // With nothing ever read there is no Graph time to start from: the lookback bounds what matters.
  const from = previous.watermark === undefined ? lookbackStart : Date.parse(previous.watermark)
  const updatedSince = new Date(from - overlapMs)
  const filter = riskFilterOf(policy)
  const touched = new Set<string>()
  let watermark = previous.watermark
  let read = 0
  let complete = true
  try {
    for await (const u of client.riskyUsers.list({ updatedSince, select: RISKY_USER_SELECT }, { signal })) {
      read++
      watermark = later(watermark, u.riskLastUpdatedDateTime)
      mergeRiskyUser(state, filter, u, touched)
    }
  } catch (e) {
    if (isGraphError(e) && e.status === 400 && read === 0) return new FilterRefused(e.message)
    if (!lastPageQuirk(e, read)) throw e
    complete = false
    notes.warnings.push(
      `riskyUsers: the service refused the next page after ${read} changed risky users (400, a known quirk of the last page); the next run reads the same changes again`,
    )
  }
  read = 0
  try {
    for await (const d of client.riskDetections.list(
      { updatedSince, select: RISK_DETECTION_SELECT },
      { signal },
    )) {
      read++
      notes.detections++
      watermark = later(watermark, d.lastUpdatedDateTime)
      mergeDetection(state, lookbackStart, d, touched)
    }
  } catch (e) {
    if (isGraphError(e) && e.status === 400 && read === 0) return new FilterRefused(e.message)
    throw e
  }
  // A user whose evidence aged out has changed signals too.
  for (const userId of pruneDetections(state, lookbackStart)) touched.add(userId)
  state.watermark = complete ? watermark : previous.watermark
  notes.riskyUsers = state.users.size
  const changed = touched.size > 0 || state.watermark !== previous.watermark
  return { state, touched, changed }
}

function storedUser(u: RiskyUser): StoredUser {
  return {
    userId: u.id,
    // Identity Protection's copy, until the directory's is read (it is nullable and lags a rename).
    userPrincipalName: u.userPrincipalName ?? u.id,
    risk: { level: u.riskLevel, state: u.riskState, detail: u.riskDetail },
    updated: u.riskLastUpdatedDateTime,
  }
}

function storedDetection(d: RiskDetection): StoredDetection {
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
  if (stored !== undefined && stored.updated === d.lastUpdatedDateTime) return
  // The full collection reads by detectedDateTime from the lookback's start: nothing older.
  if (Date.parse(d.detectedDateTime) < lookbackStart) {
    if (stored === undefined) return
    state.detections.delete(d.id)
  } else state.detections.set(d.id, storedDetection(d))
  touched.add(d.userId)
}
