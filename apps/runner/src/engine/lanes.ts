/**
 * Lanes: which budget a step spends and how steps can share a call. Identity Protection actions
 * (1 request/s for the tenant) go up to 60 users a call, one call type per call; directory writes
 * up to 20 to a `$batch`; a password reset or a Defender for Identity action one call each.
 */
import { BATCH_MAX_ITEMS, RISKY_USERS_CHUNK } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'

export const LANES = ['identityProtection', 'directoryBatch', 'single'] as const
export type Lane = (typeof LANES)[number]

export function laneOf(route: Route): Lane {
  if (route.kind === 'identityProtection') return 'identityProtection'
  if (route.kind === 'entra' && route.call !== 'resetPassword') return 'directoryBatch'
  return 'single'
}

/** Steps in one call at most. */
export const GROUP_MAX: Readonly<Record<Lane, number>> = {
  identityProtection: RISKY_USERS_CHUNK,
  directoryBatch: BATCH_MAX_ITEMS,
  single: 1,
}

/** Steps that may share a call have the same key: a `$batch` mixes writes, Identity Protection does not. */
function callKey(step: Step): string {
  return step.route.kind === 'identityProtection' ? step.route.call : laneOf(step.route)
}

/**
 * The next group from a lane's queue: the first step and those after it that can share its call,
 * up to the lane's maximum, in queue order; `rest` keeps the others in their order.
 */
export function takeGroup(queue: readonly Step[], lane: Lane): { group: Step[]; rest: Step[] } {
  const first = queue[0]
  if (first === undefined) return { group: [], rest: [] }
  const key = callKey(first)
  const group: Step[] = []
  const rest: Step[] = []
  for (const step of queue) {
    if (group.length < GROUP_MAX[lane] && callKey(step) === key) group.push(step)
    else rest.push(step)
  }
  return { group, rest }
}
