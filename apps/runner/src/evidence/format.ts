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
 * quiet run at this size. Version 4 (decision 018) splits those columns in two lines: a head a run
 * always parses (the users and their detections) and a body it parses only when it needs it (the
 * other users' detections, most of a large tenant's). Versions 2 (one object per record) and 3 are
 * still read, so a state saved before an upgrade saves its next run a full collection; every save
 * writes version 4.
 */
import { z } from 'zod'
import { EvidenceStateError } from '../errors.js'
import {
  type DetectionBody,
  type DetectionColumns,
  type Detections,
  DetectionTable,
  detectionsOf,
  type IdColumn,
  idAt,
  idCount,
  packIds,
  SplitDetections,
  type StoredTime,
  storedTime,
  unpackIds,
} from './detections.js'
import type { EvidenceState, FullProgress, StoredDetection, StoredUser } from './state.js'

const STATE_VERSION = 4 as const
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
  detections: detectionColumns(),
})
type V3 = z.infer<typeof V3>

/** The detections' columns (version 3's, and both parts of version 4's). */
function detectionColumns() {
  return z.object({
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
  })
}

/**
 * Version 4 (issue #24): two lines. The head is version 3's form for the users and the detections
 * of those users (all the policy evaluates), with what the body holds; the body is the other
 * detections with their own strings, parsed only when a run needs them (detections.ts), so a quiet
 * run parses a few kilobytes, not megabytes, and a save that changed none of them writes their
 * text as it was loaded. Each line is checked when it is parsed.
 */
const V4 = V3.extend({
  version: z.literal(4),
  /** What the body holds: checked against it when it is parsed. */
  body: z.object({ count: z.int().min(0), oldest: z.int().min(TIME_MIN).max(TIME_MAX).nullable() }),
})
type V4 = z.infer<typeof V4>

const BODY = z.object({
  strings: column<string>(isText, 'a string of at most 1024 characters'),
  detections: detectionColumns(),
})
type Body = z.infer<typeof BODY>

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

const VERSION = z.object({ version: z.union([z.literal(2), z.literal(3), z.literal(4)]) })

/** The state from its stored text (version 4; 3 and 2 from before it), every part checked now; a clear error naming the field when it is not one. */
export function parseState(raw: string, location: string): EvidenceState {
  const state = stateOf(parseDocument(raw, location))
  if (state.detections instanceof SplitDetections) state.detections.table()
  return state
}

/**
 * A state's stored form, checked: what a cache keeps between runs (the head's arrays of strings and
 * numbers, never changed once made, and the body, parsed once when first needed), turned into a
 * state a run may change by `stateOf`.
 */
export interface StateDocument {
  readonly head: V4
  readonly body: DetectionBody
  readonly location: string
  /** The version it was stored in: an older one is saved in version 4 by the next apply run. */
  readonly stored: 2 | 3 | 4
}

/**
 * The stored text as a document: the head checked now, the body when a run first needs it. A
 * version 2 or 3 text (one JSON document) is checked whole and migrated to version 4's form.
 */
export function parseDocument(raw: string, location: string): StateDocument {
  const newline = raw.indexOf('\n')
  let json = jsonOf(newline < 0 ? raw : raw.slice(0, newline))
  // Versions 2 and 3 are one document, which an editor may have spread over lines.
  if (json === undefined && newline >= 0) json = jsonOf(raw)
  if (json === undefined) throw new EvidenceStateError(location, 'not JSON')
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
    return { ...storedForm(state, location).document, stored: 2 }
  }
  if (version.data.version === 3) {
    const parsed = V3.safeParse(json)
    if (!parsed.success) throw refusal(location, parsed.error)
    return { ...storedForm(decode(parsed.data, location), location).document, stored: 3 }
  }
  const parsed = V4.safeParse(json)
  if (!parsed.success) throw refusal(location, parsed.error)
  if (newline < 0) throw new EvidenceStateError(location, 'body: missing (version 4 is two lines)')
  const head = parsed.data
  return { head, body: bodyOf(raw.slice(newline + 1), head.body, location), location, stored: 4 }
}

const jsonOf = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * A fresh state from a document, the head's lengths and indices checked: its records are new
 * objects each time; its detections parse the body when a run first needs it (detections.ts).
 */
export function stateOf(document: StateDocument): EvidenceState {
  const state = decode(document.head, document.location)
  const head = state.detections as DetectionTable
  const headUsers = new Set(state.users.keys())
  return { ...state, detections: SplitDetections.of(head, document.body, headUsers) }
}

/** The body from its text, parsed and checked against what the head says of it when first asked for (`parsed`: written by this process, so already columns). */
function bodyOf(text: string, about: V4['body'], location: string, parsed?: Body): DetectionBody {
  let columns: DetectionColumns | undefined =
    parsed === undefined ? undefined : { ...parsed.detections, strings: parsed.strings }
  return {
    count: about.count,
    oldest: about.oldest ?? undefined,
    text,
    columns: () => {
      columns ??= parseBody(text, about, location)
      return columns
    },
  }
}

/** The body's text, checked as the head's detections are, and against what the head says of it. */
function parseBody(text: string, about: V4['body'], location: string): DetectionColumns {
  const json = jsonOf(text)
  if (json === undefined) throw new EvidenceStateError(location, 'body: not JSON')
  const parsed = BODY.safeParse(json)
  if (!parsed.success) throw refusal(location, parsed.error, 'body.')
  const fail = (where: string, problem: string): never => {
    throw new EvidenceStateError(location, `body.${where}: ${problem}`)
  }
  const table = detectionTable(parsed.data, fail)
  const rows = parsed.data.detections.user.length
  if (rows !== about.count) fail('detections', `${rows} rows where the head says ${about.count}`)
  const oldest = oldestOf(parsed.data.detections)
  if (oldest !== about.oldest)
    fail('detections.detected', `the earliest is ${oldest} where the head says ${about.oldest}`)
  return table.columns
}

/** The earliest detected time of stored columns (ms), null when there are none. */
function oldestOf(d: V3['detections']): number | null {
  let min = Number.POSITIVE_INFINITY
  for (const time of d.detected) {
    const ms = typeof time === 'number' ? d.epoch + time : Date.parse(time)
    if (ms < min) min = ms
  }
  return Number.isFinite(min) ? min : null
}

/**
 * The state's stored text, and its document for a cache. The body is written as it was loaded
 * while no run parsed it (then the head holds every detection of the state's users, as when it was
 * loaded); otherwise the detections are split anew by the state's users.
 */
export function storedForm(
  state: EvidenceState,
  location: string,
): { text: string; document: StateDocument } {
  const { head, body } = encode(state)
  const bodyText = typeof body === 'string' ? body : JSON.stringify(body)
  const document = {
    head,
    body: bodyOf(bodyText, head.body, location, typeof body === 'string' ? undefined : body),
    location,
    stored: STATE_VERSION,
  }
  return { text: `${JSON.stringify(head)}\n${bodyText}`, document }
}

function refusal(location: string, error: z.ZodError, prefix = ''): EvidenceStateError {
  const issue = error.issues[0]
  const where = issue?.path.join('.') || '(root)'
  return new EvidenceStateError(location, `${prefix}${where}: ${issue?.message ?? 'invalid'}`)
}

function headerOf(s: z.infer<typeof V2> | Omit<V3, 'version'>): Omit<EvidenceState, 'users' | 'detections'> {
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
function decode(s: Omit<V3, 'version'>, location: string): EvidenceState {
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
function detectionTable(
  s: Pick<V3, 'strings' | 'detections'>,
  fail: (where: string, problem: string) => never,
): DetectionTable {
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

/**
 * The detections' columns: a table's live rows copied by index (an unchanged table's columns as
 * they are), then the records set since, each value by `ref`; only those of users `keep` admits.
 */
function encodeDetections(
  detections: Detections,
  ref: (value: string) => number,
  keep?: (userId: string) => boolean,
): V3['detections'] {
  const table = detections instanceof DetectionTable ? detections : undefined
  const kept = (d: StoredDetection) => keep === undefined || keep(d.userId)
  const records = (table !== undefined ? [...table.addedRecords()] : [...detections.values()]).filter(kept)
  const rows = table === undefined ? [] : keptRows(table, keep)
  if (table !== undefined && records.length === 0 && rows.length === table.columns.user.length) {
    const { strings: _, ...columns } = table.columns
    return columns as V3['detections']
  }
  // The table's rows keep their numbers; the records set since count from the same epoch.
  const epoch = table?.columns.epoch ?? earliest(records)
  // The users table is kept whole (a row's user keeps its index); users of records set since are added.
  const users = table === undefined ? [] : unpackIds(table.columns.users)
  const userOf = indexer(users)
  const optionalRef = (value: string | undefined): number | null => (value === undefined ? null : ref(value))
  const out = table === undefined ? emptyColumns() : rowColumns(table, rows)
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

/** The live rows of a table whose user `keep` admits (all of them without `keep`). */
function keptRows(table: DetectionTable, keep: ((userId: string) => boolean) | undefined): number[] {
  const rows = table.rows()
  if (keep === undefined) return rows
  const { users, user } = table.columns
  const kept = new Uint8Array(idCount(users))
  for (let u = 0; u < kept.length; u++) if (keep(idAt(users, u))) kept[u] = 1
  return rows.filter((row) => kept[user[row] as number] === 1)
}

type Columns = {
  id: string[]
  user: number[]
  type: number[]
  level: (number | null)[]
  source: (number | null)[]
  detected: StoredTime[]
  timing: (number | null)[]
  updated: (string | 1 | null)[]
}

const emptyColumns = (): Columns => ({
  id: [],
  user: [],
  type: [],
  level: [],
  source: [],
  detected: [],
  timing: [],
  updated: [],
})

/** These rows of a table's columns, copied. */
function rowColumns(table: DetectionTable, rows: number[]): Columns {
  const c = table.columns
  const pick = <T>(column: readonly T[]): T[] =>
    rows.length === column.length ? column.slice() : rows.map((row) => column[row] as T)
  return {
    id: rows.map((row) => idAt(c.id, row)),
    user: pick(c.user),
    type: pick(c.type),
    level: pick(c.level),
    source: pick(c.source),
    detected: pick(c.detected),
    timing: pick(c.timing),
    updated: pick(c.updated),
  }
}

/** The index of each value in `values`, added at the end when it is not there yet. */
function indexer(values: string[]): (value: string) => number {
  let index: Map<string, number> | undefined
  return (value) => {
    if (index === undefined) {
      index = new Map()
      for (let i = 0; i < values.length; i++)
        if (!index.has(values[i] as string)) index.set(values[i] as string, i)
    }
    let i = index.get(value)
    if (i === undefined) {
      i = values.length
      values.push(value)
      index.set(value, i)
    }
    return i
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

/** The state as version 4 text. */
export const serializeState = (state: EvidenceState): string => storedForm(state, '').text

/**
 * The head (the header, the users and every detection of theirs) and the body (the other
 * detections): the body's text as loaded while no run parsed it.
 */
function encode(state: EvidenceState): { head: V4; body: Body | string } {
  const unparsed = state.detections instanceof SplitDetections ? state.detections.unparsed : undefined
  // The head's strings from the head's table keep its rows' indices.
  const strings: string[] = unparsed === undefined ? [] : [...unparsed.head.columns.strings]
  const ref = indexer(strings)
  const users = encodeUsers(state, ref)
  let headDetections: Detections
  let body: Body | string
  let about: V4['body']
  if (unparsed !== undefined) {
    headDetections = unparsed.head
    body = unparsed.body.text
    about = { count: unparsed.body.count, oldest: unparsed.body.oldest ?? null }
  } else {
    const all = state.detections instanceof SplitDetections ? state.detections.table() : state.detections
    const theirs = detectionsOf(all, new Set(state.users.keys()))
    headDetections = new Map([...theirs.values()].flat().map((d) => [d.id, d]))
    const bodyStrings = all instanceof DetectionTable ? [...all.columns.strings] : []
    const detections = encodeDetections(all, indexer(bodyStrings), (userId) => !state.users.has(userId))
    body = { strings: bodyStrings, detections }
    about = { count: detections.user.length, oldest: oldestOf(detections) }
  }
  const detections = encodeDetections(headDetections, ref)
  return {
    head: {
      version: STATE_VERSION,
      tenantId: state.tenantId,
      policyDigest: state.policyDigest,
      fullAt: state.fullAt,
      watermarks: { ...state.watermarks },
      refusedAt: state.refusedAt,
      progress: state.progress === undefined ? undefined : structuredClone(state.progress),
      strings,
      users,
      detections,
      body: about,
    },
    body,
  }
}

/** The users' columns, each short value by `ref`. */
function encodeUsers(state: EvidenceState, ref: (value: string) => number): V3['users'] {
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
  return { id: packIds(userIds), ...users }
}
