/**
 * The ledger's "already done" logic (decision 010): a step is new only while one of its detections
 * has not been acted on for that user and action; an interrupted step is judged by its read-back.
 */
import { Writable } from 'node:stream'
import type { GraphClient } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { consultLedger, novelEvidence, resumeInterrupted } from '../../src/engine/resume.js'
import { type Ledger, type LedgerEntry, ledgerEntry } from '../../src/ledger/ledger.js'
import { Audit } from '../../src/outputs/audit.js'

const ENTRA_DISABLE: Route = { kind: 'entra', call: 'disable' }

function step(userId: string, evidence: string[], fields: Partial<Step> = {}): Step {
  return {
    userId,
    userPrincipalName: `${userId}@contoso.test`,
    rule: 'high',
    action: 'disable',
    route: ENTRA_DISABLE,
    evidenceKey: `key:${evidence.join(',') || 'none'}`,
    evidence,
    ...fields,
  }
}

const line = (s: Step, phase: 'intent' | 'done', outcome?: LedgerEntry['outcome'], runId = 'run-1') =>
  ledgerEntry(runId, s, phase, outcome)

describe('consultLedger', () => {
  it('puts a step the ledger has never seen in todo', () => {
    const s = step('u1', ['d1'])
    expect(consultLedger([s], [])).toEqual({ todo: [s], done: [], interrupted: [] })
  })

  it('puts a step whose own key succeeded in done, with that line', () => {
    const s = step('u1', ['d1'])
    const done = line(s, 'done', 'succeeded')
    expect(consultLedger([s], [done])).toEqual({
      todo: [],
      done: [{ step: s, entry: done }],
      interrupted: [],
    })
  })

  it('puts a step whose own key has only an intent in interrupted', () => {
    const s = step('u1', ['d1'])
    const intent = line(s, 'intent')
    expect(consultLedger([s], [intent])).toEqual({
      todo: [],
      done: [],
      interrupted: [{ step: s, entry: intent }],
    })
  })

  it('takes the last line of a key: an intent followed by its outcome is done', () => {
    const s = step('u1', ['d1'])
    const done = line(s, 'done', 'unknown')
    expect(consultLedger([s], [line(s, 'intent'), done]).done).toEqual([{ step: s, entry: done }])
  })

  it('does a failed step again, and a step whose key failed after it had succeeded', () => {
    const s = step('u1', ['d1'])
    expect(consultLedger([s], [line(s, 'intent'), line(s, 'done', 'failed')]).todo).toEqual([s])
    expect(consultLedger([s], [line(s, 'done', 'succeeded'), line(s, 'done', 'failed')]).todo).toEqual([s])
  })

  it('keeps a step done when every detection behind it was acted on under another evidence key', () => {
    // d2 aged out of the lookback: the key changed, the step is not new again.
    const before = step('u1', ['d1', 'd2'])
    const now = step('u1', ['d1'])
    const done = line(before, 'done', 'unverified')
    expect(consultLedger([now], [done])).toEqual({
      todo: [],
      done: [{ step: now, entry: done }],
      interrupted: [],
    })
  })

  it('collects the acted-on detections over every line of the user and action', () => {
    const a = step('u1', ['d1'])
    const b = step('u1', ['d2'])
    const both = step('u1', ['d1', 'd2'])
    const second = line(b, 'done', 'succeeded')
    expect(consultLedger([both], [line(a, 'done', 'succeeded'), second]).done).toEqual([
      { step: both, entry: second },
    ])
  })

  it('does a step again when one of its detections was not acted on', () => {
    const acted = step('u1', ['d1'])
    const now = step('u1', ['d1', 'd3'])
    expect(consultLedger([now], [line(acted, 'done', 'succeeded')]).todo).toEqual([now])
  })

  it('does not count detections of a failed step, of another user or of another action', () => {
    const now = step('u1', ['d1'])
    const failed = line(step('u1', ['d1', 'd9']), 'done', 'failed')
    const otherUser = line(step('u2', ['d1', 'd9']), 'done', 'succeeded')
    const otherAction = line(step('u1', ['d1', 'd9'], { action: 'revokeSessions' }), 'done', 'succeeded')
    expect(consultLedger([now], [failed, otherUser, otherAction]).todo).toEqual([now])
  })

  it('does not count a line written before lines carried their detections', () => {
    const now = step('u1', ['d1'])
    const { evidence: _, ...old } = line(step('u1', ['d1', 'd9']), 'done', 'succeeded')
    expect(consultLedger([now], [old]).todo).toEqual([now])
  })

  it('judges a covered step by the latest line of its user and action: an intent later settled is done', () => {
    const first = step('u1', ['d1', 'd2'])
    const second = step('u1', ['d1', 'd3'])
    const now = step('u1', ['d1'])
    const settled = line(second, 'done', 'succeeded')
    expect(consultLedger([now], [line(first, 'intent'), settled])).toEqual({
      todo: [],
      done: [{ step: now, entry: settled }],
      interrupted: [],
    })
    // And a later intent under another key makes the covered step interrupted.
    const pending = line(second, 'intent')
    expect(consultLedger([now], [line(first, 'done', 'succeeded'), pending]).interrupted).toEqual([
      { step: now, entry: pending },
    ])
  })

  it('does a step without detections again only when nothing was done for its user and action', () => {
    const now = step('u1', [])
    expect(consultLedger([now], []).todo).toEqual([now])
    const done = line(step('u1', ['d1']), 'done', 'succeeded')
    expect(consultLedger([now], [done]).done).toEqual([{ step: now, entry: done }])
  })

  it('lets a failed line of the exact key fall back to what covers it', () => {
    const s = step('u1', ['d1'])
    const other = line(step('u1', ['d1', 'd2']), 'done', 'succeeded')
    const failed = line(s, 'done', 'failed')
    expect(consultLedger([s], [other, failed]).done).toEqual([{ step: s, entry: other }])
  })

  it('respects the last line of the exact key over a later line of another key', () => {
    const s = step('u1', ['d1'])
    const done = line(s, 'done', 'succeeded')
    const laterIntent = line(step('u1', ['d1', 'd2']), 'intent')
    expect(consultLedger([s], [done, laterIntent]).done).toEqual([{ step: s, entry: done }])
    const intent = line(s, 'intent')
    const laterDone = line(step('u1', ['d1', 'd2']), 'done', 'succeeded')
    expect(consultLedger([s], [intent, laterDone]).interrupted).toEqual([{ step: s, entry: intent }])
  })

  it('matches a line written before lines carried their detections by its evidence key', () => {
    const s = step('u1', ['d1'])
    const { evidence: _d, ...done } = line(s, 'done', 'succeeded')
    expect(consultLedger([s], [done]).done).toEqual([{ step: s, entry: done }])
    const { evidence: _i, ...intent } = line(s, 'intent')
    expect(consultLedger([s], [intent]).interrupted).toEqual([{ step: s, entry: intent }])
  })

  it('splits several steps independently', () => {
    const a = step('u1', ['d1'])
    const b = step('u2', ['d2'])
    const c = step('u3', ['d3'])
    const view = consultLedger([a, b, c], [line(b, 'done', 'succeeded'), line(c, 'intent')])
    expect(view.todo).toEqual([a])
    expect(view.done.map((k) => k.step)).toEqual([b])
    expect(view.interrupted.map((k) => k.step)).toEqual([c])
  })
})

describe('novelEvidence', () => {
  it('is every detection of a step the ledger has not seen', () => {
    expect(novelEvidence([])(step('u1', ['d1', 'd2']))).toEqual(['d1', 'd2'])
  })

  it('leaves out detections acted on for the same user and action, counting interrupted steps', () => {
    const entries = [line(step('u1', ['d1']), 'done', 'succeeded'), line(step('u1', ['d2']), 'intent')]
    expect(novelEvidence(entries)(step('u1', ['d1', 'd2', 'd3']))).toEqual(['d3'])
  })

  it('keeps detections only a failed step, another user or another action acted on', () => {
    const entries = [
      line(step('u1', ['d1']), 'done', 'failed'),
      line(step('u2', ['d2']), 'done', 'succeeded'),
      line(step('u1', ['d3'], { action: 'revokeSessions' }), 'done', 'succeeded'),
    ]
    expect(novelEvidence(entries)(step('u1', ['d1', 'd2', 'd3']))).toEqual(['d1', 'd2', 'd3'])
  })

  it('forgets the detections of a key whose last line failed', () => {
    const s = step('u1', ['d1'])
    const entries = [line(s, 'done', 'succeeded'), line(s, 'done', 'failed')]
    expect(novelEvidence(entries)(s)).toEqual(['d1'])
  })
})

class MemoryLedger implements Ledger {
  readonly location = 'memory'
  readonly appended: LedgerEntry[][] = []
  acquire = async () => true
  release = async () => {}
  load = async () => this.appended.flat()
  append = async (entries: LedgerEntry[]) => {
    this.appended.push(entries)
  }
}

const sink = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done()
    },
  })

/** A client whose directory read-back answers each user's accountEnabled (absent: an error item). */
function directoryClient(enabled: Record<string, boolean>) {
  const reads: string[][] = []
  const client = {
    users: {
      getMany: async (ids: readonly string[]) => {
        reads.push([...ids])
        return new Map(
          ids.map((id) => [id, id in enabled ? { id, accountEnabled: enabled[id] } : new Error('gone')]),
        )
      },
    },
  } as unknown as GraphClient
  return { client, reads }
}

describe('resumeInterrupted', () => {
  const at = '2026-12-01T10:00:00.000Z'
  const interrupted = (s: Step) => ({ step: s, entry: { ...line(s, 'intent', undefined, 'run-0'), at } })

  it('reads nothing and writes nothing when no step was interrupted', async () => {
    const ledger = new MemoryLedger()
    const { client, reads } = directoryClient({})
    const audit = new Audit(sink(), sink(), 'run-1')
    expect(
      await resumeInterrupted([], { client, ledger, audit, verify: { attempts: 3, delayMs: 0 } }),
    ).toEqual({ again: [], records: [] })
    expect(reads).toEqual([])
    expect(ledger.appended).toEqual([])
  })

  it('closes a step whose effect is visible, runs an observable one again, and never resends what cannot be read back', async () => {
    const visible = step('u1', ['d1'])
    const notYet = step('u2', ['d2'])
    const unreadable = step('u3', ['d3'], {
      action: 'forcePasswordReset',
      route: {
        kind: 'defenderForIdentity',
        action: 'forcePasswordReset',
        identityAccountId: 'i3',
        accountId: 'a3',
        identityProvider: 'activeDirectory',
      },
    })
    const ledger = new MemoryLedger()
    const { client, reads } = directoryClient({ u1: false, u2: true })
    const audit = new Audit(sink(), sink(), 'run-1')
    const { again, records } = await resumeInterrupted([visible, notYet, unreadable].map(interrupted), {
      client,
      ledger,
      audit,
      verify: { attempts: 3, delayMs: 0 },
    })
    expect(again).toEqual([notYet])
    // One read-back each, whatever the run's attempts: the verdict is for this moment.
    expect(reads).toEqual([['u1', 'u2']])
    expect(ledger.appended).toHaveLength(1)
    expect(ledger.appended[0]?.map((e) => [e.runId, e.userId, e.phase, e.outcome])).toEqual([
      ['run-1', 'u1', 'done', 'succeeded'],
      ['run-1', 'u3', 'done', 'unknown'],
    ])
    expect(records.map((r) => [r.userId, r.status, r.reason])).toEqual([
      ['u1', 'succeeded', 'interrupted in run-0; the effect is visible (accountEnabled is false)'],
      ['u3', 'unverified', 'interrupted in run-0; the outcome cannot be read back, so it is not sent again'],
    ])
  })
})
