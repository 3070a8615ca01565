/**
 * Identity Protection's side of a collection (decision 015): full and incremental reads, a
 * watermark per list from the first answer's Date header, a 400 judged by which request it
 * answered, and a watermark ahead of Graph's clock refused.
 */
import { ErrorCode, RISK_DETECTION_SELECT, RISKY_USER_SELECT } from '@tourniquet/core'
import { parsePolicy } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { parseDocument, stateOf } from '../../src/evidence/format.js'
import {
  emptyFreshness,
  FilterRefused,
  type Freshness,
  FutureWatermark,
  ReadCutShort,
  type Reading,
  ResumeRefused,
  readAllDetections,
  readAllRiskyUsers,
  readChanges,
  storedDetection,
  storedUser,
  UnusableBody,
} from '../../src/evidence/read.js'
import {
  type EvidenceState,
  emptyState,
  serializeState,
  signalsOf,
  unusableDetections,
} from '../../src/evidence/state.js'
import { detection, FakeGraph, graphError, pageLink, riskyUser } from './support/fakeGraph.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const OVERLAP = 10 * MINUTE
/** Graph's clock in these tests; the host's clock is set apart from it where that matters. */
const GRAPH_NOW = Date.parse('2026-12-02T12:00:00Z')
const httpDate = (ms: number) => new Date(ms).toUTCString()
const iso = (ms: number) => new Date(ms).toISOString()

const POLICY = parsePolicy(`version: 1
lookback: PT24H
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [disable]
`)

function reading(graph: FakeGraph, now = GRAPH_NOW, fresh: Freshness = emptyFreshness()): Reading {
  return {
    client: graph.graph,
    policy: POLICY,
    now: new Date(now),
    notes: { riskyUsers: 0, detections: 0, warnings: [] },
    signal: undefined,
    fresh,
  }
}

describe('emptyFreshness', () => {
  it('has read nothing and changed nothing', () => {
    expect(emptyFreshness()).toEqual({
      users: new Set(),
      detections: new Set(),
      directory: new Set(),
      defender: new Set(),
      sids: new Map(),
      graphTime: undefined,
      modified: false,
    })
  })
})

describe('readAllRiskyUsers', () => {
  it('reads the admitted risky users into the state and takes the first answer`s Date as the watermark', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = {
      pages: [
        { items: [riskyUser('u1'), riskyUser('gone', { isDeleted: true })], date: httpDate(GRAPH_NOW) },
        { items: [riskyUser('u2')], date: httpDate(GRAPH_NOW + 5 * MINUTE) },
      ],
    }
    const r = reading(graph)
    const state = emptyState('t', 'd')
    expect(await readAllRiskyUsers(r, state)).toBe(true)
    expect(graph.calls.riskyUsersList).toEqual([
      {
        query: {
          riskLevels: ['high'],
          riskStates: ['atRisk', 'confirmedCompromised'],
          select: RISKY_USER_SELECT,
        },
      },
    ])
    expect([...state.users.keys()]).toEqual(['u1', 'u2'])
    expect(state.users.get('u1')).toEqual(storedUser(riskyUser('u1')))
    // A deleted record was read (it is fresh: not risky any more), but is not stored.
    expect(r.fresh.users).toEqual(new Set(['u1', 'gone', 'u2']))
    expect(r.notes.riskyUsers).toBe(2)
    expect(state.watermarks.users).toBe(iso(GRAPH_NOW))
    expect(r.fresh.graphTime).toBe(GRAPH_NOW)
  })

  it('keeps the Graph time of the run`s first answer', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = { pages: [{ items: [], date: httpDate(GRAPH_NOW) }] }
    const r = reading(graph, GRAPH_NOW, { ...emptyFreshness(), graphTime: GRAPH_NOW - HOUR })
    const state = emptyState('t', 'd')
    await readAllRiskyUsers(r, state)
    expect(r.fresh.graphTime).toBe(GRAPH_NOW - HOUR)
    expect(state.watermarks.users).toBe(iso(GRAPH_NOW))
  })

  it('has no watermark when the first answer has no Date, or one that is not a date (a later page`s does not count)', async () => {
    for (const date of [undefined, 'not a date']) {
      const graph = new FakeGraph()
      graph.riskyUserList = {
        pages: [
          { items: [riskyUser('u1')], date },
          { items: [], date: httpDate(GRAPH_NOW) },
        ],
      }
      const r = reading(graph)
      const state = emptyState('t', 'd')
      state.watermarks.users = iso(GRAPH_NOW - HOUR)
      expect(await readAllRiskyUsers(r, state)).toBe(true)
      expect(state.watermarks.users).toBeUndefined()
      expect(r.fresh.graphTime).toBeUndefined()
    }
  })

  it('ends the list with a warning when the service refuses a next page after one answered (the last-page quirk)', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = {
      pages: [
        { items: [riskyUser('u1')], date: httpDate(GRAPH_NOW) },
        { items: [riskyUser('u2')], date: httpDate(GRAPH_NOW) },
      ],
      error: graphError(400),
    }
    const r = reading(graph)
    const state = emptyState('t', 'd')
    expect(await readAllRiskyUsers(r, state)).toBe(false)
    expect([...state.users.keys()]).toEqual(['u1', 'u2'])
    expect(r.notes.riskyUsers).toBe(2)
    expect(r.notes.warnings).toEqual([
      'riskyUsers: the service refused page 3 after 2 risky users (400, a known quirk of the last page); they are acted on, any others are read by the next run',
    ])
    // Not read to the end: no watermark.
    expect(state.watermarks.users).toBeUndefined()
  })

  it('counts an empty first page as an answer', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = { pages: [{ items: [], date: httpDate(GRAPH_NOW) }], error: graphError(400) }
    expect(await readAllRiskyUsers(reading(graph), emptyState('t', 'd'))).toBe(false)
  })

  it('throws a 400 to the first request, another status after a page, and an error that is not Graph`s', async () => {
    const cases = [
      { pages: [], error: graphError(400) },
      { pages: [{ items: [riskyUser('u1')], date: httpDate(GRAPH_NOW) }], error: graphError(500) },
      {
        pages: [{ items: [riskyUser('u1')], date: httpDate(GRAPH_NOW) }],
        error: Object.assign(new Error('socket'), { status: 400 }),
      },
    ]
    for (const list of cases) {
      const graph = new FakeGraph()
      graph.riskyUserList = list
      const r = reading(graph)
      await expect(readAllRiskyUsers(r, emptyState('t', 'd'))).rejects.toBe(list.error)
      expect(r.notes.riskyUsers).toBe(list.pages.length === 0 ? 0 : 1)
    }
  })
})

/** The error core throws when the run's deadline passes (branded like core's, so isDeadlineError takes it). */
const deadline = () =>
  Object.assign(new Error('the deadline passed'), {
    [Symbol.for('tourniquet.error')]: true,
    code: ErrorCode.Deadline,
  })

describe('a full read cut short, and resumed', () => {
  it('keeps what was read when the deadline passes, and says where to resume and when the read began', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = {
      pages: [{ items: [riskyUser('u1')], date: httpDate(GRAPH_NOW) }],
      error: deadline(),
    }
    const state = emptyState('t', 'd')
    const cut = await readAllRiskyUsers(reading(graph), state)
    expect(cut).toBeInstanceOf(ReadCutShort)
    expect((cut as ReadCutShort).progress).toEqual({
      startedAt: iso(GRAPH_NOW),
      next: pageLink('riskyUsers', 2),
      done: false,
    })
    expect([...state.users.keys()]).toEqual(['u1'])
    // Not complete: no watermark yet.
    expect(state.watermarks.users).toBeUndefined()
  })

  it('resumes from the stored link, and takes the first part`s start as the watermark', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = {
      pages: [
        { items: [riskyUser('u1')], date: httpDate(GRAPH_NOW) },
        { items: [riskyUser('u2')], date: httpDate(GRAPH_NOW + HOUR) },
      ],
    }
    const state = emptyState('t', 'd')
    state.users.set('u1', storedUser(riskyUser('u1')))
    const resume = { startedAt: iso(GRAPH_NOW - HOUR), next: pageLink('riskyUsers', 2), done: false }
    expect(await readAllRiskyUsers(reading(graph), state, resume)).toBe(true)
    expect(graph.options.at(-1)?.[1]).toMatchObject({ from: pageLink('riskyUsers', 2) })
    expect([...state.users.keys()].sort()).toEqual(['u1', 'u2'])
    expect(state.watermarks.users).toBe(iso(GRAPH_NOW - HOUR))
  })

  it('a stop keeps the detections read and where to go on; a refused link to resume from starts over', async () => {
    const graph = new FakeGraph()
    graph.detectionList = {
      pages: [{ items: [detection('d1', 'u1')], date: httpDate(GRAPH_NOW) }],
      error: deadline(),
    }
    const stop = new AbortController()
    stop.abort()
    const state = emptyState('t', 'd')
    const cut = await readAllDetections({ ...reading(graph), signal: stop.signal }, state)
    expect(cut).toBeInstanceOf(ReadCutShort)
    expect((cut as ReadCutShort).progress.next).toBe(pageLink('riskDetections', 2))
    expect([...state.detections.keys()]).toEqual(['d1'])
    // A link the service does not answer (expired, or not one it gave): the caller starts over.
    const refused = await readAllDetections(reading(graph), state, {
      next: pageLink('riskDetections', 9),
      done: false,
    })
      .then(() => 'read')
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ResumeRefused)
    const users = await readAllRiskyUsers(reading(graph), emptyState('t', 'd'), {
      next: pageLink('riskyUsers', 9),
      done: false,
    })
    expect(users).toBeInstanceOf(ResumeRefused)
  })
})

describe('readAllDetections', () => {
  it('reads every detection of the lookback by the host clock and takes the first answer`s Date as the watermark', async () => {
    const graph = new FakeGraph()
    graph.detectionList = {
      pages: [
        { items: [detection('d1', 'u1')], date: httpDate(GRAPH_NOW) },
        { items: [detection('d2', 'u9')], date: httpDate(GRAPH_NOW + MINUTE) },
      ],
    }
    const r = reading(graph)
    const state = emptyState('t', 'd')
    await readAllDetections(r, state)
    expect(graph.calls.detectionsList).toEqual([
      { query: { since: new Date(GRAPH_NOW - 24 * HOUR), select: RISK_DETECTION_SELECT } },
    ])
    expect(state.detections).toEqual(
      new Map([
        ['d1', storedDetection(detection('d1', 'u1'))],
        ['d2', storedDetection(detection('d2', 'u9'))],
      ]),
    )
    expect(r.notes.detections).toBe(2)
    expect(r.fresh.detections).toEqual(new Set(['d1', 'd2']))
    expect(state.watermarks.detections).toBe(iso(GRAPH_NOW))
    expect(r.fresh.graphTime).toBe(GRAPH_NOW)
  })

  it('throws when a page fails, and leaves the watermark where it was', async () => {
    const graph = new FakeGraph()
    graph.detectionList = {
      pages: [{ items: [detection('d1', 'u1')], date: httpDate(GRAPH_NOW) }],
      error: graphError(400),
    }
    const state = emptyState('t', 'd')
    state.watermarks.detections = iso(GRAPH_NOW - HOUR)
    await expect(readAllDetections(reading(graph), state)).rejects.toThrow('Graph answered 400')
    expect(state.watermarks.detections).toBe(iso(GRAPH_NOW - HOUR))
  })
})

describe('storedUser and storedDetection', () => {
  it('keep what the policy evaluates and when Graph last changed the record', () => {
    expect(storedUser(riskyUser('u1', { userPrincipalName: undefined, riskDetail: 'x' }))).toEqual({
      userId: 'u1',
      userPrincipalName: 'u1',
      risk: { level: 'high', state: 'atRisk', detail: 'x' },
      updated: '2026-12-01T10:00:00Z',
    })
    expect(storedUser(riskyUser('u1')).userPrincipalName).toBe('u1@contoso.test')
    expect(storedDetection(detection('d1', 'u1'))).toEqual({
      id: 'd1',
      userId: 'u1',
      riskEventType: 'unfamiliarFeatures',
      riskLevel: 'high',
      source: 'IdentityProtection',
      detectedDateTime: '2026-12-01T09:00:00Z',
      detectionTimingType: 'realtime',
      updated: '2026-12-01T09:05:00Z',
    })
  })
})

/** A state as a previous run left it: both lists read to the end an hour before GRAPH_NOW. */
function previousState(): EvidenceState {
  const s = emptyState('t', 'd')
  s.watermarks = { users: iso(GRAPH_NOW - HOUR), detections: iso(GRAPH_NOW - HOUR + MINUTE) }
  s.users.set('u1', storedUser(riskyUser('u1')))
  s.users.set('u2', storedUser(riskyUser('u2')))
  s.detections.set(
    'd1',
    storedDetection(detection('d1', 'u1', { detectedDateTime: iso(GRAPH_NOW - 2 * HOUR) })),
  )
  return s
}

/** Both lists answer (with the given records) at Graph's clock. */
function changes(
  users: ReturnType<typeof riskyUser>[],
  detections: ReturnType<typeof detection>[],
  date = GRAPH_NOW,
) {
  const graph = new FakeGraph()
  graph.riskyUserList = { pages: [{ items: users, date: httpDate(date) }] }
  graph.detectionList = { pages: [{ items: detections, date: httpDate(date + 1000) }] }
  return graph
}

type Changes = { state: EvidenceState; touched: Set<string>; changed: boolean }
const ok = (r: unknown): Changes => {
  if (r instanceof FilterRefused || r instanceof FutureWatermark) throw new Error(`unexpected ${r.message}`)
  return r as Changes
}

describe('readChanges', () => {
  it('asks each list for what changed after its own watermark less the overlap, and moves both watermarks to Graph`s clock', async () => {
    const graph = changes([], [])
    const previous = previousState()
    const before = serializeState(previous)
    const r = ok(await readChanges(reading(graph), previous, OVERLAP))
    expect(graph.calls.riskyUsersList).toEqual([
      { query: { updatedAfter: new Date(GRAPH_NOW - HOUR - OVERLAP), select: RISKY_USER_SELECT } },
    ])
    expect(graph.calls.detectionsList).toEqual([
      {
        query: { updatedAfter: new Date(GRAPH_NOW - HOUR + MINUTE - OVERLAP), select: RISK_DETECTION_SELECT },
      },
    ])
    expect(r.state.watermarks).toEqual({ users: iso(GRAPH_NOW), detections: iso(GRAPH_NOW + 1000) })
    expect(r.touched).toEqual(new Set())
    // The previous state is left as it was.
    expect(serializeState(previous)).toBe(before)
  })

  it('reads a list never read to the end from the lookback`s start by the host clock', async () => {
    const graph = changes([], [])
    const previous = emptyState('t', 'd')
    await readChanges(reading(graph, GRAPH_NOW + HOUR), previous, OVERLAP)
    const from = new Date(GRAPH_NOW + HOUR - 24 * HOUR - OVERLAP)
    expect(graph.calls.riskyUsersList[0]?.query.updatedAfter).toEqual(from)
    expect(graph.calls.detectionsList[0]?.query.updatedAfter).toEqual(from)
  })

  it('skips a user re-read unchanged, and stores and touches one whose time, level, state or detail changed', async () => {
    const variants = [
      riskyUser('u1'),
      riskyUser('u1', { riskLastUpdatedDateTime: '2026-12-02T11:59:00Z' }),
      riskyUser('u1', { riskLevel: 'medium' }),
      riskyUser('u1', { riskState: 'confirmedCompromised' }),
      riskyUser('u1', { riskDetail: 'adminConfirmedUserCompromised' }),
    ]
    const touched = []
    for (const u of variants) {
      const r = ok(await readChanges(reading(changes([u], [])), previousState(), OVERLAP))
      touched.push([...r.touched])
    }
    expect(touched).toEqual([[], ['u1'], ['u1'], ['u1'], ['u1']])
    const r = ok(
      await readChanges(
        reading(changes([riskyUser('u1', { riskState: 'confirmedCompromised' })], [])),
        previousState(),
        OVERLAP,
      ),
    )
    expect(r.state.users.get('u1')).toEqual(
      storedUser(riskyUser('u1', { riskState: 'confirmedCompromised' })),
    )
    expect(r.changed).toBe(true)
  })

  it('drops a stored user the filter no longer admits or Graph deleted, and ignores one it never admitted', async () => {
    const graph = changes(
      [
        riskyUser('u1', { riskLevel: 'low' }),
        riskyUser('u2', { isDeleted: true, riskLastUpdatedDateTime: '2026-12-02T11:00:00Z' }),
        riskyUser('u3', { riskState: 'remediated' }),
        riskyUser('u4'),
      ],
      [],
    )
    const r = ok(await readChanges(reading(graph), previousState(), OVERLAP))
    expect([...r.state.users.keys()]).toEqual(['u4'])
    expect(r.touched).toEqual(new Set(['u1', 'u2', 'u4']))
    expect(r.state.users.get('u4')).toEqual(storedUser(riskyUser('u4')))
  })

  it('tells the number of risky users in the merged state', async () => {
    const graph = changes([riskyUser('u3')], [])
    const rd = reading(graph)
    ok(await readChanges(rd, previousState(), OVERLAP))
    expect(rd.notes.riskyUsers).toBe(3)
    expect(rd.fresh.users).toEqual(new Set(['u3']))
  })

  it('skips a detection re-read unchanged, and stores and touches a new or changed one', async () => {
    const d1 = detection('d1', 'u1', { detectedDateTime: iso(GRAPH_NOW - 2 * HOUR) })
    const same = ok(await readChanges(reading(changes([], [d1])), previousState(), OVERLAP))
    expect(same.touched).toEqual(new Set())
    const changed = { ...d1, riskLevel: 'low', lastUpdatedDateTime: '2026-12-02T11:59:00Z' }
    const fresh = detection('d2', 'u7', { detectedDateTime: iso(GRAPH_NOW - HOUR) })
    const rd = reading(changes([], [changed, fresh]))
    const r = ok(await readChanges(rd, previousState(), OVERLAP))
    expect(r.touched).toEqual(new Set(['u1', 'u7']))
    expect(r.state.detections.get('d1')).toEqual(storedDetection(changed))
    expect(r.state.detections.get('d2')).toEqual(storedDetection(fresh))
    expect(rd.notes.detections).toBe(2)
    expect(rd.fresh.detections).toEqual(new Set(['d1', 'd2']))
  })

  it('touches both users when a detection moves from one user to another', async () => {
    const moved = detection('d1', 'u2', { detectedDateTime: iso(GRAPH_NOW - 2 * HOUR) })
    const r = ok(await readChanges(reading(changes([], [moved])), previousState(), OVERLAP))
    expect(r.touched).toEqual(new Set(['u1', 'u2']))
    expect(r.state.detections.get('d1')?.userId).toBe('u2')
  })

  it('keeps what is in the lookback by Graph`s clock, not the host`s: a fast host clock drops nothing', async () => {
    // The host's clock is two hours ahead of Graph's.
    const host = GRAPH_NOW + 2 * HOUR
    const inLookback = detection('d2', 'u1', { detectedDateTime: iso(GRAPH_NOW - 23 * HOUR) })
    const rd = reading(changes([], [inLookback]), host)
    const previous = previousState()
    previous.detections.set(
      'd3',
      storedDetection(detection('d3', 'u2', { detectedDateTime: iso(GRAPH_NOW - 23 * HOUR) })),
    )
    const r = ok(await readChanges(rd, previous, OVERLAP))
    expect([...r.state.detections.keys()].sort()).toEqual(['d1', 'd2', 'd3'])
  })

  it('keeps a detection detected exactly at the lookback`s start by Graph`s clock', async () => {
    // Graph's clock is the first answer's Date: the detections' list, read first (GRAPH_NOW + 1 s).
    const edge = detection('d2', 'u1', { detectedDateTime: iso(GRAPH_NOW + 1000 - 24 * HOUR) })
    const r = ok(await readChanges(reading(changes([], [edge]), GRAPH_NOW + HOUR), previousState(), OVERLAP))
    expect(r.state.detections.get('d2')).toEqual(storedDetection(edge))
    expect(r.touched).toEqual(new Set(['u1']))
  })

  it('says the state changed when a record changed, even when no watermark moved far', async () => {
    const previous = previousState()
    previous.watermarks = { users: iso(GRAPH_NOW - MINUTE), detections: iso(GRAPH_NOW - MINUTE) }
    const quiet = ok(await readChanges(reading(changes([], [])), previous, OVERLAP))
    expect(quiet.changed).toBe(false)
    const busy = ok(await readChanges(reading(changes([riskyUser('u3')], [])), previous, OVERLAP))
    expect(busy.changed).toBe(true)
  })

  it('drops a changed detection that is out of the lookback, and ignores one never stored', async () => {
    const old = iso(GRAPH_NOW - 24 * HOUR - 1)
    const graph = changes(
      [],
      [
        detection('d1', 'u1', { detectedDateTime: old, lastUpdatedDateTime: '2026-12-02T11:00:00Z' }),
        detection('d9', 'u9', { detectedDateTime: old }),
      ],
    )
    const r = ok(await readChanges(reading(graph), previousState(), OVERLAP))
    expect([...r.state.detections.keys()]).toEqual([])
    expect(r.touched).toEqual(new Set(['u1']))
  })

  it('prunes stored detections that aged out by Graph`s clock and touches their users', async () => {
    const previous = previousState()
    previous.detections.set(
      'old',
      storedDetection(detection('old', 'u2', { detectedDateTime: iso(GRAPH_NOW - 25 * HOUR) })),
    )
    // The host's clock is behind Graph's: by it, the detection would still be in the lookback.
    const r = ok(await readChanges(reading(changes([], []), GRAPH_NOW - 2 * HOUR), previous, OVERLAP))
    expect([...r.state.detections.keys()]).toEqual(['d1'])
    expect(r.touched).toEqual(new Set(['u2']))
    expect(r.changed).toBe(true)
  })

  it('prunes by the host clock when Graph gave no Date', async () => {
    const graph = new FakeGraph()
    graph.riskyUserList = { pages: [{ items: [] }] }
    graph.detectionList = { pages: [{ items: [] }] }
    const previous = previousState()
    previous.detections.set(
      'old',
      storedDetection(detection('old', 'u2', { detectedDateTime: iso(GRAPH_NOW - 25 * HOUR) })),
    )
    const r = ok(await readChanges(reading(graph, GRAPH_NOW), previous, OVERLAP))
    expect([...r.state.detections.keys()]).toEqual(['d1'])
  })

  it('is a refused filter when the users` first request is answered 400', async () => {
    const graph = changes([], [])
    graph.riskyUserList = { pages: [], error: graphError(400, 'Invalid filter clause') }
    const r = await readChanges(reading(graph), previousState(), OVERLAP)
    expect(r).toBeInstanceOf(FilterRefused)
    expect((r as FilterRefused).message).toBe('Invalid filter clause')
  })

  it('is a refused filter when the detections` first request is answered 400: nothing else is read', async () => {
    const graph = changes([], [])
    graph.detectionList = { pages: [], error: graphError(400, 'Invalid filter clause') }
    const r = await readChanges(reading(graph), previousState(), OVERLAP)
    expect(r).toEqual(new FilterRefused('Invalid filter clause'))
    expect(graph.calls.riskyUsersList).toEqual([])
  })

  it('between reads of the users (onNewDetections), reads them only when a changed detection touched someone', async () => {
    const quiet = changes([riskyUser('u3')], [])
    const previous = previousState()
    const r = ok(await readChanges(reading(quiet), previous, OVERLAP, 'onNewDetections'))
    expect(quiet.calls.riskyUsersList).toEqual([])
    // The users' watermark stays: the next read covers what this run skipped.
    expect(r.state.watermarks.users).toBe(previous.watermarks.users)
    expect(r.state.users.has('u3')).toBe(false)
    const busy = changes(
      [riskyUser('u3')],
      [detection('d3', 'u3', { detectedDateTime: iso(GRAPH_NOW - MINUTE) })],
    )
    const b = ok(await readChanges(reading(busy), previousState(), OVERLAP, 'onNewDetections'))
    expect(busy.calls.riskyUsersList).toHaveLength(1)
    expect(b.state.users.has('u3')).toBe(true)
    // A users' list never read to the end is read whatever the option.
    const never = previousState()
    never.watermarks.users = undefined
    const n = changes([], [])
    ok(await readChanges(reading(n), never, OVERLAP, 'onNewDetections'))
    expect(n.calls.riskyUsersList).toHaveLength(1)
  })

  it('warns on the users` last-page quirk, keeps what was read, and leaves that watermark where it was', async () => {
    const graph = changes([riskyUser('u3')], [])
    graph.riskyUserList.error = graphError(400)
    const rd = reading(graph)
    const r = ok(await readChanges(rd, previousState(), OVERLAP))
    expect(r.state.users.has('u3')).toBe(true)
    expect(r.state.watermarks).toEqual({ users: iso(GRAPH_NOW - HOUR), detections: iso(GRAPH_NOW + 1000) })
    expect(rd.notes.warnings).toEqual([
      'riskyUsers: the service refused page 2 of the changed risky users (400, a known quirk of the last page); the next run reads the same changes again',
    ])
  })

  it('throws any other failure of either list, and a 400 to a later page of detections', async () => {
    const failures: Array<(g: FakeGraph) => unknown> = [
      (g) => {
        g.riskyUserList.error = graphError(503)
        return g.riskyUserList.error
      },
      (g) => {
        g.riskyUserList = { pages: [], error: graphError(429) }
        return g.riskyUserList.error
      },
      (g) => {
        g.detectionList.error = graphError(400)
        return g.detectionList.error
      },
      (g) => {
        g.detectionList = { pages: [], error: graphError(500) }
        return g.detectionList.error
      },
      (g) => {
        g.detectionList = { pages: [], error: Object.assign(new Error('plain'), { status: 400 }) }
        return g.detectionList.error
      },
    ]
    for (const fail of failures) {
      const graph = changes([], [])
      const error = fail(graph)
      await expect(readChanges(reading(graph), previousState(), OVERLAP)).rejects.toBe(error)
    }
  })

  // A loaded state whose body (the detections of users it does not hold, format.ts) cannot be parsed.
  const withBrokenBody = () => {
    const s = previousState()
    s.detections.set(
      'd9',
      storedDetection(detection('d9', 'u9', { detectedDateTime: iso(GRAPH_NOW - 3 * HOUR) })),
    )
    const text = serializeState(s)
    return stateOf(parseDocument(`${text.slice(0, text.indexOf('\n'))}\n{`, 'state.json'))
  }

  it('reads a quiet tenant without the body of the state, its aged detections included', async () => {
    const r = ok(await readChanges(reading(changes([], [])), withBrokenBody(), OVERLAP))
    expect(r.touched).toEqual(new Set())
    expect(unusableDetections(r.state)).toMatch(/body: not JSON/)
  })

  it('answers a body that cannot be used, once a detection read or a user admitted needs it, with UnusableBody (a full collection)', async () => {
    const cases = [
      changes([], [detection('d7', 'u7', { detectedDateTime: iso(GRAPH_NOW - HOUR) })]),
      changes([riskyUser('u9')], []),
    ]
    for (const graph of cases)
      expect(await readChanges(reading(graph), withBrokenBody(), OVERLAP)).toEqual(
        new UnusableBody('state.json: body: not JSON'),
      )
    // A detection of the body ageing out needs no parse: it is of a user the state does not hold.
    const later = changes([], [], GRAPH_NOW + 23 * HOUR)
    const aged = ok(await readChanges(reading(later, GRAPH_NOW + 23 * HOUR), withBrokenBody(), OVERLAP))
    expect(aged.touched).toEqual(new Set(['u1']))
  })

  it('gives a user admitted now its detections from the body', async () => {
    const s = previousState()
    s.detections.set(
      'd9',
      storedDetection(detection('d9', 'u9', { detectedDateTime: iso(GRAPH_NOW - 3 * HOUR) })),
    )
    const loaded = stateOf(parseDocument(serializeState(s), 'state.json'))
    const r = ok(await readChanges(reading(changes([riskyUser('u9')], [])), loaded, OVERLAP))
    expect(r.touched).toEqual(new Set(['u9']))
    expect(
      signalsOf(r.state)
        .users.find((u) => u.userId === 'u9')
        ?.detections.map((d) => d.id),
    ).toEqual(['d9'])
  })

  it('refuses a watermark of either list more than 5 minutes ahead of Graph`s clock', async () => {
    for (const list of ['users', 'detections'] as const) {
      const previous = previousState()
      previous.watermarks[list] = iso(GRAPH_NOW + 1000 + 5 * MINUTE + 1)
      const r = await readChanges(reading(changes([], [])), previous, OVERLAP)
      expect(r).toEqual(
        new FutureWatermark(
          `its ${list} watermark ${iso(GRAPH_NOW + 1000 + 5 * MINUTE + 1)} is later than Graph's clock (${iso(GRAPH_NOW + 1000)})`,
        ),
      )
    }
  })

  it('takes a watermark up to 5 minutes ahead of Graph`s clock, and any watermark when Graph gave no Date', async () => {
    const previous = previousState()
    previous.watermarks.users = iso(GRAPH_NOW + 5 * MINUTE)
    expect(await readChanges(reading(changes([], [])), previous, OVERLAP)).not.toBeInstanceOf(FutureWatermark)
    const graph = new FakeGraph()
    graph.riskyUserList = { pages: [{ items: [] }] }
    graph.detectionList = { pages: [{ items: [] }] }
    const far = previousState()
    far.watermarks.users = iso(GRAPH_NOW + 24 * HOUR)
    expect(await readChanges(reading(graph), far, OVERLAP)).not.toBeInstanceOf(FutureWatermark)
  })

  it('says the state changed when a watermark moved more than half an overlap, or appeared or went', async () => {
    const at = (users: number | undefined, detections: number | undefined) => {
      const s = previousState()
      s.watermarks = {
        users: users === undefined ? undefined : iso(users),
        detections: detections === undefined ? undefined : iso(detections),
      }
      return s
    }
    const graph = () => {
      const g = new FakeGraph()
      g.riskyUserList = { pages: [{ items: [], date: httpDate(GRAPH_NOW) }] }
      g.detectionList = { pages: [{ items: [], date: httpDate(GRAPH_NOW) }] }
      return g
    }
    const changed = async (previous: EvidenceState) =>
      ok(await readChanges(reading(graph()), previous, OVERLAP)).changed
    const half = OVERLAP / 2
    expect(await changed(at(GRAPH_NOW - half, GRAPH_NOW - half))).toBe(false)
    expect(await changed(at(GRAPH_NOW - half - 1, GRAPH_NOW - half))).toBe(true)
    expect(await changed(at(GRAPH_NOW - half, GRAPH_NOW - half - 1))).toBe(true)
    expect(await changed(at(undefined, GRAPH_NOW))).toBe(true)
    expect(await changed(at(GRAPH_NOW, undefined))).toBe(true)
    // A list that gave no Date has no watermark: gone.
    const noDate = graph()
    noDate.detectionList = { pages: [{ items: [] }] }
    expect(ok(await readChanges(reading(noDate), at(GRAPH_NOW, GRAPH_NOW), OVERLAP)).changed).toBe(true)
    const neither = new FakeGraph()
    neither.riskyUserList = { pages: [{ items: [] }] }
    neither.detectionList = { pages: [{ items: [] }] }
    expect(ok(await readChanges(reading(neither), at(undefined, undefined), OVERLAP)).changed).toBe(false)
  })
})
