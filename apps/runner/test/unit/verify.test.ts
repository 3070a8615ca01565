/**
 * Read-back of Identity Protection actions: narrowed by riskLastUpdatedDateTime while the service
 * accepts it; once it answers 400, the run's later read-backs go straight to the documented riskState
 * filter (the run's memo remembers it; nothing is kept in module scope, so another run asks again).
 */
import type { GraphClient } from '@tourniquet/core'
import type { Step } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { type ReadBackMemo, verifyEffects } from '../../src/engine/verify.js'

const step = (userId: string): Step =>
  ({
    userId,
    userPrincipalName: `${userId}@contoso.example`,
    rule: 'r',
    action: 'confirmCompromised',
    route: { kind: 'identityProtection', call: 'confirmCompromised' },
    evidence: [],
    evidenceKey: 'k',
  }) as unknown as Step

/** A client whose service refuses the last-updated filter (400) and lists u1 as confirmed. */
function refusingClient(): { client: GraphClient; filtered: () => number; plain: () => number } {
  let filtered = 0
  let plain = 0
  const client = {
    riskyUsers: {
      async *list(filter: { updatedAfter?: Date }) {
        if (filter.updatedAfter !== undefined) {
          filtered++
          throw Object.assign(new Error('400'), {
            [Symbol.for('tourniquet.error')]: true,
            code: 'TQ_GRAPH',
            status: 400,
          })
        }
        plain++
        yield { id: 'u1' }
      },
    },
  } as unknown as GraphClient
  return { client, filtered: () => filtered, plain: () => plain }
}

describe('Identity Protection read-back', () => {
  it('tries the last-updated filter once per run: after a 400 the memo sends the run straight to riskState', async () => {
    const { client, filtered, plain } = refusingClient()
    const memo: ReadBackMemo = {}
    const options = { attempts: 1, delayMs: 0, memo }
    const first = await verifyEffects(client, [{ step: step('u1'), since: Date.now() }], options)
    const second = await verifyEffects(client, [{ step: step('u1'), since: Date.now() }], options)
    expect([...first.values()][0]).toMatchObject({
      visible: true,
      detail: expect.stringMatching(/riskState alone/),
    })
    expect([...second.values()][0]).toMatchObject({ visible: true })
    expect(filtered()).toBe(1)
    expect(plain()).toBe(2)
    expect(memo.refusesUpdatedSince).toBe(true)
  })

  it('forgets it with the run: a read-back with a memo of its own tries the filter again', async () => {
    const { client, filtered } = refusingClient()
    await verifyEffects(client, [{ step: step('u1'), since: Date.now() }], {
      attempts: 1,
      delayMs: 0,
      memo: {},
    })
    await verifyEffects(client, [{ step: step('u1'), since: Date.now() }], {
      attempts: 1,
      delayMs: 0,
      memo: {},
    })
    expect(filtered()).toBe(2)
  })
})
