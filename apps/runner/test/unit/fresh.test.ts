/**
 * Every acting step rests on facts read this run (issue #21, decision 015): what the state holds
 * and this run has not read is read now, for exactly the users the steps and the changeable skips
 * rest on, and a step whose facts could not be read is not sent.
 */
import { USER_SELECT } from '@tourniquet/core'
import { type Policy, parsePolicy, type Step } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import {
  CHANGEABLE_SKIPS,
  type Decision,
  decideOnFreshFacts,
  type FreshContext,
  NeedsFullCollection,
  readDirectoryFacts,
  stepKeys,
} from '../../src/engine/fresh.js'
import { emptyFreshness, type Freshness, storedDetection, storedUser } from '../../src/evidence/read.js'
import { type EvidenceState, emptyState, type StoredUser } from '../../src/evidence/state.js'
import { type LedgerEntry, ledgerEntry, ledgerKey } from '../../src/ledger/ledger.js'
import { detection, FakeGraph, graphError, riskyUser } from './support/fakeGraph.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-12-02T12:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()

/** High-risk users are disabled (in AD through Defender for Identity when synced). */
const DISABLE = parsePolicy(`version: 1
lookback: PT24H
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [disable]
`)

const CLOUD = { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' }
const SYNCED = { accountEnabled: true, onPremisesSyncEnabled: true, userType: 'Member' }
const SID = 'S-1-5-21-1-2-3-1001'

const identity = (id: string, sid: string | undefined) => ({
  id,
  onPremisesSecurityIdentifier: sid,
  accounts: [{ identifier: `ad-${id}`, provider: 'activeDirectory', actions: [] }],
})

/** A stored user with its directory facts as a previous run read them. */
function stored(userId: string, fields: Partial<StoredUser> = {}): StoredUser {
  return { ...storedUser(riskyUser(userId)), directory: CLOUD, ...fields }
}

const recent = (id: string, userId: string) =>
  detection(id, userId, { detectedDateTime: iso(NOW - HOUR), lastUpdatedDateTime: iso(NOW - HOUR) })

interface Setup {
  users?: StoredUser[]
  detections?: string[][]
  fresh?: Partial<Freshness>
  entries?: LedgerEntry[]
  policy?: Policy
  extras?: FreshContext['extras']
  unresolved?: string[]
  acting?: (step: Step) => boolean
  max?: number
}

function context(graph: FakeGraph, setup: Setup = {}): FreshContext {
  const state: EvidenceState = emptyState('t', 'd')
  for (const u of setup.users ?? []) state.users.set(u.userId, u)
  for (const [id, userId] of setup.detections ?? [])
    state.detections.set(id as string, storedDetection(recent(id as string, userId as string)))
  return {
    client: graph.graph,
    policy: setup.policy ?? DISABLE,
    now: new Date(NOW),
    state,
    fresh: { ...emptyFreshness(), ...setup.fresh },
    entries: setup.entries ?? [],
    extras: setup.extras ?? { upns: new Map() },
    unresolved: setup.unresolved ?? [],
    acting: setup.acting ?? (() => true),
    maxIdentityProtectionReads: setup.max ?? 20,
    warnings: [],
    signal: undefined,
  }
}

/** What this run already read of these users and detections (a collection earlier in the run). */
const readThisRun = (users: string[], detections: string[] = []): Partial<Freshness> => ({
  users: new Set(users),
  detections: new Set(detections),
  directory: new Set(users),
})

const decided = async (ctx: FreshContext): Promise<Decision> => {
  const d = await decideOnFreshFacts(ctx)
  if (d instanceof NeedsFullCollection) throw new Error(d.reason)
  return d
}
const todoUsers = (d: Decision) => d.view.todo.map((s) => s.userId)
const skipsOf = (d: Decision) => d.plan.skips.map((s) => [s.userId, s.reason])

describe('decideOnFreshFacts', () => {
  it('reads nothing when every fact the steps rest on was read this run', async () => {
    const graph = new FakeGraph()
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [['d1', 'u1']],
      fresh: readThisRun(['u1'], ['d1']),
    })
    const d = await decided(ctx)
    expect(todoUsers(d)).toEqual(['u1'])
    expect(d.unverifiable).toEqual([])
    expect(graph.calls).toEqual({
      riskyUsersList: [],
      detectionsList: [],
      riskyUsersGet: [],
      detectionsGet: [],
      usersGetEach: [],
      findBySids: [],
    })
    expect(ctx.fresh.modified).toBe(false)
  })

  it('reads the risky user of a step once when it was not read this run, and then sends the step', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', riskyUser('u1'))
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [['d1', 'u1']],
      fresh: { detections: new Set(['d1']), directory: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.riskyUsersGet).toEqual(['u1'])
    expect(todoUsers(d)).toEqual(['u1'])
    expect(ctx.fresh.users).toEqual(new Set(['u1']))
    expect(d.unverifiable).toEqual([])
  })

  it('keeps the directory`s facts and name when the risky user is read again, and stores what it read', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set(
      'u1',
      riskyUser('u1', {
        userPrincipalName: 'old@contoso.test',
        riskLastUpdatedDateTime: '2026-12-02T11:00:00Z',
      }),
    )
    const ctx = context(graph, {
      users: [stored('u1', { userPrincipalName: 'dir@contoso.test' })],
      fresh: { directory: new Set(['u1']) },
    })
    await decided(ctx)
    expect(ctx.state.users.get('u1')).toEqual({
      ...storedUser(riskyUser('u1', { riskLastUpdatedDateTime: '2026-12-02T11:00:00Z' })),
      userPrincipalName: 'dir@contoso.test',
      directory: CLOUD,
    })
    expect(ctx.fresh.modified).toBe(true)
  })

  it('names a user without directory facts by the risky-user record read this run', async () => {
    const confirm = parsePolicy(`version: 1
lookback: PT24H
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [confirmCompromised]
`)
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', riskyUser('u1', { userPrincipalName: 'ip@contoso.test' }))
    const ctx = context(graph, {
      policy: confirm,
      users: [stored('u1', { userPrincipalName: 'cached@contoso.test', directory: undefined })],
      fresh: { directory: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.riskyUsersGet).toEqual(['u1'])
    expect(d.view.todo.map((s) => s.userPrincipalName)).toEqual(['ip@contoso.test'])
  })

  it('drops the step of a user who is not risky any more: 404, deleted, or outside the policy`s filter', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u2', riskyUser('u2', { isDeleted: true }))
    graph.riskyUserById.set('u3', riskyUser('u3', { riskLevel: 'low' }))
    graph.riskyUserById.set('u4', riskyUser('u4', { riskState: 'remediated' }))
    const ctx = context(graph, {
      users: ['u1', 'u2', 'u3', 'u4'].map((id) => stored(id)),
      fresh: { directory: new Set(['u1', 'u2', 'u3', 'u4']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.riskyUsersGet.sort()).toEqual(['u1', 'u2', 'u3', 'u4'])
    expect(d.plan.steps).toEqual([])
    expect(d.view.todo).toEqual([])
    expect(d.unverifiable).toEqual([])
    expect([...ctx.state.users.keys()]).toEqual([])
    expect(ctx.fresh.users).toEqual(new Set(['u1', 'u2', 'u3', 'u4']))
    expect(ctx.fresh.modified).toBe(true)
  })

  it('does not send a step whose risky user could not be read, and says why', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', graphError(500, 'Service unavailable'))
    graph.riskyUserById.set('u2', riskyUser('u2'))
    const ctx = context(graph, {
      users: [stored('u1'), stored('u2')],
      fresh: { directory: new Set(['u1', 'u2']) },
    })
    const d = await decided(ctx)
    expect(todoUsers(d)).toEqual(['u2'])
    expect(d.unverifiable.map((u) => [u.step.userId, u.reason])).toEqual([
      ['u1', 'its risky-user record could not be read (Service unavailable)'],
    ])
    // Read once: a failed read is not tried again in this run.
    expect(graph.calls.riskyUsersGet.sort()).toEqual(['u1', 'u2'])
    expect(ctx.state.users.has('u1')).toBe(true)
    expect(ctx.fresh.users.has('u1')).toBe(false)
  })

  it('rethrows a failed read when the run was aborted', async () => {
    const graph = new FakeGraph()
    const aborted = new AbortController()
    aborted.abort()
    const error = graphError(500)
    graph.riskyUserById.set('u1', error)
    const ctx = {
      ...context(graph, { users: [stored('u1')], fresh: { directory: new Set(['u1']) } }),
      signal: aborted.signal,
    }
    await expect(decideOnFreshFacts(ctx)).rejects.toBe(error)
    const detections = new FakeGraph()
    detections.detectionById.set('d1', error)
    const ctx2 = {
      ...context(detections, {
        users: [stored('u1')],
        detections: [['d1', 'u1']],
        fresh: { users: new Set(['u1']), directory: new Set(['u1']) },
      }),
      signal: aborted.signal,
    }
    await expect(decideOnFreshFacts(ctx2)).rejects.toBe(error)
  })

  it('reads a detection that makes the step new, and not one the ledger says was acted on', async () => {
    const graph = new FakeGraph()
    graph.detectionById.set('d2', recent('d2', 'u1'))
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [
        ['d1', 'u1'],
        ['d2', 'u1'],
      ],
      fresh: { users: new Set(['u1']), directory: new Set(['u1']) },
    })
    const before = await decided(
      context(new FakeGraph(), {
        users: [stored('u1')],
        detections: [['d1', 'u1']],
        fresh: readThisRun(['u1'], ['d1']),
      }),
    )
    const acted = ledgerEntry('run-0', before.plan.steps[0] as Step, 'done', 'succeeded')
    const d = await decided({ ...ctx, entries: [acted] })
    expect(graph.calls.detectionsGet).toEqual(['d2'])
    expect(todoUsers(d)).toEqual(['u1'])
    expect(d.view.todo[0]?.evidence).toEqual(['d1', 'd2'])
    expect(ctx.fresh.detections).toEqual(new Set(['d2']))
  })

  it('reads nothing for a step the ledger already did', async () => {
    const graph = new FakeGraph()
    const base = { users: [stored('u1')], detections: [['d1', 'u1']] }
    const first = await decided(context(new FakeGraph(), { ...base, fresh: readThisRun(['u1'], ['d1']) }))
    const acted = ledgerEntry('run-0', first.plan.steps[0] as Step, 'done', 'succeeded')
    const d = await decided(context(graph, { ...base, entries: [acted] }))
    expect(d.view.done.map((k) => k.step.userId)).toEqual(['u1'])
    expect(graph.calls.riskyUsersGet).toEqual([])
    expect(graph.calls.detectionsGet).toEqual([])
    expect(graph.calls.usersGetEach).toEqual([])
  })

  it('drops a detection that no longer exists or left the lookback by Graph`s clock, and makes the plan again', async () => {
    const graph = new FakeGraph()
    graph.detectionById.set('d2', detection('d2', 'u1', { detectedDateTime: iso(NOW - 23.5 * HOUR) }))
    graph.detectionById.set(
      'd3',
      detection('d3', 'u1', { detectedDateTime: iso(NOW - 22 * HOUR), riskLevel: 'low' }),
    )
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [
        ['d1', 'u1'],
        ['d2', 'u1'],
        ['d3', 'u1'],
      ],
      // Graph's clock is an hour ahead of the host's: d2 is in the host's lookback, not in Graph's.
      fresh: { users: new Set(['u1']), directory: new Set(['u1']), graphTime: NOW + HOUR },
    })
    const d = await decided(ctx)
    expect(graph.calls.detectionsGet.sort()).toEqual(['d1', 'd2', 'd3'])
    expect(d.view.todo[0]?.evidence).toEqual(['d3'])
    expect([...ctx.state.detections.keys()]).toEqual(['d3'])
    expect(ctx.state.detections.get('d3')).toEqual(storedDetection(graph.detectionById.get('d3') as never))
    expect(ctx.fresh.detections).toEqual(new Set(['d1', 'd2', 'd3']))
    expect(ctx.fresh.modified).toBe(true)
  })

  it('marks the state modified when only a detection read again changed', async () => {
    const graph = new FakeGraph()
    graph.detectionById.set('d1', { ...recent('d1', 'u1'), riskLevel: 'low' })
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [['d1', 'u1']],
      fresh: { users: new Set(['u1']), directory: new Set(['u1']) },
    })
    await decided(ctx)
    expect(ctx.state.detections.get('d1')?.riskLevel).toBe('low')
    expect(ctx.fresh.modified).toBe(true)
  })

  it('reads a stale risky user and a stale detection of the same step in one round, and sends it', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', riskyUser('u1'))
    graph.detectionById.set('d1', recent('d1', 'u1'))
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [['d1', 'u1']],
      fresh: { directory: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.riskyUsersGet).toEqual(['u1'])
    expect(graph.calls.detectionsGet).toEqual(['d1'])
    expect(todoUsers(d)).toEqual(['u1'])
    expect(d.unverifiable).toEqual([])
  })

  it('passes the run`s signal to every read, and asks the directory for the facts the policy needs', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', riskyUser('u1'))
    graph.detectionById.set('d1', recent('d1', 'u1'))
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.identitiesBySid.set(SID, [identity('i1', SID)])
    const signal = new AbortController().signal
    const ctx = {
      ...context(graph, { users: [stored('u1', { directory: SYNCED })], detections: [['d1', 'u1']] }),
      signal,
    }
    await decided(ctx)
    expect(new Map(graph.options)).toEqual(
      new Map<string, unknown>([
        ['riskyUsers.get', { signal }],
        ['riskDetections.get', { signal }],
        ['users.getEach', { select: USER_SELECT, signal }],
        ['identityAccounts.findBySids', { signal }],
      ]),
    )
    expect(graph.options).toHaveLength(4)
  })

  it('does not bring back a user whose risky-user record went (404) while its directory facts were being read', async () => {
    const graph = new FakeGraph()
    graph.directoryTurns = 3
    graph.directory.set('u1', CLOUD)
    const ctx = context(graph, { users: [stored('u1')] })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(ctx.state.users.has('u1')).toBe(false)
    expect(d.plan.steps).toEqual([])
  })

  it('looks up no Defender for Identity identity of a user whose risky-user record went (404)', async () => {
    const graph = new FakeGraph()
    const defender = {
      identityAccountId: 'i1',
      accounts: [{ provider: 'activeDirectory', identifier: 'a', actions: [] }],
    }
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED, defender })],
      fresh: { directory: new Set(['u1']), sids: new Map([['u1', SID]]) },
    })
    const d = await decided(ctx)
    expect(graph.calls.findBySids).toEqual([])
    expect(d.plan.steps).toEqual([])
    expect(ctx.state.users.has('u1')).toBe(false)
  })

  it('uses the host clock for the lookback when Graph`s is not known', async () => {
    const graph = new FakeGraph()
    graph.detectionById.set('d1', detection('d1', 'u1', { detectedDateTime: iso(NOW - 24 * HOUR - 1) }))
    graph.detectionById.set('d2', detection('d2', 'u1', { detectedDateTime: iso(NOW - 24 * HOUR) }))
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [
        ['d1', 'u1'],
        ['d2', 'u1'],
      ],
      fresh: { users: new Set(['u1']), directory: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(d.view.todo[0]?.evidence).toEqual(['d2'])
  })

  it('does not send a step when a detection behind it could not be read', async () => {
    const graph = new FakeGraph()
    graph.detectionById.set('d1', graphError(503, 'busy'))
    const ctx = context(graph, {
      users: [stored('u1'), stored('u2')],
      detections: [
        ['d1', 'u1'],
        ['d2', 'u2'],
      ],
      fresh: { users: new Set(['u1', 'u2']), directory: new Set(['u1', 'u2']), detections: new Set(['d2']) },
    })
    const d = await decided(ctx)
    expect(todoUsers(d)).toEqual(['u2'])
    expect(d.unverifiable.map((u) => [u.step.userId, u.reason])).toEqual([
      ['u1', 'a detection behind it could not be read (busy)'],
    ])
    expect(graph.calls.detectionsGet).toEqual(['d1'])
  })

  it('reads the directory facts of a step`s user, names it by the directory, and chooses the route on them', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', {
      userPrincipalName: 'renamed@contoso.test',
      accountEnabled: false,
      userType: 'Member',
    })
    graph.directory.set('u2', {})
    const ctx = context(graph, {
      users: [stored('u1'), stored('u2', { directory: SYNCED })],
      fresh: { users: new Set(['u1', 'u2']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1', 'u2']])
    // Disabled since the state was written: a changeable skip now, not a step.
    expect(skipsOf(d)).toEqual([['u1', 'alreadyDisabled']])
    expect(d.plan.skips[0]?.userPrincipalName).toBe('renamed@contoso.test')
    // The defaults of a directory answer without the facts: enabled, cloud-only, member.
    expect(ctx.state.users.get('u2')?.directory).toEqual(CLOUD)
    expect(d.view.todo.map((s) => [s.userId, s.route])).toEqual([['u2', { kind: 'entra', call: 'disable' }]])
    expect(ctx.fresh.modified).toBe(true)
  })

  it('does not send a step whose directory facts could not be read, and says so', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', new Error('item 500'))
    const ctx = context(graph, { users: [stored('u1')], fresh: { users: new Set(['u1']) } })
    const d = await decided(ctx)
    expect(skipsOf(d)).toEqual([['u1', 'noDirectoryFacts']])
    expect(d.view.todo).toEqual([])
    expect(ctx.warnings).toEqual(['directory facts of u1@contoso.test could not be read (item 500)'])
    // Asked once: the directory answered (with an error) this run.
    expect(graph.calls.usersGetEach).toEqual([['u1']])
  })

  it('asks a directory that never answers for a user at most three times, and does not send the step', async () => {
    const graph = new FakeGraph()
    const ctx = context(graph, { users: [stored('u1')], fresh: { users: new Set(['u1']) } })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1'], ['u1'], ['u1']])
    expect(d.unverifiable.map((u) => [u.step.userId, u.reason])).toEqual([
      ['u1', 'its directory facts were not read this run'],
    ])
    expect(d.view.todo).toEqual([])
  })

  it.each([
    ['its risky-user record was not read this run', {}, [] as string[][]],
    ['a detection behind it was not read this run', { users: new Set(['u2']) }, [['d2', 'u2']]],
    [
      'its Defender for Identity identity was not looked up this run',
      { users: new Set(['u2']) },
      [] as string[][],
      true,
    ],
  ])(
    'does not send a step that appears when the rounds run out, and says which fact was not read: %s',
    async (reason, fresh, detections, synced = false) => {
      // The directory answers for the disabled user only on the third round: it was re-enabled.
      const graph = new FakeGraph()
      graph.directoryAnswersFrom.set('u2', 3)
      graph.directory.set('u2', synced ? { ...SYNCED, onPremisesSecurityIdentifier: SID } : CLOUD)
      const defender = {
        identityAccountId: 'i2',
        accounts: [{ provider: 'activeDirectory', identifier: 'a', actions: [] }],
      }
      const ctx = context(graph, {
        users: [
          stored('u2', {
            directory: { ...(synced ? SYNCED : CLOUD), accountEnabled: false },
            ...(synced ? { defender } : {}),
          }),
        ],
        detections,
        fresh,
      })
      const d = await decided(ctx)
      expect(graph.calls.usersGetEach).toEqual([['u2'], ['u2'], ['u2']])
      expect(d.plan.steps.map((s) => s.userId)).toEqual(['u2'])
      expect(d.view.todo).toEqual([])
      expect(d.unverifiable.map((u) => [u.step.userId, u.reason])).toEqual([['u2', reason]])
    },
  )

  it('names a user whose directory facts are unknown by the directory`s UPN of the exclusions', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', new Error('item 500'))
    const ctx = context(graph, {
      users: [stored('u1', { directory: undefined }), stored('u2')],
      fresh: readThisRun(['u2']),
      extras: {
        upns: new Map([
          ['u1', 'dir@contoso.test'],
          ['u2', 'other@contoso.test'],
        ]),
      },
    })
    ctx.fresh.users.add('u1')
    const d = await decided(ctx)
    expect(d.plan.skips.map((s) => [s.userId, s.userPrincipalName])).toEqual([['u1', 'dir@contoso.test']])
    expect(d.view.todo.map((s) => s.userPrincipalName)).toEqual(['u2@contoso.test'])
  })

  it('re-reads the directory facts of changeable skips, and reads no risky user, detection or Defender identity for them', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { accountEnabled: false, userPrincipalName: 'renamed@contoso.test' })
    const ctx = context(graph, {
      users: [stored('u1', { directory: { ...CLOUD, accountEnabled: false } })],
      detections: [['d1', 'u1']],
    })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(graph.calls.riskyUsersGet).toEqual([])
    expect(graph.calls.detectionsGet).toEqual([])
    expect(graph.calls.findBySids).toEqual([])
    expect(skipsOf(d)).toEqual([['u1', 'alreadyDisabled']])
    expect(d.plan.skips[0]?.userPrincipalName).toBe('renamed@contoso.test')
    // The name changed: the state is saved.
    expect(ctx.fresh.modified).toBe(true)
  })

  it('re-reads a guest skip`s directory facts', async () => {
    const revoke = parsePolicy(`version: 1
lookback: PT24H
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [revokeSessions]
`)
    const graph = new FakeGraph()
    graph.directory.set('u1', { userType: 'Guest' })
    const ctx = context(graph, {
      policy: revoke,
      users: [stored('u1', { directory: { ...CLOUD, userType: 'Guest' } })],
    })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(skipsOf(d)).toEqual([['u1', 'guest']])
  })

  it('does not mark the state modified when the changeable skips` facts read again are the same', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { accountEnabled: false, userPrincipalName: 'u1@contoso.test' })
    const ctx = context(graph, {
      users: [stored('u1', { directory: { ...CLOUD, accountEnabled: false } })],
      fresh: { users: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(skipsOf(d)).toEqual([['u1', 'alreadyDisabled']])
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(ctx.fresh.modified).toBe(false)
  })

  it('reads nothing for a skip whose fact cannot change this way (an excluded user)', async () => {
    const graph = new FakeGraph()
    const excluding = parsePolicy(`version: 1
lookback: PT24H
exclude:
  users: [00000000-0000-0000-0000-0000000000e1]
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [disable]
`)
    const ctx = context(graph, { policy: excluding, users: [stored('00000000-0000-0000-0000-0000000000e1')] })
    const d = await decided(ctx)
    expect(skipsOf(d)).toEqual([['00000000-0000-0000-0000-0000000000e1', 'excluded']])
    expect(graph.calls.usersGetEach).toEqual([])
    expect(graph.calls.riskyUsersGet).toEqual([])
  })

  it('looks a synced user up in Defender for Identity by the SID the directory gave this run, and routes the step there', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID.toLowerCase() })
    graph.identitiesBySid.set(SID, [identity('i1', SID)])
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED, defenderNote: 'stale note' })],
      fresh: { users: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(graph.calls.findBySids).toEqual([[SID]])
    expect(d.view.todo.map((s) => s.route)).toEqual([
      {
        kind: 'defenderForIdentity',
        action: 'disable',
        identityAccountId: 'i1',
        accountId: 'ad-i1',
        identityProvider: 'activeDirectory',
      },
    ])
    expect(ctx.state.users.get('u1')?.defenderNote).toBeUndefined()
    expect(ctx.fresh.defender).toEqual(new Set(['u1']))
    expect(ctx.fresh.sids).toEqual(new Map([['u1', SID.toLowerCase()]]))
  })

  it('trusts no identity for two users the directory gives one SID, and does not ask Defender for it', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.directory.set('u2', { ...SYNCED, onPremisesSecurityIdentifier: SID.toLowerCase() })
    graph.identitiesBySid.set(SID, [identity('i1', SID)])
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED }), stored('u2', { directory: SYNCED })],
      fresh: { users: new Set(['u1', 'u2']) },
    })
    const d = await decided(ctx)
    expect(skipsOf(d)).toEqual([
      ['u1', 'noDefenderAccount'],
      ['u2', 'noDefenderAccount'],
    ])
    for (const id of ['u1', 'u2'])
      expect(ctx.state.users.get(id)?.defenderNote).toBe(
        'another user of the directory carries the same on-premises SID',
      )
    expect(graph.calls.findBySids).toEqual([])
    expect(d.view.todo).toEqual([])
  })

  it('keeps a provider Defender did not name as unknown', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.identitiesBySid.set(SID, [
      {
        id: 'i1',
        onPremisesSecurityIdentifier: SID,
        accounts: [{ identifier: 'x', provider: undefined, actions: ['a'] }],
      },
    ])
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED })],
      fresh: { users: new Set(['u1']) },
    })
    await decided(ctx)
    expect(ctx.state.users.get('u1')?.defender).toEqual({
      identityAccountId: 'i1',
      accounts: [{ provider: 'unknown', identifier: 'x', actions: ['a'] }],
    })
  })

  it.each([
    ['none found', [], 'no Defender for Identity account was found'],
    [
      'one with another SID',
      [identity('i1', 'S-1-5-21-1-2-3-10011')],
      'no Defender for Identity identity carries exactly its SID (1 returned by the filter)',
    ],
    [
      'one without a SID',
      [identity('i1', undefined), identity('i2', 'S-1-5-21-9')],
      'no Defender for Identity identity carries exactly its SID (2 returned by the filter)',
    ],
    [
      'two with the SID',
      [identity('i1', SID), identity('i2', SID.toLowerCase())],
      '2 Defender for Identity identities carry its SID, so none is trusted',
    ],
  ])(
    'trusts no Defender for Identity identity when the lookup finds %s, and re-reads the skip every run',
    async (_case, found, note) => {
      const graph = new FakeGraph()
      graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
      graph.identitiesBySid.set(SID, found)
      const cached = {
        identityAccountId: 'old',
        accounts: [{ provider: 'activeDirectory', identifier: 'a', actions: [] }],
      }
      const ctx = context(graph, {
        users: [stored('u1', { directory: SYNCED, defender: cached })],
        fresh: { users: new Set(['u1']) },
      })
      const d = await decided(ctx)
      expect(skipsOf(d)).toEqual([['u1', 'noDefenderAccount']])
      expect(d.plan.skips[0]?.detail).toBe(
        `synced user: disable must happen in Active Directory, and ${note}`,
      )
      expect(ctx.state.users.get('u1')?.defender).toBeUndefined()
      expect(d.view.todo).toEqual([])
      expect(graph.calls.findBySids).toEqual([[SID]])
    },
  )

  it('notes a synced user the directory gives no SID, and one whose lookup failed, with a warning', async () => {
    const graph = new FakeGraph()
    graph.directory.set('nosid', { ...SYNCED })
    graph.directory.set('failed', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.identitiesBySid.set(SID, new Error('item 503'))
    const ctx = context(graph, {
      users: [stored('nosid', { directory: SYNCED }), stored('failed', { directory: SYNCED })],
      fresh: { users: new Set(['nosid', 'failed']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.findBySids).toEqual([[SID]])
    expect(d.plan.skips.map((s) => [s.userId, s.detail])).toEqual([
      [
        'failed',
        'synced user: disable must happen in Active Directory, and its Defender for Identity account could not be read',
      ],
      [
        'nosid',
        'synced user: disable must happen in Active Directory, and the directory gives it no on-premises SID',
      ],
    ])
    expect(ctx.warnings).toEqual([
      'Defender for Identity account of failed@contoso.test could not be read (item 503)',
    ])
  })

  it('re-reads a noDefenderAccount skip`s directory facts and Defender lookup, and sends the step once the account is found', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.identitiesBySid.set(SID, [identity('i1', SID)])
    const ctx = context(graph, {
      users: [
        stored('u1', { directory: SYNCED, defenderNote: 'no Defender for Identity account was found' }),
      ],
      detections: [['d1', 'u1']],
      fresh: { users: new Set(['u1']), detections: new Set(['d1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    expect(graph.calls.findBySids).toEqual([[SID]])
    expect(todoUsers(d)).toEqual(['u1'])
    expect(d.unverifiable).toEqual([])
  })

  it('looks nothing up where the cloud has no Defender for Identity, and does not hold the step back for it', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED })],
      fresh: { users: new Set(['u1']) },
      extras: { upns: new Map(), unavailable: { defenderForIdentity: 'is not offered in this cloud' } },
    })
    const d = await decided(ctx)
    expect(graph.calls.findBySids).toEqual([])
    expect(skipsOf(d)).toEqual([['u1', 'noRoute']])
    expect(d.unverifiable).toEqual([])
  })

  it('forgets a cached Defender for Identity identity when this run has no SID for the user', async () => {
    // The directory facts count as this run's, but it gave no SID: the cached identity cannot be checked.
    const graph = new FakeGraph()
    const defender = {
      identityAccountId: 'i1',
      accounts: [{ provider: 'activeDirectory', identifier: 'a', actions: [] }],
    }
    const ctx = context(graph, {
      users: [stored('u1', { directory: SYNCED, defender })],
      fresh: { users: new Set(['u1']), directory: new Set(['u1']) },
    })
    const d = await decided(ctx)
    expect(d.view.todo).toEqual([])
    expect(d.unverifiable.map((u) => u.reason)).toEqual([])
    expect(skipsOf(d)).toEqual([['u1', 'noDefenderAccount']])
    expect(ctx.state.users.get('u1')?.defenderNote).toBe('the directory gives it no on-premises SID')
  })

  it('reads the facts of an interrupted step too, and does not resend it when they could not be read', async () => {
    const graph = new FakeGraph()
    graph.riskyUserById.set('u1', graphError(500, 'down'))
    const first = await decided(
      context(new FakeGraph(), {
        users: [stored('u1')],
        detections: [['d1', 'u1']],
        fresh: readThisRun(['u1'], ['d1']),
      }),
    )
    const intent = ledgerEntry('run-0', first.plan.steps[0] as Step, 'intent')
    const ctx = context(graph, {
      users: [stored('u1')],
      detections: [['d1', 'u1']],
      entries: [intent],
      fresh: { directory: new Set(['u1']), detections: new Set(['d1']) },
    })
    const d = await decided(ctx)
    expect(graph.calls.riskyUsersGet).toEqual(['u1'])
    expect(d.view.interrupted).toEqual([])
    expect(d.unverifiable.map((u) => [u.step.userId, u.reason])).toEqual([
      ['u1', 'its risky-user record could not be read (down)'],
    ])
    graph.riskyUserById.set('u1', riskyUser('u1'))
    const again = await decided(
      context(graph, {
        users: [stored('u1')],
        detections: [['d1', 'u1']],
        entries: [intent],
        fresh: { directory: new Set(['u1']), detections: new Set(['d1']) },
      }),
    )
    expect(again.view.interrupted.map((k) => k.step.userId)).toEqual(['u1'])
    expect(again.unverifiable).toEqual([])
  })

  it('reads nothing for steps that wait for a person, and leaves them in the plan', async () => {
    const graph = new FakeGraph()
    const ctx = context(graph, { users: [stored('u1')], detections: [['d1', 'u1']], acting: () => false })
    const d = await decided(ctx)
    expect(todoUsers(d)).toEqual(['u1'])
    expect(d.unverifiable).toEqual([])
    expect(graph.calls.riskyUsersGet).toEqual([])
    expect(graph.calls.detectionsGet).toEqual([])
    expect(graph.calls.usersGetEach).toEqual([])
  })

  it('asks for a full collection when more Identity Protection facts are stale than it may read one by one', async () => {
    const setup: Setup = {
      users: [stored('u1'), stored('u2')],
      detections: [['d1', 'u1']],
      fresh: { directory: new Set(['u1', 'u2']) },
    }
    const graph = new FakeGraph()
    const d = await decideOnFreshFacts(context(graph, { ...setup, max: 2 }))
    expect(d).toEqual(
      new NeedsFullCollection(
        "3 Identity Protection facts behind this run's steps were not read this run (more than 2)",
      ),
    )
    expect(graph.calls.riskyUsersGet).toEqual([])
    const enough = new FakeGraph()
    for (const id of ['u1', 'u2']) enough.riskyUserById.set(id, riskyUser(id))
    enough.detectionById.set('d1', recent('d1', 'u1'))
    const ok = await decided(context(enough, { ...setup, max: 3 }))
    expect(todoUsers(ok)).toEqual(['u1', 'u2'])
  })

  it('does not count directory reads against the Identity Protection reads', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', CLOUD)
    graph.directory.set('u2', CLOUD)
    const d = await decided(
      context(graph, {
        users: [stored('u1'), stored('u2')],
        fresh: { users: new Set(['u1', 'u2']) },
        max: 0,
      }),
    )
    expect(todoUsers(d)).toEqual(['u1', 'u2'])
  })

  it('reads nothing on a refused plan: an unresolved excluded UPN refuses the run', async () => {
    const graph = new FakeGraph()
    const d = await decided(
      context(graph, {
        users: [stored('u1'), stored('u2', { directory: { ...CLOUD, accountEnabled: false } })],
        unresolved: ['a@contoso.test', 'b@contoso.test'],
      }),
    )
    expect(d.plan.refused).toEqual({
      limit: 'exclude.users',
      reason:
        'exclude.users a@contoso.test, b@contoso.test could not be resolved to an object id, so nobody can be acted on safely',
    })
    expect(d.plan.steps).toEqual([])
    // A refused run tells its skips as they are, and reads nothing for them.
    expect(skipsOf(d)).toEqual([['u2', 'alreadyDisabled']])
    expect(d.view).toEqual({ todo: [], done: [], interrupted: [] })
    expect(d.unverifiable).toEqual([])
    expect(graph.calls.riskyUsersGet).toEqual([])
    expect(graph.calls.usersGetEach).toEqual([])
  })

  it('keeps an unreadable exclusion group as the refusal, and passes the group members read to the policy', async () => {
    const grouped = parsePolicy(`version: 1
lookback: PT24H
exclude:
  groups: [00000000-0000-0000-0000-00000000000a]
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [disable]
`)
    const missing = await decided(
      context(new FakeGraph(), { policy: grouped, users: [stored('u1')], unresolved: ['a@contoso.test'] }),
    )
    expect(missing.plan.refused?.limit).toBe('exclude.groups')
    const members = await decided(
      context(new FakeGraph(), {
        policy: grouped,
        users: [stored('u1'), stored('u2')],
        fresh: readThisRun(['u1', 'u2']),
        extras: { upns: new Map(), groupMembers: { '00000000-0000-0000-0000-00000000000a': ['u1'] } },
      }),
    )
    expect(members.plan.refused).toBeUndefined()
    expect(skipsOf(members)).toEqual([['u1', 'excluded']])
    expect(todoUsers(members)).toEqual(['u2'])
  })
})

describe('readDirectoryFacts', () => {
  const run = (graph: FakeGraph, users: StoredUser[], fresh: Partial<Freshness> = {}) => {
    const ctx = context(graph, { users, fresh })
    return { ctx, done: readDirectoryFacts(ctx, new Set(['u1', 'u2', 'absent'])) }
  }

  it('asks only for stored users whose facts this run has not read, and nothing when there are none', async () => {
    const graph = new FakeGraph()
    const { done } = run(graph, [stored('u1'), stored('u2')], { directory: new Set(['u2']) })
    await done
    expect(graph.calls.usersGetEach).toEqual([['u1']])
    const none = new FakeGraph()
    await run(none, [stored('u2')], { directory: new Set(['u2']) }).done
    expect(none.calls.usersGetEach).toEqual([])
  })

  it('remembers the SID of a synced user only, forgetting one this run remembered before', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { ...SYNCED, onPremisesSecurityIdentifier: SID })
    graph.directory.set('u2', { ...CLOUD, onPremisesSecurityIdentifier: 'S-1-5-21-cloud' })
    const { ctx, done } = run(graph, [stored('u1'), stored('u2')], {
      sids: new Map([['u2', 'S-1-5-21-old']]),
    })
    await done
    expect(ctx.fresh.sids).toEqual(new Map([['u1', SID]]))
    expect(ctx.fresh.directory).toEqual(new Set(['u1', 'u2']))
    expect(ctx.state.users.get('u1')?.directory).toEqual(SYNCED)
  })

  it('keeps the stored name when the directory gives none, and forgets the facts it could not read', async () => {
    const graph = new FakeGraph()
    graph.directory.set('u1', { userPrincipalName: undefined, accountEnabled: false, userType: 'Guest' })
    graph.directory.set('u2', new Error('item 404'))
    const { ctx, done } = run(graph, [stored('u1'), stored('u2')])
    await done
    expect(ctx.state.users.get('u1')).toMatchObject({
      userPrincipalName: 'u1@contoso.test',
      directory: { accountEnabled: false, onPremisesSyncEnabled: false, userType: 'Guest' },
    })
    expect(ctx.state.users.get('u2')?.directory).toBeUndefined()
    expect(ctx.warnings).toEqual(['directory facts of u2@contoso.test could not be read (item 404)'])
  })
})

describe('CHANGEABLE_SKIPS and stepKeys', () => {
  it('re-reads the skips whose fact can change without Identity Protection noticing, and no others', () => {
    expect([...CHANGEABLE_SKIPS].sort()).toEqual(
      [
        'alreadyDisabled',
        'alreadyEnabled',
        'guest',
        'noDefenderAccount',
        'noDirectoryFacts',
        'noRoute',
      ].sort(),
    )
  })

  it('finds a step again by its ledger key', async () => {
    const d = await decided(
      context(new FakeGraph(), { users: [stored('u1'), stored('u2')], fresh: readThisRun(['u1', 'u2']) }),
    )
    expect(stepKeys(d.plan.steps)).toEqual(new Set(d.plan.steps.map(ledgerKey)))
    expect(stepKeys(d.plan.steps).size).toBe(2)
  })
})
