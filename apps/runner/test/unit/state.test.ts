/**
 * The evidence state (decision 015): which users the policy's filter admits, pruning by the
 * lookback, the signals the policy sees, and the stored form, checked before it is used.
 */
import { parsePolicy } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { detectedBefore } from '../../src/evidence/detections.js'
import { parseDocument, stateOf } from '../../src/evidence/format.js'
import {
  admits,
  copyState,
  type EvidenceState,
  emptyState,
  parseState,
  policyDigest,
  pruneDetections,
  riskFilterOf,
  type StoredDetection,
  type StoredUser,
  serializeState,
  signalsOf,
  unusableDetections,
} from '../../src/evidence/state.js'

const policy = (rules: string) => parsePolicy(`version: 1\nlookback: PT24H\nrules:\n${rules}`)

const user = (userId: string, fields: Partial<StoredUser> = {}): StoredUser => ({
  userId,
  userPrincipalName: `${userId}@contoso.test`,
  risk: { level: 'high', state: 'atRisk', detail: 'none' },
  updated: '2026-12-01T10:00:00Z',
  ...fields,
})

const detection = (id: string, userId: string, fields: Partial<StoredDetection> = {}): StoredDetection => ({
  id,
  userId,
  riskEventType: 'unfamiliarFeatures',
  riskLevel: 'high',
  source: 'IdentityProtection',
  detectedDateTime: '2026-12-01T09:00:00Z',
  detectionTimingType: 'realtime',
  updated: '2026-12-01T09:05:00Z',
  ...fields,
})

/** A state with its detections as a Map of records, whichever form it keeps them in (a loaded one: columns). */
const plain = (s: EvidenceState): EvidenceState => ({ ...s, detections: new Map(s.detections) })

// biome-ignore lint/suspicious/noExplicitAny: a forger edits whatever it likes
type Forged = { users: Record<string, any>; detections: Record<string, any> }
// biome-ignore lint/suspicious/noExplicitAny: a forger edits whatever it likes
type Forged4 = Forged & { body: Record<string, any> }

/** A state as a run loads it: the head checked, the body parsed when first needed. */
const stateOfText = (text: string): EvidenceState => stateOf(parseDocument(text, 'state.json'))

function stateWith(users: StoredUser[], detections: StoredDetection[]): EvidenceState {
  const s = emptyState('tenant-1', 'digest-1')
  for (const u of users) s.users.set(u.userId, u)
  for (const d of detections) s.detections.set(d.id, d)
  return s
}

describe('riskFilterOf and admits', () => {
  it('narrows levels only when every rule names some, and unions the states (the default ones when a rule names none)', () => {
    const both = riskFilterOf(
      policy(`  - name: a
    when: { riskLevel: [high], riskState: [dismissed] }
    then: [disable]
  - name: b
    when: { riskLevel: [medium, high] }
    then: [revokeSessions]
`),
    )
    expect({ levels: both.levels?.sort(), states: both.states.sort() }).toEqual({
      levels: ['high', 'medium'],
      states: ['atRisk', 'confirmedCompromised', 'dismissed'],
    })
    const anyLevel = riskFilterOf(
      policy(`  - name: a
    when: { riskLevel: [high] }
    then: [disable]
  - name: b
    when: { riskState: [atRisk] }
    then: [revokeSessions]
`),
    )
    expect(anyLevel).toEqual({ levels: undefined, states: ['atRisk', 'confirmedCompromised'] })
  })

  it('admits a user only when its level and its state are both in the filter', () => {
    const filter = { levels: ['high'], states: ['atRisk'] }
    expect(admits(filter, { level: 'high', state: 'atRisk' })).toBe(true)
    expect(admits(filter, { level: 'medium', state: 'atRisk' })).toBe(false)
    expect(admits(filter, { level: 'high', state: 'dismissed' })).toBe(false)
    expect(admits({ levels: undefined, states: ['atRisk'] }, { level: 'low', state: 'atRisk' })).toBe(true)
    expect(admits({ levels: undefined, states: ['atRisk'] }, { level: 'low', state: 'remediated' })).toBe(
      false,
    )
  })
})

describe('policyDigest', () => {
  it('is the same for the same policy and changes with any change of it', () => {
    const rules = `  - name: a\n    when: { riskLevel: [high] }\n    then: [disable]\n`
    const a = policyDigest(policy(rules))
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(policyDigest(policy(rules))).toBe(a)
    expect(policyDigest(parsePolicy(`version: 1\nlookback: PT48H\nrules:\n${rules}`))).not.toBe(a)
  })
})

describe('emptyState and copyState', () => {
  it('starts with nothing read and no watermark', () => {
    expect(emptyState('t', 'd')).toEqual({
      tenantId: 't',
      policyDigest: 'd',
      fullAt: undefined,
      watermarks: {},
      refusedAt: undefined,
      users: new Map(),
      detections: new Map(),
    })
  })

  it('copies so that changing the copy leaves the original as it was', () => {
    const original = stateWith([user('u1')], [detection('d1', 'u1')])
    original.watermarks.users = '2026-12-01T10:00:00.000Z'
    const before = serializeState(original)
    const copy = copyState(original)
    expect(serializeState(copy)).toBe(before)
    copy.watermarks.users = '2026-12-02T10:00:00.000Z'
    ;(copy.users.get('u1') as StoredUser).userPrincipalName = 'renamed@contoso.test'
    ;(copy.detections.get('d1') as StoredDetection).riskLevel = 'low'
    copy.users.set('u2', user('u2'))
    copy.detections.set('d2', detection('d2', 'u2'))
    expect(serializeState(original)).toBe(before)
  })
})

describe('pruneDetections', () => {
  it('drops the detections detected before the lookback start and returns their users', () => {
    const start = Date.parse('2026-12-01T09:00:00Z')
    const s = stateWith(
      [],
      [
        detection('old', 'u1', { detectedDateTime: '2026-12-01T08:59:59.999Z' }),
        detection('edge', 'u2', { detectedDateTime: '2026-12-01T09:00:00Z' }),
        detection('new', 'u3', { detectedDateTime: '2026-12-01T09:30:00Z' }),
      ],
    )
    expect(pruneDetections(s, start)).toEqual(new Set(['u1']))
    expect([...s.detections.keys()]).toEqual(['edge', 'new'])
  })
})

describe('signalsOf', () => {
  it('gives every stored user its stored detections, without the state-only fields', () => {
    const s = stateWith(
      [
        user('u1'),
        user('u2', { directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' } }),
      ],
      [detection('d1', 'u1'), detection('d2', 'u1'), detection('d3', 'u9')],
    )
    const { updated: _u, ...u1 } = user('u1')
    const { updated: _u2, ...u2 } = user('u2', {
      directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
    })
    const { userId: _a, updated: _b, ...d1 } = detection('d1', 'u1')
    const { userId: _c, updated: _d, ...d2 } = detection('d2', 'u1')
    expect(signalsOf(s)).toEqual({
      users: [
        { ...u1, detections: [d1, d2] },
        { ...u2, detections: [] },
      ],
    })
    expect(Object.keys(signalsOf(s).users[0] ?? {})).not.toContain('updated')
    expect(Object.keys(signalsOf(s).users[0]?.detections[0] ?? {})).not.toContain('userId')
  })
})

describe('parseState and serializeState', () => {
  const full = () => {
    const s = stateWith(
      [
        user('u1', {
          directory: { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' },
          defender: {
            identityAccountId: 'i1',
            accounts: [{ provider: 'activeDirectory', identifier: 'a1', actions: ['disable'] }],
          },
          defenderNote: 'note',
        }),
      ],
      [detection('d1', 'u1')],
    )
    s.fullAt = '2026-12-01T08:00:00.000Z'
    s.watermarks = { users: '2026-12-01T10:00:00.000Z', detections: '2026-12-01T10:00:01.000Z' }
    s.refusedAt = '2026-12-01T07:00:00.000Z'
    return s
  }

  it('reads back what it wrote', () => {
    const s = full()
    expect(plain(parseState(serializeState(s), 'state.json'))).toEqual(s)
    const empty = emptyState('t', 'd')
    expect(plain(parseState(serializeState(empty), 'state.json'))).toEqual({ ...empty, watermarks: {} })
  })

  // The format before issue #24, as its serializer wrote it: still read (migration).
  const stored = () =>
    JSON.parse(JSON.stringify(v2Of(full()))) as Record<string, unknown> & {
      users: Array<Record<string, unknown>>
      detections: Array<Record<string, unknown>>
      watermarks: Record<string, unknown>
    }
  const problem = (value: unknown): string => {
    try {
      parseState(typeof value === 'string' ? value : JSON.stringify(value), 'blob:state')
    } catch (e) {
      return (e as Error).message
    }
    return 'accepted'
  }

  it('refuses text that is not JSON', () => {
    expect(problem('{')).toBe('blob:state: not JSON')
  })

  it('refuses another version', () => {
    expect(problem({ ...stored(), version: 1 })).toMatch(/^blob:state: version: /)
    expect(problem({ ...stored(), version: 5 })).toMatch(/^blob:state: version: /)
  })

  it('refuses a state that is not an object, naming the root', () => {
    expect(problem([])).toMatch(/^blob:state: \(root\): /)
  })

  it.each([
    ['tenantId', (s: ReturnType<typeof stored>) => ({ ...s, tenantId: '' }), /^blob:state: tenantId: /],
    [
      'policyDigest',
      (s: ReturnType<typeof stored>) => ({ ...s, policyDigest: 'x'.repeat(257) }),
      /policyDigest: /,
    ],
    ['fullAt', (s: ReturnType<typeof stored>) => ({ ...s, fullAt: 'yesterday' }), /fullAt: /],
    ['refusedAt', (s: ReturnType<typeof stored>) => ({ ...s, refusedAt: '2026-12-01' }), /refusedAt: /],
    [
      'watermarks.users',
      (s: ReturnType<typeof stored>) => ({ ...s, watermarks: { users: 'soon' } }),
      /watermarks\.users: /,
    ],
    [
      'watermarks.detections',
      (s: ReturnType<typeof stored>) => ({ ...s, watermarks: { detections: 12 } }),
      /watermarks\.detections: /,
    ],
    [
      'users[0].userPrincipalName',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        users: [{ ...s.users[0], userPrincipalName: 'x'.repeat(1025) }],
      }),
      /users\.0\.userPrincipalName: /,
    ],
    [
      'users[0].risk.detail',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        users: [{ ...s.users[0], risk: { level: 'high', state: 'atRisk', detail: 3 } }],
      }),
      /users\.0\.risk\.detail: /,
    ],
    [
      'users[0].updated',
      (s: ReturnType<typeof stored>) => ({ ...s, users: [{ ...s.users[0], updated: 'now' }] }),
      /users\.0\.updated: /,
    ],
    [
      'users[0].directory.accountEnabled',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        users: [
          {
            ...s.users[0],
            directory: { accountEnabled: 'yes', onPremisesSyncEnabled: false, userType: 'Member' },
          },
        ],
      }),
      /users\.0\.directory\.accountEnabled: /,
    ],
    [
      'users[0].defender.identityAccountId',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        users: [{ ...s.users[0], defender: { identityAccountId: '', accounts: [] } }],
      }),
      /users\.0\.defender\.identityAccountId: /,
    ],
    [
      'users[0].defender.accounts (more than 100)',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        users: [
          {
            ...s.users[0],
            defender: {
              identityAccountId: 'i1',
              accounts: Array.from({ length: 101 }, () => ({ provider: 'p', identifier: 'a', actions: [] })),
            },
          },
        ],
      }),
      /users\.0\.defender\.accounts: /,
    ],
    [
      'users[0].defenderNote',
      (s: ReturnType<typeof stored>) => ({ ...s, users: [{ ...s.users[0], defenderNote: false }] }),
      /users\.0\.defenderNote: /,
    ],
    [
      'detections[0].detectedDateTime',
      (s: ReturnType<typeof stored>) => ({
        ...s,
        detections: [{ ...s.detections[0], detectedDateTime: 'today' }],
      }),
      /detections\.0\.detectedDateTime: /,
    ],
    [
      'detections[0].userId',
      (s: ReturnType<typeof stored>) => ({ ...s, detections: [{ ...s.detections[0], userId: '' }] }),
      /detections\.0\.userId: /,
    ],
    [
      'detections[0].riskLevel',
      (s: ReturnType<typeof stored>) => ({ ...s, detections: [{ ...s.detections[0], riskLevel: 1 }] }),
      /detections\.0\.riskLevel: /,
    ],
    [
      'detections[0].updated',
      (s: ReturnType<typeof stored>) => ({ ...s, detections: [{ ...s.detections[0], updated: 'later' }] }),
      /detections\.0\.updated: /,
    ],
  ])('refuses a version 2 state with a bad %s, naming it', (_field, change, message) => {
    expect(problem(change(stored()))).toMatch(message)
  })

  it('takes version 2 times with an offset, and fields at their limits', () => {
    const s = stored()
    expect(
      problem({
        ...s,
        fullAt: '2026-12-01T08:00:00+01:00',
        tenantId: 'x'.repeat(256),
        users: [{ ...s.users[0], userPrincipalName: 'x'.repeat(1024) }],
      }),
    ).toBe('accepted')
  })
})

/** A state as version 2 wrote it (one object per record), for the migration tests. */
function v2Of(state: EvidenceState) {
  return {
    version: 2,
    tenantId: state.tenantId,
    policyDigest: state.policyDigest,
    fullAt: state.fullAt,
    watermarks: state.watermarks,
    refusedAt: state.refusedAt,
    progress: state.progress,
    users: [...state.users.values()],
    detections: [...state.detections.values()],
  }
}

/** A stored text's two lines (version 4): the head, parsed, and the body's text. */
const linesOf = (text: string) => {
  const newline = text.indexOf('\n')
  return { head: JSON.parse(text.slice(0, newline)), body: text.slice(newline + 1) }
}

describe('the columnar format (version 3, and version 4 after issue #24)', () => {
  const many = (n: number) => {
    const s = stateWith(
      Array.from({ length: n }, (_, i) =>
        user(`u${i}`, {
          ...(i % 2 === 0
            ? {
                directory: {
                  accountEnabled: i % 4 === 0,
                  onPremisesSyncEnabled: i % 3 === 0,
                  userType: 'Member',
                },
              }
            : {}),
          ...(i % 5 === 0
            ? {
                defender: {
                  identityAccountId: `i${i}`,
                  accounts: [{ provider: 'activeDirectory', identifier: `a${i}`, actions: ['disable'] }],
                },
              }
            : {}),
          ...(i % 7 === 0 ? { defenderNote: 'no account yet' } : {}),
          ...(i % 11 === 0
            ? { updated: undefined, risk: { level: 'medium', state: 'atRisk', detail: undefined } }
            : {}),
        }),
      ),
      Array.from({ length: 2 * n }, (_, i) =>
        detection(`d${i}`, `u${i % (n + 3)}`, {
          ...(i % 3 === 0 ? { riskLevel: undefined, source: undefined } : {}),
          // Updated when detected (stored as 1), and never updated (null).
          ...(i % 4 === 1 ? { updated: '2026-12-01T09:00:00Z' } : i % 4 === 2 ? { updated: undefined } : {}),
        }),
      ),
    )
    s.watermarks = { users: '2026-12-01T10:00:00.000Z' }
    s.progress = {
      users: { done: true, startedAt: '2026-12-01T09:00:00.000Z' },
      detections: {
        done: false,
        next: 'https://graph.microsoft.com/v1.0/identityProtection/riskDetections?$skiptoken=x',
      },
    }
    return s
  }
  // The head of a version 4 text as version 3 wrote the whole state: the same columns, every
  // detection among them when each is of a stored user (u0 to u39 here; the body holds the others).
  const columns = (s: EvidenceState) =>
    ({ ...linesOf(serializeState(s)).head, version: 3, body: undefined }) as {
      version: number
      strings: unknown[]
      users: Record<'id' | 'upn' | 'level' | 'updated' | 'enabled' | 'defender', unknown[]>
      detections: Record<'user' | 'detected' | 'type', unknown[]>
    }
  const problem = (value: unknown): string => {
    try {
      parseState(JSON.stringify(value), 'state.json')
    } catch (e) {
      return (e as Error).message
    }
    return 'accepted'
  }
  const ofStoredUsers = (s: EvidenceState) => {
    for (const [id, d] of s.detections) if (!s.users.has(d.userId)) s.detections.delete(id)
    return s
  }

  it('writes version 4 and reads back every field, progress included', () => {
    const s = many(40)
    expect(linesOf(serializeState(s)).head.version).toBe(4)
    expect(plain(parseState(serializeState(s), 'state.json'))).toEqual(s)
  })

  it('reads a version 3 state as it was, and its next save is version 4 with the same content', () => {
    const s = ofStoredUsers(many(40))
    const v3 = JSON.stringify(columns(s))
    const migrated = parseState(v3, 'state.json')
    expect(plain(migrated)).toEqual(s)
    expect(linesOf(serializeState(migrated)).head.version).toBe(4)
    expect(plain(parseState(serializeState(migrated), 'state.json'))).toEqual(s)
  })

  it('reads a version 3 state spread over lines, as an editor may leave it', () => {
    const s = ofStoredUsers(many(5))
    expect(plain(parseState(JSON.stringify(columns(s), null, 2), 'state.json'))).toEqual(s)
  })

  it('reads a version 2 state as it was, and its next save is version 4 with the same content', () => {
    const s = many(40)
    const migrated = parseState(JSON.stringify(v2Of(s)), 'state.json')
    expect(plain(migrated)).toEqual(s)
    expect(linesOf(serializeState(migrated)).head.version).toBe(4)
    expect(plain(parseState(serializeState(migrated), 'state.json'))).toEqual(s)
  })

  it('is less than half the size of version 2 for the same state', () => {
    const s = many(500)
    expect(serializeState(s).length * 2).toBeLessThan(JSON.stringify(v2Of(s)).length)
  })

  it.each([
    [
      'a column that is not an array',
      (c: ReturnType<typeof columns>) => ((c.users.id as unknown) = 'x'),
      /users\.id: expected an array of ids or packed ids/,
    ],
    [
      'an empty user id',
      (c: ReturnType<typeof columns>) => (c.users.id[0] = ''),
      /users\.id\.0: expected an id/,
    ],
    [
      'a level that is not an index',
      (c: ReturnType<typeof columns>) => (c.users.level[1] = 'high'),
      /users\.level\.1: expected an index/,
    ],
    [
      'a level index past the strings',
      (c: ReturnType<typeof columns>) => (c.users.level[2] = 999),
      /users\.level\.2: index 999 is not in strings/,
    ],
    [
      'a column shorter than the ids',
      (c: ReturnType<typeof columns>) => c.users.upn.pop(),
      /users\.upn: 39 values for 40 rows/,
    ],
    [
      'a bad updated time',
      (c: ReturnType<typeof columns>) => (c.users.updated[0] = 'soon'),
      /users\.updated\.0: expected a date-time/,
    ],
    [
      'directory facts in part',
      (c: ReturnType<typeof columns>) => (c.users.enabled[1] = 1),
      /users\.enabled\.1: directory facts/,
    ],
    [
      'accountEnabled other than 1 or 0',
      (c: ReturnType<typeof columns>) => (c.users.enabled[0] = 2),
      /users\.enabled\.0: directory facts/,
    ],
    [
      'a Defender row that is no user',
      (c: ReturnType<typeof columns>) =>
        c.users.defender.push([400, { identityAccountId: 'i', accounts: [] }]),
      /users\.defender\.\d+: row 400 is not a user/,
    ],
    [
      'a detection user past its table',
      (c: ReturnType<typeof columns>) => (c.detections.user[3] = 10_000),
      /detections\.user\.3: index 10000 is not in detections\.users/,
    ],
    [
      'a detection type past the strings',
      (c: ReturnType<typeof columns>) => (c.detections.type[4] = 999),
      /detections\.type\.4: index 999 is not in strings/,
    ],
    [
      'a bad detected time',
      (c: ReturnType<typeof columns>) => (c.detections.detected[5] = 'today'),
      /detections\.detected\.5: expected a date-time/,
    ],
    [
      'a negative index',
      (c: ReturnType<typeof columns>) => (c.detections.type[0] = -1),
      /detections\.type\.0: expected an index/,
    ],
    [
      'a string past 1,024 characters',
      (c: ReturnType<typeof columns>) => (c.strings[0] = 'x'.repeat(1025)),
      /strings\.0: /,
    ],
  ])('refuses %s, naming where (version 3)', (_what, change, message) => {
    const c = columns(ofStoredUsers(many(40)))
    change(c)
    expect(problem(c)).toMatch(message)
  })

  it.each([
    [
      'a head that is not JSON',
      (_h: Forged4, t: string) => `{${t.slice(t.indexOf('\n'))}`,
      /state\.json: not JSON/,
    ],
    ['no body line', (h: Forged4) => JSON.stringify(h), /state\.json: body: missing/],
    [
      'a body count that is not a number',
      (h: Forged4) => {
        h.body.count = 'all'
        return undefined
      },
      /body\.count: /,
    ],
    [
      'an oldest time past the year 9999',
      (h: Forged4) => {
        h.body.oldest = 8.64e15
        return undefined
      },
      /body\.oldest: /,
    ],
    [
      'a head detection user past its table',
      (h: Forged4) => {
        h.detections.user[3] = 10_000
        return undefined
      },
      /detections\.user\.3: index 10000/,
    ],
  ])('refuses %s when it loads (version 4), naming where', (_what, change, message) => {
    const text = serializeState(many(40))
    const { head, body } = linesOf(text)
    const changed = change(head, text) ?? `${JSON.stringify(head)}\n${body}`
    expect(() => stateOfText(changed)).toThrow(message)
  })

  it.each([
    ['a body that is not JSON', (_b: Forged, t: string) => `${t}x`, /body: not JSON/],
    [
      'a body detection user past its table',
      (b: Forged) => {
        b.detections.user[1] = 10_000
        return undefined
      },
      /body\.detections\.user\.1: index 10000/,
    ],
    [
      'a body type past its strings',
      (b: Forged) => {
        b.detections.type[0] = 999
        return undefined
      },
      /body\.detections\.type\.0: index 999 is not in strings/,
    ],
    [
      'a body with more rows than the head says',
      (b: Forged) => {
        b.detections.user.push(0)
        return undefined
      },
      /body\.detections\.(id|type): /,
    ],
    [
      'a body with fewer rows than the head says',
      (_b: Forged, _t: string, h: Forged4) => {
        h.body.count = 2
        return undefined
      },
      /body\.detections: 3 rows where the head says 2/,
    ],
    [
      'a body older than the head says',
      (_b: Forged, _t: string, h: Forged4) => {
        h.body.oldest += 1
        return undefined
      },
      /body\.detections\.detected: the earliest is/,
    ],
  ])(
    'loads with %s, and refuses it only when a run needs the body, naming where',
    (_what, change, message) => {
      const text = serializeState(many(40))
      const { head, body } = linesOf(text)
      const b = JSON.parse(body)
      const changed = change(b, body, head)
      const forged = `${JSON.stringify(head)}\n${changed ?? JSON.stringify(b)}`
      // The head's users and their detections answer without the body.
      const state = stateOfText(forged)
      expect(signalsOf(state)).toEqual(signalsOf(many(40)))
      expect(unusableDetections(state)).toMatch(message)
      expect(() => parseState(forged, 'state.json')).toThrow(message)
    },
  )
})

describe("a loaded state's detections (kept as columns, issue #24)", () => {
  const saved = () =>
    stateWith(
      [user('u1'), user('u2')],
      [
        detection('d1', 'u1'),
        detection('d2', 'u1', { riskLevel: undefined, updated: '2026-12-01T09:00:00Z' }),
        detection('d3', 'u9', { detectedDateTime: '2026-12-01T07:00:00.000Z', updated: undefined }),
        detection('d4', 'u2', { source: undefined, detectionTimingType: undefined }),
      ],
    )
  const load = (s: EvidenceState) => parseState(serializeState(s), 'state.json')

  it('answers by id, by user and in full as the records it was saved from', () => {
    const s = saved()
    const loaded = load(s)
    expect(loaded.detections.size).toBe(4)
    expect(loaded.detections.get('d2')).toEqual(s.detections.get('d2'))
    expect(loaded.detections.get('d9')).toBeUndefined()
    expect(loaded.detections.has('d3')).toBe(true)
    expect(new Map(loaded.detections)).toEqual(s.detections)
    expect([...loaded.detections.keys()].sort()).toEqual(['d1', 'd2', 'd3', 'd4'])
    expect(signalsOf(loaded)).toEqual(signalsOf(s))
  })

  it('keeps the detections of users it did not hold in a body, parsed only for what the head cannot answer', () => {
    const s = saved()
    const { head, body } = linesOf(serializeState(s))
    expect(head.body).toEqual({ count: 1, oldest: Date.parse('2026-12-01T07:00:00.000Z') })
    expect(JSON.parse(body).detections.id).toEqual({ width: 2, text: 'd3' })
    // A body that cannot be parsed shows only when the body is needed.
    const lazy = () => stateOfText(`${JSON.stringify(head)}\n{`)
    const quiet = lazy()
    expect(signalsOf(quiet)).toEqual(signalsOf(s))
    expect(quiet.detections.get('d2')).toEqual(s.detections.get('d2'))
    expect(pruneDetections(quiet, Date.parse('2026-12-01T06:00:00Z'))).toEqual(new Set())
    // Past the body's oldest detection (of a user the state does not hold) the head alone is pruned.
    expect(pruneDetections(quiet, Date.parse('2026-12-01T09:30:00Z'))).toEqual(new Set(['u1', 'u2']))
    expect(signalsOf(quiet).users.flatMap((u) => u.detections)).toEqual([])
    expect(unusableDetections(quiet)).toBe('state.json: body: not JSON')
    for (const needsBody of [
      (t: EvidenceState) => t.detections.get('d3'),
      (t: EvidenceState) => t.detections.has('d9'),
      (t: EvidenceState) => [...t.detections.keys()],
      (t: EvidenceState) => {
        t.users.set('u9', user('u9'))
        return signalsOf(t)
      },
    ])
      expect(() => needsBody(lazy())).toThrow('state.json: body: not JSON')
    // Parsed, the body answers as the whole state did.
    const loaded = stateOfText(serializeState(s))
    loaded.users.set('u9', user('u9'))
    const whole = { ...s, users: new Map(s.users).set('u9', user('u9')) }
    expect(signalsOf(loaded)).toEqual(signalsOf(whole))
  })

  it('saves a body no run parsed as the text it was loaded from, with the head as it is now', () => {
    const s = saved()
    const text = serializeState(s)
    const loaded = stateOfText(text)
    loaded.watermarks = { users: '2026-12-01T11:00:00.000Z' }
    loaded.users.delete('u2')
    loaded.detections.set('d1', detection('d1', 'u1', { riskLevel: 'low' }))
    const saved2 = serializeState(loaded)
    expect(linesOf(saved2).body).toBe(linesOf(text).body)
    expect(linesOf(saved2).head.watermarks).toEqual({ users: '2026-12-01T11:00:00.000Z' })
    const expected = copyState(s)
    expected.watermarks = { users: '2026-12-01T11:00:00.000Z' }
    expected.users.delete('u2')
    expected.detections.set('d1', detection('d1', 'u1', { riskLevel: 'low' }))
    expect(plain(parseState(saved2, 'state.json'))).toEqual(plain(expected))
  })

  it('packs ids of one length into one text, and keeps a time as ms after an epoch only when that is its exact ISO form', () => {
    const s = saved()
    s.users.set('u9', user('u9'))
    s.detections.set('d5', detection('d5', 'u1', { detectedDateTime: '2026-12-01T06:00:00.1234567Z' }))
    const c = linesOf(serializeState(s)).head as {
      users: { id: unknown }
      detections: { id: unknown; users: unknown; epoch: number; detected: unknown[] }
    }
    expect(c.users.id).toEqual({ width: 2, text: 'u1u2u9' })
    // The head's detections, by user.
    expect(c.detections.id).toEqual({ width: 2, text: 'd1d2d5d3d4' })
    expect(c.detections.users).toEqual({ width: 2, text: 'u1u9u2' })
    expect(c.detections.epoch).toBe(Date.parse('2026-12-01T06:00:00.123Z'))
    // Seconds without ms and 7 digits of fraction are not toISOString's form: kept as written.
    expect(c.detections.detected).toEqual([
      '2026-12-01T09:00:00Z',
      '2026-12-01T09:00:00Z',
      '2026-12-01T06:00:00.1234567Z',
      3_599_877,
      '2026-12-01T09:00:00Z',
    ])
    expect(plain(load(s))).toEqual(s)
  })

  it.each([
    [
      'packed ids that are not whole ids',
      (c: Forged) => (c.detections.id = { width: 2, text: 'd1d' }),
      /detections\.id: expected an array of ids or packed ids/,
    ],
    [
      'packed ids of width 0',
      (c: Forged) => (c.detections.users = { width: 0, text: '' }),
      /detections\.users: expected an array of ids or packed ids/,
    ],
    [
      'packed ids with another field',
      (c: Forged) => (c.users.id = { width: 2, text: 'u1u2', more: 1 }),
      /users\.id: expected an array/,
    ],
    [
      'fewer packed ids than rows',
      (c: Forged) => (c.detections.id = { width: 2, text: 'd1d2' }),
      /detections\.id: 2 values for 3 rows/,
    ],
    [
      'a time past the year 9999',
      (c: Forged) => (c.detections.detected[2] = 8.64e15),
      /detections\.detected\.2: epoch \+ 8640000000000000 is not a time/,
    ],
    [
      'a time that is a fraction of a ms',
      (c: Forged) => (c.detections.detected[2] = 0.5),
      /detections\.detected\.2: expected a date-time or a whole number of ms/,
    ],
    [
      'an epoch that is not a whole number',
      (c: Forged) => (c.detections.epoch = 'soon'),
      /detections\.epoch: /,
    ],
  ])('refuses %s, naming where', (_what, change, message) => {
    const { head, body } = linesOf(serializeState(saved()))
    change(head)
    expect(() => stateOfText(`${JSON.stringify(head)}\n${body}`)).toThrow(message)
  })

  it('saves an unchanged state as the text it was loaded from', () => {
    const text = serializeState(saved())
    expect(serializeState(parseState(text, 'state.json'))).toBe(text)
  })

  it('sets, deletes and prunes in a copy as a Map does, leaving the loaded state as it was', () => {
    const s = saved()
    const loaded = load(s)
    const change = (state: EvidenceState) => {
      const copy = copyState(state)
      copy.detections.set('d1', detection('d1', 'u1', { riskLevel: 'low' }))
      copy.detections.set('d5', detection('d5', 'u3'))
      copy.detections.delete('d4')
      const pruned = pruneDetections(copy, Date.parse('2026-12-01T08:00:00Z'))
      return { copy, pruned }
    }
    const expected = change(s)
    const actual = change(loaded)
    expect(actual.pruned).toEqual(new Set(['u9']))
    expect(plain(actual.copy)).toEqual(plain(expected.copy))
    expect(actual.copy.detections.size).toBe(3)
    expect(plain(load(actual.copy))).toEqual(plain(expected.copy))
    expect(plain(loaded)).toEqual(s)
  })

  it('answers a repeated id (a forged state) with every row of it, so a record read from Graph replaces them all', () => {
    const { head, body } = linesOf(serializeState(saved()))
    // Ids of one length are packed: the head holds d1, d2 and d4 (d3 is of a user the state does not hold).
    expect(head.detections.id).toEqual({ width: 2, text: 'd1d2d4' })
    head.detections.id.text = 'd1d1d4'
    const loaded = stateOfText(`${JSON.stringify(head)}\n${body}`)
    expect(signalsOf(loaded).users[0]?.detections.map((d) => d.id)).toEqual(['d1', 'd1'])
    loaded.detections.set('d1', detection('d1', 'u1', { riskEventType: 'passwordSpray' }))
    expect([...loaded.detections.values()].filter((d) => d.id === 'd1')).toEqual([
      detection('d1', 'u1', { riskEventType: 'passwordSpray' }),
    ])
    loaded.detections.delete('d1')
    expect(loaded.detections.has('d1')).toBe(false)
  })

  it('prunes by the same instant as Date.parse, whatever form the time has', () => {
    const times = [
      '2026-12-01T08:59:59.999Z',
      '2026-12-01T09:00:00.000Z',
      '2026-12-01T09:00:00.0004999Z',
      '2026-12-01T08:59:59.9999999Z',
      '2026-12-01T09:00:00Z',
      '2026-12-01T09:00:00.5Z',
      '2026-12-01T10:00:00+01:00',
      '2026-12-01T09:00:00.001Z',
    ]
    for (const start of [
      '2026-12-01T09:00:00.000Z',
      '2026-12-01T09:00:00.001Z',
      '2026-12-01T08:59:59.999Z',
    ]) {
      const startMs = Date.parse(start)
      const before = detectedBefore(startMs)
      for (const t of times) expect([t, before(t)]).toEqual([t, Date.parse(t) < startMs])
    }
  })
})
