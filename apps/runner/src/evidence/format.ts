/**
 * The evidence state's stored form (issue #24). Version 3 is columnar: one array per field, the
 * short values that repeat (risk levels, states, event types, sources, user types) as indices
 * into one table of strings, and each detection's user as an index into a table of user ids.
 * At 100,000 stale users a document of objects spent most of its bytes on keys and repeated
 * values, and most of its parse time on building and checking one object per record; columns of
 * numbers and strings are a fraction of both.
 *
 * The stored text is input (anyone who can write the blob or the file can edit it), so it is
 * checked at this edge with zod before anything reads it: every column's type, length and bounds,
 * every index in range. The checks of the large columns are plain loops inside zod schemas
 * (`column`), because a schema per element costs about a microsecond each, which is most of a
 * quiet run at this size. Version 2 (one object per record) is still read, so a state saved before
 * the upgrade saves its next run a full collection; every save writes version 3.
 */
import { z } from 'zod'
import { EvidenceStateError } from '../errors.js'
import {
  type Detections,
  DetectionTable,
  type IdColumn,
  idAt,
  idCount,
  packIds,
  type StoredTime,
  storedTime,
  unpackIds,
} from './detections.js'
import type { EvidenceState, FullProgress, StoredDetection, StoredUser } from './state.js'

const STATE_VERSION = 3 as const
const MAX_TEXT = 1024
const MAX_ID = 256
const text = z.string().max(MAX_TEXT)
const id = z.string().min(1).max(MAX_ID)
const time = z.iso.datetime({ offset: true })
const optional = <T extends z.ZodType>(t: T) => t.optional()

// The same shape as z.iso.datetime({ offset: true }), as a plain regex for the large columns.
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/

type Check = (v: unknown) => boolean
const isText: Check = (v) => typeof v === 'string' && v.length <= MAX_TEXT
const isId: Check = (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID
const isTime: Check = (v) => typeof v === 'string' && v.length <= 64 && TIME.test(v)
const isIndex: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null || check(v)

/** An array whose every element passes `check`, named by the first that does not. */
function column<T>(check: Check, what: string) {
  return z
    .custom<unknown[]>((v) => Array.isArray(v), 'expected an array')
    .check((ctx) => {
      const values = ctx.value
      for (let i = 0; i < values.length; i++) {
        if (check(values[i])) continue
        ctx.issues.push({ code: 'custom', message: `expected ${what}`, input: values[i], path: [i] })
        return
      }
    }) as unknown as z.ZodType<T[]>
}

/** A column of ids: an array, or packed (ids of one length as one text, see detections.ts). */
const ids = () =>
  z
    .custom<string[] | { width: number; text: string }>(
      (v) => Array.isArray(v) || isPackedIds(v),
      'expected an array of ids or packed ids',
    )
    .check((ctx) => {
      const values = ctx.value
      if (!Array.isArray(values)) return
      for (let i = 0; i < values.length; i++) {
        if (isId(values[i])) continue
        ctx.issues.push({ code: 'custom', message: 'expected an id', input: values[i], path: [i] })
        return
      }
    })

/** `{ width, text }`: a width of 1 to 256 and a text of whole ids. */
const isPackedIds = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null) return false
  const { width, text, ...rest } = v as { width?: unknown; text?: unknown }
  return (
    Object.keys(rest).length === 0 &&
    typeof width === 'number' &&
    Number.isInteger(width) &&
    width >= 1 &&
    width <= MAX_ID &&
    typeof text === 'string' &&
    text.length % width === 0
  )
}

/** The earliest and latest instants a stored time may name: years 0 to 9999, as ISO 8601 writes them. */
const TIME_MIN = Date.parse('0000-01-01T00:00:00.000Z')
const TIME_MAX = Date.parse('9999-12-31T23:59:59.999Z')

const DEFENDER = z.object({
  identityAccountId: id,
  accounts: z.array(z.object({ provider: text, identifier: text, actions: z.array(text) })).max(100),
})

const LIST_PROGRESS = z.object({
  startedAt: optional(time),
  next: optional(z.url({ protocol: /^https$/ }).max(8192)),
  done: z.boolean(),
})

const HEADER = {
  tenantId: id,
  policyDigest: id,
  fullAt: optional(time),
  watermarks: z.object({ users: optional(time), detections: optional(time) }),
  refusedAt: optional(time),
  progress: optional(z.object({ users: LIST_PROGRESS, detections: LIST_PROGRESS })),
}

const V3 = z.object({
  version: z.literal(3),
  ...HEADER,
  /** The short values that repeat, referred to by index. */
  strings: column<string>(isText, 'a string of at most 1024 characters'),
  users: z.object({
    id: ids(),
    upn: column<string>(isText, 'a string of at most 1024 characters'),
    level: column<number>(isIndex, 'an index into strings'),
    state: column<number>(isIndex, 'an index into strings'),
    detail: column<number | null>(orNull(isIndex), 'an index into strings or null'),
    updated: column<string | null>(orNull(isTime), 'a date-time or null'),
    /** Directory facts: 1/0 for accountEnabled and onPremisesSyncEnabled, null when never read. */
    enabled: column<number | null>(orNull(isIndex), '1, 0 or null'),
    synced: column<number | null>(orNull(isIndex), '1, 0 or null'),
    userType: column<number | null>(orNull(isIndex), 'an index into strings or null'),
    /** Sparse: [row, facts] for the users with a Defender for Identity identity. */
    defender: z.array(z.tuple([z.int().min(0), DEFENDER])),
    defenderNote: z.array(z.tuple([z.int().min(0), text])),
  }),
  detections: z.object({
    id: ids(),
    /** The distinct users of the detections; `user` indexes it. */
    users: ids(),
    user: column<number>(isIndex, 'an index into detections.users'),
    type: column<number>(isIndex, 'an index into strings'),
    level: column<number | null>(orNull(isIndex), 'an index into strings or null'),
    source: column<number | null>(orNull(isIndex), 'an index into strings or null'),
    /** What the numbers in `detected` count from (ms since 1970). */
    epoch: z.int().min(TIME_MIN).max(TIME_MAX),
    /** A whole number of ms after `epoch` (the time's ISO form), or the time as Graph wrote it. */
    detected: column<number | string>(
      (v) => (typeof v === 'number' && Number.isSafeInteger(v)) || isTime(v),
      'a date-time or a whole number of ms',
    ),
    timing: column<number | null>(orNull(isIndex), 'an index into strings or null'),
    /** lastUpdatedDateTime: 1 when it is the detectedDateTime (most are), null when Graph gave none. */
    updated: column<string | 1 | null>((v) => v === 1 || v === null || isTime(v), 'a date-time, 1 or null'),
  }),
})
type V3 = z.infer<typeof V3>

// Version 2: one object per record (read for migration only).
const V2_USER = z.object({
  userId: id,
  userPrincipalName: text,
  risk: z.object({ level: text, state: text, detail: optional(text) }),
  updated: optional(time),
  directory: optional(
    z.object({ accountEnabled: z.boolean(), onPremisesSyncEnabled: z.boolean(), userType: text }),
  ),
  defender: optional(DEFENDER),
  defenderNote: optional(text),
})

const V2_DETECTION = z.object({
  id,
  userId: id,
  riskEventType: text,
  riskLevel: optional(text),
  source: optional(text),
  detectedDateTime: time,
  detectionTimingType: optional(text),
  updated: optional(time),
})

const V2 = z.object({
  version: z.literal(2),
  ...HEADER,
  users: z.array(V2_USER),
  detections: z.array(V2_DETECTION),
})

const VERSION = z.object({ version: z.union([z.literal(2), z.literal(3)]) })

/** The state from its stored text (version 3, or 2 from before issue #24); a clear error naming the field when it is not one. */
export const parseState = (raw: string, location: string): EvidenceState =>
  stateOf(parseDocument(raw, location))

/**
 * A state's stored form, checked: what a cache keeps between runs (arrays of strings and numbers,
 * never changed once made), turned into a state a run may change by `stateOf`.
 */
export interface StateDocument {
  readonly checked: V3
  readonly location: string
}

/** The stored text, checked, as a document (a version 2 text is migrated to version 3's form). */
export function parseDocument(raw: string, location: string): StateDocument {
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    throw new EvidenceStateError(location, 'not JSON')
  }
  const version = VERSION.safeParse(json)
  if (!version.success) throw refusal(location, version.error)
  if (version.data.version === 2) {
    const parsed = V2.safeParse(json)
    if (!parsed.success) throw refusal(location, parsed.error)
    const s = parsed.data
    const state: EvidenceState = {
      ...headerOf(s),
      users: new Map(s.users.map((u) => [u.userId, u])),
      detections: new Map(s.detections.map((d) => [d.id, d])),
    }
    return { checked: encode(state), location }
  }
  const parsed = V3.safeParse(json)
  if (!parsed.success) throw refusal(location, parsed.error)
  return { checked: parsed.data, location }
}

/** A fresh state from a document, its lengths and indices checked: its records are new objects each time. */
export const stateOf = (document: StateDocument): EvidenceState => decode(document.checked, document.location)

/** The state's document, for a cache. */
export const documentOf = (state: EvidenceState, location: string): StateDocument => ({
  checked: encode(state),
  location,
})

function refusal(location: string, error: z.ZodError): EvidenceStateError {
  const issue = error.issues[0]
  const where = issue?.path.join('.') || '(root)'
  return new EvidenceStateError(location, `${where}: ${issue?.message ?? 'invalid'}`)
}

function headerOf(s: z.infer<typeof V2> | V3): Omit<EvidenceState, 'users' | 'detections'> {
  return {
    tenantId: s.tenantId,
    policyDigest: s.policyDigest,
    fullAt: s.fullAt,
    watermarks: { users: s.watermarks.users, detections: s.watermarks.detections },
    refusedAt: s.refusedAt,
    ...(s.progress === undefined ? {} : { progress: s.progress as FullProgress }),
  }
}

/** The columns back into records; every length and index is checked here (zod checked the types). */
function decode(s: V3, location: string): EvidenceState {
  const fail = (where: string, problem: string): never => {
    throw new EvidenceStateError(location, `${where}: ${problem}`)
  }
  const sameLength = (table: string, columns: Record<string, unknown[] | IdColumn>, rows: number) => {
    for (const [name, values] of Object.entries(columns)) {
      const n = typeof values === 'number' ? rows : idCount(values as IdColumn)
      if (n !== rows) fail(`${table}.${name}`, `${n} values for ${rows} rows`)
    }
  }
  // The field's name is only spelled out when it is wrong (a string per value would cost more than the rest).
  const string = (column: string, row: number, i: number): string =>
    s.strings[i] ?? fail(`${column}.${row}`, `index ${i} is not in strings (${s.strings.length})`)
  const optionalString = (column: string, row: number, i: number | null): string | undefined =>
    i === null ? undefined : string(column, row, i)

  const { defender, defenderNote, ...userColumns } = s.users
  const rows = idCount(s.users.id)
  sameLength('users', userColumns, rows)
  const users = new Map<string, StoredUser>()
  const userIds: string[] = []
  for (let i = 0; i < rows; i++) {
    const userId = idAt(s.users.id, i)
    userIds.push(userId)
    const enabled = s.users.enabled[i] ?? null
    const synced = s.users.synced[i] ?? null
    const userType = s.users.userType[i] ?? null
    const user: StoredUser = {
      userId,
      userPrincipalName: s.users.upn[i] as string,
      risk: {
        level: string('users.level', i, s.users.level[i] as number),
        state: string('users.state', i, s.users.state[i] as number),
        detail: optionalString('users.detail', i, s.users.detail[i] ?? null),
      },
      updated: s.users.updated[i] ?? undefined,
    }
    const facts = [enabled, synced, userType]
    if (facts.some((f) => f !== null)) {
      if (enabled === null || synced === null || userType === null || enabled > 1 || synced > 1)
        fail(`users.enabled.${i}`, 'directory facts are all three (enabled and synced 1 or 0) or none')
      user.directory = {
        accountEnabled: enabled === 1,
        onPremisesSyncEnabled: synced === 1,
        userType: string('users.userType', i, userType as number),
      }
    }
    users.set(userId, user)
  }
  const row = (where: string, i: number): StoredUser =>
    users.get(userIds[i] ?? '') ?? fail(where, `row ${i} is not a user (${rows})`)
  for (const [n, [i, facts]] of defender.entries()) row(`users.defender.${n}`, i).defender = facts
  for (const [n, [i, note]] of defenderNote.entries()) row(`users.defenderNote.${n}`, i).defenderNote = note

  return { ...headerOf(s), users, detections: detectionTable(s, fail) }
}

/**
 * The detections as a table over their columns (detections.ts): every length and index is checked
 * here, in passes over the numbers, so that no record made later can fail.
 */
function detectionTable(s: V3, fail: (where: string, problem: string) => never): DetectionTable {
  const d = s.detections
  const { users: detectionUsers, epoch: _, ...detectionColumns } = d
  const rows = d.user.length
  for (const [name, values] of Object.entries(detectionColumns)) {
    const n = idCount(values as IdColumn)
    if (n !== rows) fail(`detections.${name}`, `${n} values for ${rows} rows`)
  }
  const within = (column: string, values: readonly (number | null)[], size: number, table: string) => {
    for (let row = 0; row < values.length; row++) {
      const i = values[row]
      if (i !== null && (i as number) >= size) fail(`${column}.${row}`, `index ${i} is not in ${table}`)
    }
  }
  const strings = s.strings.length
  within('detections.user', d.user, idCount(detectionUsers), 'detections.users')
  within('detections.type', d.type, strings, `strings (${strings})`)
  within('detections.level', d.level, strings, `strings (${strings})`)
  within('detections.source', d.source, strings, `strings (${strings})`)
  within('detections.timing', d.timing, strings, `strings (${strings})`)
  for (let row = 0; row < d.detected.length; row++) {
    const time = d.detected[row]
    if (typeof time === 'number' && !(d.epoch + time >= TIME_MIN && d.epoch + time <= TIME_MAX))
      fail(`detections.detected.${row}`, `epoch + ${time} is not a time of years 0 to 9999`)
  }
  return DetectionTable.of({ ...d, strings: s.strings })
}

/** The index of a user in `users` (built on first use), appending a user not yet there. */
function userIndexer(users: string[]): (userId: string) => number {
  let userIndex: Map<string, number> | undefined
  return (userId) => {
    if (userIndex === undefined) {
      userIndex = new Map()
      for (let u = 0; u < users.length; u++)
        if (!userIndex.has(users[u] as string)) userIndex.set(users[u] as string, u)
    }
    let u = userIndex.get(userId)
    if (u === undefined) {
      u = users.length
      users.push(userId)
      userIndex.set(userId, u)
    }
    return u
  }
}

/** A table's live rows, column by column (copied by index; all of a column when every row lives). */
function liveRows(table: DetectionTable | undefined) {
  const out = {
    id: [] as string[],
    user: [] as number[],
    type: [] as number[],
    level: [] as (number | null)[],
    source: [] as (number | null)[],
    detected: [] as StoredTime[],
    timing: [] as (number | null)[],
    updated: [] as (string | 1 | null)[],
  }
  if (table === undefined) return out
  const c = table.columns
  const rows = table.rows()
  const pick = <T>(column: readonly T[]): T[] =>
    rows.length === column.length ? column.slice() : rows.map((row) => column[row] as T)
  out.id = rows.map((row) => idAt(c.id, row))
  out.user = pick(c.user)
  out.type = pick(c.type)
  out.level = pick(c.level)
  out.source = pick(c.source)
  out.detected = pick(c.detected)
  out.timing = pick(c.timing)
  out.updated = pick(c.updated)
  return out
}

/**
 * The detections' columns: a table's live rows copied by index (an unchanged table's columns as
 * they are), then the records set since, each value by `ref`.
 */
function encodeDetections(detections: Detections, ref: (value: string) => number): V3['detections'] {
  const optionalRef = (value: string | undefined): number | null => (value === undefined ? null : ref(value))
  const table = detections instanceof DetectionTable ? detections : undefined
  const unchanged = table?.unchanged
  if (unchanged !== undefined) {
    const { strings: _, ...columns } = unchanged
    return columns as V3['detections']
  }
  const records = table !== undefined ? [...table.addedRecords()] : [...detections.values()]
  // The table's rows keep their numbers; the records set since count from the same epoch.
  const epoch = table?.columns.epoch ?? earliest(records)
  // The users table is kept whole (a row's user keeps its index); users of records set since are added.
  const users = table === undefined ? [] : unpackIds(table.columns.users)
  const userOf = userIndexer(users)
  const out = liveRows(table)
  for (const d of records) {
    out.id.push(d.id)
    out.user.push(userOf(d.userId))
    out.type.push(ref(d.riskEventType))
    out.level.push(optionalRef(d.riskLevel))
    out.source.push(optionalRef(d.source))
    out.detected.push(storedTime(d.detectedDateTime, epoch))
    out.timing.push(optionalRef(d.detectionTimingType))
    out.updated.push(d.updated === undefined ? null : d.updated === d.detectedDateTime ? 1 : d.updated)
  }
  // In the schema's order (zod's output has it), so that a state loaded and saved unchanged is the same text.
  return {
    id: packIds(out.id),
    users: packIds(users),
    user: out.user,
    type: out.type,
    level: out.level,
    source: out.source,
    epoch,
    detected: out.detected,
    timing: out.timing,
    updated: out.updated,
  }
}

/** The earliest detected time of these records, to count the others from (0 when there is none). */
function earliest(records: readonly StoredDetection[]): number {
  let min = Number.POSITIVE_INFINITY
  for (const d of records) {
    const ms = Date.parse(d.detectedDateTime)
    if (ms < min) min = ms
  }
  return Number.isFinite(min) ? min : 0
}

/** The state as version 3 text. */
export const serializeState = (state: EvidenceState): string => JSON.stringify(encode(state))

function encode(state: EvidenceState): V3 {
  // A table's rows keep their indices into the strings they were loaded with.
  const strings: string[] =
    state.detections instanceof DetectionTable ? [...state.detections.columns.strings] : []
  const indexOf = new Map<string, number>()
  for (let i = 0; i < strings.length; i++)
    if (!indexOf.has(strings[i] as string)) indexOf.set(strings[i] as string, i)
  const ref = (value: string): number => {
    let i = indexOf.get(value)
    if (i === undefined) {
      i = strings.length
      strings.push(value)
      indexOf.set(value, i)
    }
    return i
  }
  const optionalRef = (value: string | undefined): number | null => (value === undefined ? null : ref(value))
  const userIds: string[] = []
  const users: Omit<V3['users'], 'id'> = {
    upn: [],
    level: [],
    state: [],
    detail: [],
    updated: [],
    enabled: [],
    synced: [],
    userType: [],
    defender: [],
    defenderNote: [],
  }
  for (const u of state.users.values()) {
    const row = userIds.length
    userIds.push(u.userId)
    users.upn.push(u.userPrincipalName)
    users.level.push(ref(u.risk.level))
    users.state.push(ref(u.risk.state))
    users.detail.push(optionalRef(u.risk.detail))
    users.updated.push(u.updated ?? null)
    users.enabled.push(u.directory === undefined ? null : u.directory.accountEnabled ? 1 : 0)
    users.synced.push(u.directory === undefined ? null : u.directory.onPremisesSyncEnabled ? 1 : 0)
    users.userType.push(u.directory === undefined ? null : ref(u.directory.userType))
    if (u.defender !== undefined) users.defender.push([row, u.defender])
    if (u.defenderNote !== undefined) users.defenderNote.push([row, u.defenderNote])
  }
  const detections = encodeDetections(state.detections, ref)
  return {
    version: STATE_VERSION,
    tenantId: state.tenantId,
    policyDigest: state.policyDigest,
    fullAt: state.fullAt,
    watermarks: { ...state.watermarks },
    refusedAt: state.refusedAt,
    progress: state.progress === undefined ? undefined : structuredClone(state.progress),
    strings,
    users: { id: packIds(userIds), ...users },
    detections,
  }
}
