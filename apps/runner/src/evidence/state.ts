/**
 * The evidence state an incremental run starts from (decision 015): every risky user the policy's
 * risk filter admits, with its directory and Defender for Identity facts, every detection of any
 * user in the lookback, and a watermark per list: Graph's own clock when that list's last complete
 * read began. A run reads only what changed since (minus an overlap), merges it here, and evaluates
 * the policy over the whole state, so its plan is the plan a full collection would make.
 *
 * The state is a cache of Graph, not a record of what was done (the ledger is), and it never
 * decides an action: every fact a step rests on is read from Graph in the run that sends it
 * (fresh.ts). Like the ledger it is input (a file or a blob anyone with write access can edit), so
 * it is checked before it is used, and a forged entry can at worst cost a full collection.
 */
import { createHash } from 'node:crypto'
import {
  DEFAULT_RISK_STATES,
  type DetectionSignal,
  type Policy,
  type Signals,
  type UserSignals,
} from '@tourniquet/policy'
import { isRunnerError } from '../errors.js'
import { copyDetections, type Detections, detectionsOf, pruneBefore, SplitDetections } from './detections.js'

/** A risky user as the state keeps it: its signals without detections, and when Graph last changed it. */
export interface StoredUser extends Omit<UserSignals, 'detections'> {
  /** `riskLastUpdatedDateTime` as read: an unchanged record is not re-read from the directory. */
  updated?: string | undefined
}

export interface StoredDetection extends DetectionSignal {
  userId: string
  /** `lastUpdatedDateTime` as read: the same detection re-read in the overlap changes nothing. */
  updated?: string | undefined
}

export interface EvidenceState {
  tenantId: string
  /** The policy the state was collected for: another policy may admit other users (full collection). */
  policyDigest: string
  /** When the last complete full collection ran; undefined when it was cut short. */
  fullAt: string | undefined
  /**
   * Per list, Graph's clock (the `Date` of the first answer) when its last complete read began: a
   * record that changed while a long read paged past it is after the watermark, so the next run
   * reads it. Undefined when the list was never read to the end.
   */
  watermarks: Watermarks
  /** When the service last refused a last-updated filter: full collections until the next reconciliation. */
  refusedAt: string | undefined
  /**
   * A full collection cut short (its deadline, a stop): where each list's read stands, so the next
   * run resumes it instead of starting over. Set only while `fullAt` is undefined.
   */
  progress?: FullProgress | undefined
  users: Map<string, StoredUser>
  /**
   * Every detection in the lookback, of any user, by detection id (a loaded state keeps them as
   * columns, and those of users it did not hold as text until a run needs them: detections.ts).
   */
  detections: Detections
}

export interface FullProgress {
  users: ListProgress
  detections: ListProgress
}

/** One list's part of a full collection that runs over several runs. */
export interface ListProgress {
  /** Graph's clock when the list's read began (its first part): its watermark once it is complete. */
  startedAt?: string | undefined
  /** The page to read next (a nextLink of that read); undefined while not done: from the start. */
  next?: string | undefined
  done: boolean
}

export interface Watermarks {
  users?: string | undefined
  detections?: string | undefined
}

/** The risk levels and states whose users the collection reads (undefined levels: any level). */
export interface RiskFilter {
  levels: string[] | undefined
  states: string[]
}

export function riskFilterOf(policy: Policy): RiskFilter {
  // Levels narrow the read only when every rule names some: a rule without one matches any level.
  const levels = policy.rules.every((r) => r.when.riskLevel)
    ? [...new Set(policy.rules.flatMap((r) => r.when.riskLevel ?? []))]
    : undefined
  const states = [...new Set(policy.rules.flatMap((r) => r.when.riskState ?? DEFAULT_RISK_STATES))]
  return { levels, states }
}

/** Whether a risky user is one the full collection's filtered read would return. */
export const admits = (filter: RiskFilter, risk: { level: string; state: string }): boolean =>
  (filter.levels === undefined || filter.levels.includes(risk.level)) && filter.states.includes(risk.state)

/** The policy's fingerprint: any change (rules, routes, lookback) starts from a full collection. */
export const policyDigest = (policy: Policy): string =>
  createHash('sha256').update(JSON.stringify(policy)).digest('hex').slice(0, 32)

export const emptyState = (tenantId: string, digest: string): EvidenceState => ({
  tenantId,
  policyDigest: digest,
  fullAt: undefined,
  watermarks: {},
  refusedAt: undefined,
  users: new Map(),
  detections: new Map(),
})

/** A copy whose users and detections can be changed without changing `state`. */
export function copyState(state: EvidenceState): EvidenceState {
  const users = new Map<string, StoredUser>()
  for (const [id, u] of state.users) users.set(id, { ...u })
  const detections = copyDetections(state.detections, { records: true })
  const progress =
    state.progress === undefined
      ? undefined
      : { users: { ...state.progress.users }, detections: { ...state.progress.detections } }
  return { ...state, watermarks: { ...state.watermarks }, progress, users, detections }
}

/**
 * Parses the part of a loaded state's detections kept as text (format.ts) now; returns why it
 * cannot be used, or undefined.
 */
export function unusableDetections(state: EvidenceState): string | undefined {
  try {
    if (state.detections instanceof SplitDetections) state.detections.table()
    return undefined
  } catch (e) {
    if (isRunnerError(e) && e.code === 'TQ_RUNNER_STATE_UNUSABLE') return e.message
    throw e
  }
}

/** Drops detections detected before the lookback (no run can use them again); returns their users. */
export const pruneDetections = (state: EvidenceState, lookbackStartMs: number): Set<string> =>
  pruneBefore(state.detections, lookbackStartMs)

/** The signals the policy evaluates: every stored user with its stored detections. */
export function signalsOf(state: EvidenceState): Signals {
  // Most detections in a large tenant are of users the policy's filter does not admit: only the
  // stored users' are made into records.
  const byUser = detectionsOf(state.detections, new Set(state.users.keys()))
  const users: UserSignals[] = []
  for (const u of state.users.values()) {
    const { updated: _, ...signals } = u
    users.push({ ...signals, detections: (byUser.get(u.userId) ?? []).map(detectionSignal) })
  }
  return { users }
}

function detectionSignal(d: StoredDetection): DetectionSignal {
  const { userId: _u, updated: _t, ...signal } = d
  return signal
}

// The stored form (version 4, a head and a body of columns; versions 2 and 3 still read) lives in format.ts.
export { parseState, serializeState } from './format.js'
