/**
 * A state's detections as a run sees them (issue #24). At 100,000 stale at-risk users a state holds
 * about 200,000 detections, nearly all of users the policy does not admit, and a quiet run changes
 * none of them; turning each into an object (and copying it, and parsing its time to prune it)
 * cost more than the rest of the run. So a loaded state keeps its detections as the stored
 * columns (format.ts checked every value, length and index before this sees them) and makes an
 * object only for a detection a run asks for: by id, or by user for the admitted users' signals.
 * What a run changes sits beside the columns: rows removed, and records set.
 *
 * A Map of records is the other implementation (a full collection, tests): every function here
 * takes either.
 */
import type { StoredDetection } from './state.js'

/** What runs do with a state's detections: a `Map` by detection id is one, `DetectionTable` the other. */
export interface Detections extends Iterable<[string, StoredDetection]> {
  readonly size: number
  get(id: string): StoredDetection | undefined
  has(id: string): boolean
  set(id: string, detection: StoredDetection): unknown
  delete(id: string): boolean
  keys(): Iterable<string>
  values(): Iterable<StoredDetection>
}

/**
 * Ids all of one length (Graph's are GUIDs) stored as one text, `width` characters each: one
 * string for the parser to make instead of one per id.
 */
export interface PackedIds {
  readonly width: number
  readonly text: string
}

/** A column of ids: packed when they are all of one length, a plain array otherwise. */
export type IdColumn = readonly string[] | PackedIds

const isPacked = (ids: IdColumn): ids is PackedIds => !Array.isArray(ids)

/** How many ids the column holds. */
export const idCount = (ids: IdColumn): number => (isPacked(ids) ? ids.text.length / ids.width : ids.length)

/** The id at `i`. */
export const idAt = (ids: IdColumn, i: number): string =>
  isPacked(ids) ? ids.text.slice(i * ids.width, (i + 1) * ids.width) : (ids[i] as string)

/** The column for these ids: packed when they are all of one length (at most 256), as they are otherwise. */
export function packIds(ids: string[]): string[] | PackedIds {
  const width = ids[0]?.length ?? 0
  if (width === 0 || width > 256 || ids.some((id) => id.length !== width)) return ids
  return { width, text: ids.join('') }
}

/** The ids of a column, one string each. */
export const unpackIds = (ids: IdColumn): string[] =>
  isPacked(ids) ? Array.from({ length: idCount(ids) }, (_, i) => idAt(ids, i)) : [...ids]

/**
 * A detected time as stored: a whole number of ms after the table's `epoch` when that number's
 * ISO form is the time exactly (numbers cost the parser nothing to make, and compare as numbers),
 * the time as Graph wrote it otherwise.
 */
export type StoredTime = number | string

/** The stored form of `time` against `epoch`. */
export function storedTime(time: string, epoch: number): StoredTime {
  const ms = Date.parse(time)
  return Number.isFinite(ms) && isoOf(ms) === time ? ms - epoch : time
}

const isoOf = (ms: number): string | undefined => {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** The stored columns (version 3), already checked: every index and time is in range. Never changed. */
export interface DetectionColumns {
  readonly strings: readonly string[]
  readonly id: IdColumn
  /** The distinct users of the detections; `user` indexes it. */
  readonly users: IdColumn
  readonly user: readonly number[]
  readonly type: readonly number[]
  readonly level: readonly (number | null)[]
  readonly source: readonly (number | null)[]
  /** What the numbers in `detected` count from (ms since 1970). */
  readonly epoch: number
  readonly detected: readonly StoredTime[]
  readonly timing: readonly (number | null)[]
  /** 1: the same as `detected`. */
  readonly updated: readonly (string | 1 | null)[]
}

/** The columns and, once a run looks a detection up by id, the rows of each id (shared by copies). */
interface Base {
  readonly columns: DetectionColumns
  rowsOf?: Map<string, number | number[]>
}

/** Detections over stored columns: rows are made into records only when asked for. */
export class DetectionTable implements Detections {
  private constructor(
    private readonly base: Base,
    /** Rows of the columns that are no longer in the table (deleted, or set anew). */
    private readonly removed: Set<number>,
    /** Records set by this run (read from Graph), by id; never also a row. */
    private readonly added: Map<string, StoredDetection>,
  ) {}

  /** The table of checked columns (format.ts checks them; nothing here does). */
  static of(columns: DetectionColumns): DetectionTable {
    return new DetectionTable({ columns }, new Set(), new Map())
  }

  /** A copy to change without changing this table (the columns are shared, never changed). */
  copy(): DetectionTable {
    return new DetectionTable(this.base, new Set(this.removed), new Map(this.added))
  }

  get size(): number {
    return this.base.columns.user.length - this.removed.size + this.added.size
  }

  get(id: string): StoredDetection | undefined {
    const added = this.added.get(id)
    if (added !== undefined) return added
    const row = this.liveRows(id)[0]
    return row === undefined ? undefined : this.record(row)
  }

  has(id: string): boolean {
    return this.added.has(id) || this.liveRows(id).length > 0
  }

  set(id: string, detection: StoredDetection): this {
    for (const row of this.liveRows(id)) this.removed.add(row)
    this.added.set(id, detection)
    return this
  }

  delete(id: string): boolean {
    const rows = this.liveRows(id)
    for (const row of rows) this.removed.add(row)
    return this.added.delete(id) || rows.length > 0
  }

  *[Symbol.iterator](): IterableIterator<[string, StoredDetection]> {
    for (const d of this.values()) yield [d.id, d]
  }

  *keys(): IterableIterator<string> {
    const { id, user } = this.base.columns
    for (let row = 0; row < user.length; row++) if (!this.removed.has(row)) yield idAt(id, row)
    yield* this.added.keys()
  }

  *values(): IterableIterator<StoredDetection> {
    const rows = this.base.columns.user.length
    for (let row = 0; row < rows; row++) if (!this.removed.has(row)) yield this.record(row)
    yield* this.added.values()
  }

  /** The detections of these users, grouped by user: a pass over two columns of numbers, records made only for them. */
  ofUsers(userIds: ReadonlySet<string>): Map<string, StoredDetection[]> {
    const byUser = new Map<string, StoredDetection[]>()
    const push = (d: StoredDetection) => {
      const list = byUser.get(d.userId)
      if (list === undefined) byUser.set(d.userId, [d])
      else list.push(d)
    }
    if (userIds.size > 0) {
      const { users, user } = this.base.columns
      const count = idCount(users)
      const wanted = new Uint8Array(count)
      let any = false
      for (let u = 0; u < count; u++)
        if (userIds.has(idAt(users, u))) {
          wanted[u] = 1
          any = true
        }
      if (any)
        for (let row = 0; row < user.length; row++)
          if (wanted[user[row] as number] === 1 && !this.removed.has(row)) push(this.record(row))
    }
    for (const d of this.added.values()) if (userIds.has(d.userId)) push(d)
    return byUser
  }

  /** Removes the detections detected before `startMs`; returns their users. */
  prune(startMs: number): Set<string> {
    const users = new Set<string>()
    const before = detectedBefore(startMs)
    const { detected, epoch, users: userIds, user } = this.base.columns
    for (let row = 0; row < detected.length; row++) {
      const time = detected[row] as StoredTime
      if ((typeof time === 'number' ? epoch + time < startMs : before(time)) && !this.removed.has(row)) {
        this.removed.add(row)
        users.add(idAt(userIds, user[row] as number))
      }
    }
    for (const [id, d] of this.added)
      if (before(d.detectedDateTime)) {
        this.added.delete(id)
        users.add(d.userId)
      }
    return users
  }

  /** The live rows of the columns (for a save): indices into the columns, in order. */
  rows(): number[] {
    const rows: number[] = []
    const n = this.base.columns.user.length
    for (let row = 0; row < n; row++) if (!this.removed.has(row)) rows.push(row)
    return rows
  }

  /** The records set by this run (for a save). */
  addedRecords(): Iterable<StoredDetection> {
    return this.added.values()
  }

  /** The columns this table reads (for a save, which keeps their indices). */
  get columns(): DetectionColumns {
    return this.base.columns
  }

  private liveRows(id: string): number[] {
    const rows = this.index().get(id)
    if (rows === undefined) return []
    if (typeof rows === 'number') return this.removed.has(rows) ? [] : [rows]
    return rows.filter((row) => !this.removed.has(row))
  }

  /**
   * The rows of each id, made at the first lookup by id. A forged state may repeat an id: every
   * row of it answers to that id, so a record read from Graph replaces them all.
   */
  private index(): Map<string, number | number[]> {
    if (this.base.rowsOf !== undefined) return this.base.rowsOf
    const rowsOf = new Map<string, number | number[]>()
    const { id, user } = this.base.columns
    for (let row = 0; row < user.length; row++) {
      const key = idAt(id, row)
      const known = rowsOf.get(key)
      if (known === undefined) rowsOf.set(key, row)
      else if (typeof known === 'number') rowsOf.set(key, [known, row])
      else known.push(row)
    }
    this.base.rowsOf = rowsOf
    return rowsOf
  }

  private record(row: number): StoredDetection {
    const c = this.base.columns
    const optional = (i: number | null | undefined) =>
      i === null || i === undefined ? undefined : c.strings[i]
    const time = c.detected[row] as StoredTime
    // format.ts checked that every number is a time of years 0 to 9999.
    const detectedDateTime = typeof time === 'number' ? new Date(c.epoch + time).toISOString() : time
    const updated = c.updated[row]
    return {
      id: idAt(c.id, row),
      userId: idAt(c.users, c.user[row] as number),
      riskEventType: c.strings[c.type[row] as number] as string,
      riskLevel: optional(c.level[row]),
      source: optional(c.source[row]),
      detectedDateTime,
      detectionTimingType: optional(c.timing[row]),
      updated: updated === 1 ? detectedDateTime : (updated ?? undefined),
    }
  }
}

/**
 * What a state was saved with beside its head (format.ts, version 4): the detections of users the
 * policy did not admit then, most of a large tenant's. A quiet run needs none of them, so they stay
 * the stored text until a run does; `columns` parses and checks them then, once per load.
 */
export interface DetectionBody {
  /** How many detections the text holds (checked when it is parsed). */
  readonly count: number
  /** The earliest detected time among them (ms), undefined when there are none (checked when parsed). */
  readonly oldest: number | undefined
  /** The stored text, written again as it is while no run needs it. */
  readonly text: string
  /** The columns, checked; throws EvidenceStateError when they cannot be used. */
  columns(): DetectionColumns
}

/**
 * A state's detections as version 4 loads them: the head's (every detection of the users the
 * state held when saved, plus any set since) and the body, parsed only when a run asks for what
 * the head cannot answer: an id the head does not hold, a user it does not hold, a detection
 * older than the body's oldest, or all of them. Then the head's records join the body's table.
 */
export class SplitDetections implements Detections {
  private constructor(
    private head: DetectionTable,
    private body: DetectionBody | undefined,
    /** The users whose every detection is in the head (the state's users when it was saved). */
    private readonly headUsers: ReadonlySet<string>,
  ) {}

  static of(head: DetectionTable, body: DetectionBody, headUsers: ReadonlySet<string>): SplitDetections {
    return new SplitDetections(head, body.count === 0 ? undefined : body, headUsers)
  }

  copy(): SplitDetections {
    return new SplitDetections(this.head.copy(), this.body, this.headUsers)
  }

  /** The body still as text (a save writes it as it is), with the head's table; undefined once parsed. */
  get unparsed(): { head: DetectionTable; body: DetectionBody } | undefined {
    return this.body === undefined ? undefined : { head: this.head, body: this.body }
  }

  /** Every detection in one table (the body parsed, if it was not). */
  table(): DetectionTable {
    const body = this.body
    if (body !== undefined) {
      const table = DetectionTable.of(body.columns())
      for (const d of this.head.values()) table.set(d.id, d)
      this.head = table
      this.body = undefined
    }
    return this.head
  }

  get size(): number {
    return this.head.size + (this.body?.count ?? 0)
  }

  get(id: string): StoredDetection | undefined {
    return this.head.get(id) ?? (this.body === undefined ? undefined : this.table().get(id))
  }

  has(id: string): boolean {
    return this.head.has(id) || (this.body !== undefined && this.table().has(id))
  }

  /** A detection the head holds is set there (a forged copy of its id in the body is replaced when the body is parsed). */
  set(id: string, detection: StoredDetection): this {
    ;(this.head.has(id) ? this.head : this.table()).set(id, detection)
    return this
  }

  delete(id: string): boolean {
    return this.head.has(id) ? this.head.delete(id) : this.table().delete(id)
  }

  [Symbol.iterator](): IterableIterator<[string, StoredDetection]> {
    return this.table()[Symbol.iterator]()
  }

  keys(): IterableIterator<string> {
    return this.table().keys()
  }

  values(): IterableIterator<StoredDetection> {
    return this.table().values()
  }

  ofUsers(userIds: ReadonlySet<string>): Map<string, StoredDetection[]> {
    for (const id of userIds) if (!this.headUsers.has(id)) return this.table().ofUsers(userIds)
    return this.head.ofUsers(userIds)
  }

  /**
   * The head's detections before `startMs` (and the body's once it is parsed). Those of the body
   * are of users the state does not hold, whose signals they cannot change (the policy counts
   * only detections in its lookback); they go when a run parses the body for another reason, or
   * at the daily full collection. At 100,000 stale users one ages out about every second, and
   * parsing the body for that alone cost a quiet run more than the rest of it.
   */
  prune(startMs: number): Set<string> {
    return this.head.prune(startMs)
  }
}

/**
 * A copy of `detections` to set and delete in without changing them. `records: true` copies a
 * Map's records too, for a caller that changes records in place (a table's are made afresh for
 * every lookup).
 */
export function copyDetections(detections: Detections, { records = false } = {}): Detections {
  if (detections instanceof DetectionTable || detections instanceof SplitDetections) return detections.copy()
  if (!records) return new Map(detections)
  const copy = new Map<string, StoredDetection>()
  for (const [id, d] of detections) copy.set(id, { ...d })
  return copy
}

/** The detections of these users, by user. */
export function detectionsOf(
  detections: Detections,
  userIds: ReadonlySet<string>,
): Map<string, StoredDetection[]> {
  if (detections instanceof DetectionTable || detections instanceof SplitDetections)
    return detections.ofUsers(userIds)
  const byUser = new Map<string, StoredDetection[]>()
  for (const d of detections.values()) {
    if (!userIds.has(d.userId)) continue
    const list = byUser.get(d.userId)
    if (list === undefined) byUser.set(d.userId, [d])
    else list.push(d)
  }
  return byUser
}

/** Removes the detections detected before `startMs`; returns their users. */
export function pruneBefore(detections: Detections, startMs: number): Set<string> {
  if (detections instanceof DetectionTable || detections instanceof SplitDetections)
    return detections.prune(startMs)
  const before = detectedBefore(startMs)
  const users = new Set<string>()
  for (const [id, d] of detections)
    if (before(d.detectedDateTime)) {
      detections.delete(id)
      users.add(d.userId)
    }
  return users
}

/**
 * Whether a time is before `startMs`, the same answer as `Date.parse(time) < startMs`. A time in
 * the form Graph and toISOString write (UTC, at least milliseconds) is compared as text with the
 * start's ISO form, which orders the same way; parsing 200,000 times cost most of a quiet run's prune.
 */
export function detectedBefore(startMs: number): (time: string) => boolean {
  const start = new Date(startMs).toISOString()
  const plain = start.length === 24
  return (time) => {
    const n = time.length
    if (plain && n >= 24 && time.charCodeAt(19) === 46 && time.charCodeAt(n - 1) === 90 && isDigits(time)) {
      // ms precision, as Date.parse: "…SS.fffffffZ" compares by its first 23 characters.
      return (n === 24 ? time : `${time.slice(0, 23)}Z`) < start
    }
    return Date.parse(time) < startMs
  }
}

/** "YYYY-MM-DDTHH:MM:SS.fff…Z" with digits where digits go (so text order is time order). */
function isDigits(time: string): boolean {
  for (let i = 0; i < time.length - 1; i++) {
    const c = time.charCodeAt(i)
    const digit = c >= 48 && c <= 57
    const separator = i === 4 || i === 7 || i === 10 || i === 13 || i === 16 || i === 19
    if (separator ? digit : !digit) return false
  }
  return (
    time.charCodeAt(4) === 45 &&
    time.charCodeAt(7) === 45 &&
    time.charCodeAt(10) === 84 &&
    time.charCodeAt(13) === 58 &&
    time.charCodeAt(16) === 58
  )
}
