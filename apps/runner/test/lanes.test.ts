import type { Route, Step } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { GROUP_MAX, laneOf, takeGroup } from '../src/engine/lanes.js'

const step = (i: number, route: Route): Step => ({
  userId: `u${i}`,
  userPrincipalName: `u${i}@contoso.example`,
  rule: 'r',
  action: 'disable',
  route,
  evidenceKey: 'k',
  evidence: [],
})
const confirm: Route = { kind: 'identityProtection', call: 'confirmCompromised' }
const dismiss: Route = { kind: 'identityProtection', call: 'dismiss' }
const revoke: Route = { kind: 'entra', call: 'revokeSignInSessions' }
const disable: Route = { kind: 'entra', call: 'disable' }
const reset: Route = { kind: 'entra', call: 'resetPassword' }
const mdi: Route = {
  kind: 'defenderForIdentity',
  action: 'disable',
  identityAccountId: 'i',
  accountId: 'a',
  identityProvider: 'activeDirectory',
}

describe('lanes: which budget a step spends and how steps share a call', () => {
  it('Identity Protection calls, batchable directory writes, and the rest one call each', () => {
    expect([confirm, dismiss, revoke, disable, reset, mdi].map(laneOf)).toEqual([
      'identityProtection',
      'identityProtection',
      'directoryBatch',
      'directoryBatch',
      'single',
      'single',
    ])
  })

  it('an Identity Protection group is one call type, at most 60 users, in queue order', () => {
    const queue = [
      step(0, dismiss),
      ...Array.from({ length: 70 }, (_, i) => step(i + 1, i % 2 === 0 ? confirm : dismiss)),
    ]
    const { group, rest } = takeGroup(queue, 'identityProtection')
    expect(GROUP_MAX.identityProtection).toBe(60)
    expect(group).toHaveLength(36)
    expect(group.every((s) => s.route === dismiss)).toBe(true)
    expect(group.map((s) => s.userId)).toEqual(queue.filter((s) => s.route === dismiss).map((s) => s.userId))
    expect(rest.map((s) => s.userId)).toEqual(queue.filter((s) => s.route === confirm).map((s) => s.userId))
    const many = Array.from({ length: 130 }, (_, i) => step(i, confirm))
    expect(takeGroup(many, 'identityProtection').group).toHaveLength(60)
  })

  it('a $batch group mixes revokes and disables, at most 20; a single group is one step', () => {
    const queue = Array.from({ length: 45 }, (_, i) => step(i, i % 3 === 0 ? disable : revoke))
    const first = takeGroup(queue, 'directoryBatch')
    expect(first.group.map((s) => s.userId)).toEqual(queue.slice(0, 20).map((s) => s.userId))
    expect(first.rest).toHaveLength(25)
    expect(takeGroup([step(1, reset), step(2, mdi)], 'single').group).toHaveLength(1)
    expect(takeGroup([], 'single')).toEqual({ group: [], rest: [] })
  })
})
