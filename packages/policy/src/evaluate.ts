/**
 * `evaluate(policy, signals, now) -> Plan`: pure and deterministic. The same inputs give the same
 * plan in any order of users or detections; no I/O, no clock but `now`.
 */

import { createHash } from 'node:crypto'
import { ACTIONS, type Action } from './actions.js'
import { markApprovals } from './approvals.js'
import {
  type Justification,
  type Plan,
  type Route,
  routeName,
  type Skip,
  type SkipReason,
  type Step,
  type UserPlan,
} from './plan.js'
import { type Condition, DEFAULT_RISK_STATES, type Policy, type Rule } from './schema.js'
import type { DetectionSignal, Signals, UserSignals } from './signals.js'

/**
 * Detections that record an administrator's (or this job's own) decision, not an attacker's signal:
 * confirming a user compromised makes Identity Protection add one. They are neither evidence nor a
 * signal; counting them would give every confirmed user "new evidence" on the next run, and repeat
 * its remediation forever.
 */
export const ADMIN_EVENT_TYPES: ReadonlySet<string> = new Set(['adminConfirmedUserCompromised'])

const lower = (s: string | undefined): string => (s ?? '').toLowerCase()

interface Context {
  user: UserSignals
  detections: DetectionSignal[]
  now: number
}

function matches(when: Condition, c: Context): boolean {
  const { user, detections } = c
  if (when.riskLevel && !when.riskLevel.includes(user.risk.level as never)) return false
  if (!(when.riskState ?? DEFAULT_RISK_STATES).includes(user.risk.state as never)) return false
  const types = new Set(detections.map((d) => d.riskEventType))
  const sources = new Set(detections.map((d) => lower(d.source)).filter((s) => s !== ''))
  if (when.detections?.anyOf && !when.detections.anyOf.some((t) => types.has(t))) return false
  if (when.detections?.allOf && !when.detections.allOf.every((t) => types.has(t))) return false
  if (when.detections?.none?.some((t) => types.has(t))) return false
  if (when.sources?.anyOf && !when.sources.anyOf.some((s) => sources.has(lower(s)))) return false
  if (when.sources?.none?.some((s) => sources.has(lower(s)))) return false
  if (when.minDistinctSignals !== undefined && types.size < when.minDistinctSignals) return false
  if (when.minDistinctSources !== undefined && sources.size < when.minDistinctSources) return false
  if (when.detectedWithin !== undefined) {
    const newest = detections.at(-1)
    if (!newest || c.now - Date.parse(newest.detectedDateTime) > when.detectedWithin) return false
  }
  if (when.userType !== undefined || when.synced !== undefined) {
    const dir = user.directory
    if (!dir) return false
    if (when.userType && !when.userType.includes(lower(dir.userType) as never)) return false
    if (when.synced !== undefined && dir.onPremisesSyncEnabled !== when.synced) return false
  }
  return true
}

function evidenceKey(user: UserSignals, detections: DetectionSignal[]): string {
  // Without detections, the risk level is the only evidence; not the state or detail, which this
  // job's own actions change (confirming a user compromised must not make its next run start over).
  const basis = detections.length > 0 ? detections.map((d) => d.id).join(',') : `risk:${user.risk.level}`
  return createHash('sha256').update(basis).digest('hex').slice(0, 16)
}

type Resolution = { route: Route } | { skip: SkipReason; detail: string }

function defenderRoute(
  user: UserSignals,
  action: 'disable' | 'enable' | 'forcePasswordReset',
  unavailable: string | undefined,
): Resolution {
  if (unavailable !== undefined) {
    return {
      skip: 'noRoute',
      detail: `synced user: ${action} must happen in Active Directory through Defender for Identity, which ${unavailable}`,
    }
  }
  if (!user.defender) {
    return {
      skip: 'noDefenderAccount',
      detail: `synced user: ${action} must happen in Active Directory, and ${user.defenderNote ?? 'no Defender for Identity account was found'}`,
    }
  }
  const ad = user.defender.accounts.find((a) => lower(a.provider) === 'activedirectory')
  if (!ad)
    return { skip: 'noRoute', detail: 'the Defender for Identity identity has no Active Directory account' }
  // `actions` is documented as a list of action types, not as "the actions allowed", and every docs
  // example shows it empty (MDC resources/security-account.md, api/security-identityaccounts-get.md): only a list that names other actions
  // and not this one says no; an empty list leaves the answer to invokeAction.
  if (ad.actions.length > 0 && !ad.actions.some((x) => lower(x) === lower(action))) {
    return {
      skip: 'noRoute',
      detail: `Defender for Identity lists the actions ${ad.actions.join(', ')} for this Active Directory account, not '${action}'`,
    }
  }
  return {
    route: {
      kind: 'defenderForIdentity',
      action,
      identityAccountId: user.defender.identityAccountId,
      accountId: ad.identifier,
      identityProvider: 'activeDirectory',
    },
  }
}

/** Which Graph call carries out `action` for this user, or why none does. */
export function resolveRoute(
  action: Action,
  user: UserSignals,
  unavailable: Signals['unavailable'] = undefined,
): Resolution {
  const mdi = unavailable?.defenderForIdentity
  const state = user.risk.state
  switch (action) {
    case 'confirmCompromised':
      return state === 'confirmedCompromised'
        ? { skip: 'alreadyConfirmed', detail: 'the user is already confirmed compromised' }
        : { route: { kind: 'identityProtection', call: 'confirmCompromised' } }
    case 'dismissRisk':
      return state === 'dismissed'
        ? { skip: 'alreadyDismissed', detail: 'the risk is already dismissed' }
        : { route: { kind: 'identityProtection', call: 'dismiss' } }
    case 'confirmSafe':
      return state === 'confirmedSafe'
        ? { skip: 'alreadySafe', detail: 'the user is already confirmed safe' }
        : { route: { kind: 'identityProtection', call: 'confirmSafe' } }
    default:
      break
  }
  const dir = user.directory
  if (!dir)
    return {
      skip: 'noDirectoryFacts',
      detail: 'the directory facts of this user could not be read, so no route can be chosen',
    }
  const guest = lower(dir.userType) === 'guest'
  switch (action) {
    case 'revokeSessions':
    case 'requireSignInAgain':
      if (guest)
        return { skip: 'guest', detail: 'revoking sign-in sessions has no effect on external (B2B) users' }
      return { route: { kind: 'entra', call: 'revokeSignInSessions' } }
    case 'forcePasswordReset':
      if (guest) return { skip: 'guest', detail: "an external user's password belongs to their home tenant" }
      return dir.onPremisesSyncEnabled
        ? defenderRoute(user, 'forcePasswordReset', mdi)
        : { route: { kind: 'entra', call: 'resetPassword' } }
    case 'disable':
      if (!dir.accountEnabled) return { skip: 'alreadyDisabled', detail: 'the account is already disabled' }
      return dir.onPremisesSyncEnabled
        ? defenderRoute(user, 'disable', mdi)
        : { route: { kind: 'entra', call: 'disable' } }
    case 'enable':
      if (dir.accountEnabled) return { skip: 'alreadyEnabled', detail: 'the account is already enabled' }
      return dir.onPremisesSyncEnabled
        ? defenderRoute(user, 'enable', mdi)
        : { route: { kind: 'entra', call: 'enable' } }
    default:
      return assertNever(action)
  }
}

/** A compile error when a switch misses a case: a new action must be given its route. */
function assertNever(value: never): never {
  throw new Error(`unhandled action ${String(value)}`)
}

function planUser(
  user: UserSignals,
  rules: Rule[],
  detections: DetectionSignal[],
  excluded: string | undefined,
  unavailable: Signals['unavailable'],
): UserPlan {
  const key = evidenceKey(user, detections)
  // What a repeat needs: a detection not acted on yet. Not the key, which changes when a detection
  // merely ages out of the lookback (decision 010).
  const evidence = detections.map((d) => d.id).sort()
  const justification: Justification = {
    riskLevel: user.risk.level,
    riskState: user.risk.state,
    detections: detections.map((d) => ({
      id: d.id,
      riskEventType: d.riskEventType,
      source: d.source,
      detectedDateTime: d.detectedDateTime,
    })),
    distinctSignals: new Set(detections.map((d) => d.riskEventType)).size,
    distinctSources: new Set(detections.map((d) => lower(d.source)).filter((s) => s !== '')).size,
  }
  const base = { userId: user.userId, userPrincipalName: user.userPrincipalName }
  const plan: UserPlan = {
    ...base,
    rules: rules.map((r) => r.name),
    justification,
    evidenceKey: key,
    steps: [],
    skips: [],
  }
  if (excluded !== undefined) {
    plan.skips.push({
      ...base,
      rule: rules[0]?.name,
      action: undefined,
      reason: 'excluded',
      detail: excluded,
    })
    return plan
  }
  const seenActions = new Set<Action>()
  const seenRoutes = new Set<string>()
  for (const rule of rules) {
    for (const action of rule.then) {
      if (seenActions.has(action)) continue
      seenActions.add(action)
      const r = resolveRoute(action, user, unavailable)
      if ('skip' in r) {
        plan.skips.push({ ...base, rule: rule.name, action, reason: r.skip, detail: r.detail })
        continue
      }
      const rk = routeName(r.route)
      if (seenRoutes.has(rk)) {
        plan.skips.push({
          ...base,
          rule: rule.name,
          action,
          reason: 'duplicate',
          detail: 'an earlier action of this plan makes the same call',
        })
        continue
      }
      seenRoutes.add(rk)
      plan.steps.push({ ...base, rule: rule.name, action, route: r.route, evidenceKey: key, evidence })
    }
  }
  return plan
}

export function evaluate(policy: Policy, signals: Signals, now: Date): Plan {
  const nowMs = now.getTime()
  const lookbackStart = nowMs - policy.lookback
  const excludedUsers = new Set(policy.exclude.users.map(lower))
  const groupMembers = new Map<string, string>()
  const missingGroups: string[] = []
  for (const g of [...policy.exclude.groups].sort()) {
    const members = signals.groupMembers?.[g]
    if (members === undefined) missingGroups.push(g)
    for (const m of members ?? []) if (!groupMembers.has(m)) groupMembers.set(m, g)
  }

  const users = [...signals.users].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
  const plans: UserPlan[] = []
  let unmatched = 0
  for (const user of users) {
    const detections = user.detections
      .filter((d) => {
        const t = Date.parse(d.detectedDateTime)
        return t >= lookbackStart && t <= nowMs && !ADMIN_EVENT_TYPES.has(d.riskEventType)
      })
      .sort((a, b) => a.detectedDateTime.localeCompare(b.detectedDateTime) || a.id.localeCompare(b.id))
    const ctx: Context = { user, detections, now: nowMs }
    const matched =
      policy.match === 'all'
        ? policy.rules.filter((r) => matches(r.when, ctx))
        : policy.rules.filter((r) => matches(r.when, ctx)).slice(0, 1)
    if (matched.length === 0) {
      unmatched++
      continue
    }
    let excluded: string | undefined
    if (excludedUsers.has(lower(user.userId)) || excludedUsers.has(lower(user.userPrincipalName)))
      excluded = 'listed in exclude.users'
    else if (groupMembers.has(user.userId))
      excluded = `member of exclusion group ${groupMembers.get(user.userId)}`
    plans.push(planUser(user, matched, detections, excluded, signals.unavailable))
  }

  const steps: Step[] = plans.flatMap((p) => p.steps)
  markApprovals(policy, steps)
  const skips: Skip[] = plans.flatMap((p) => p.skips)
  const wanted: Partial<Record<Action, number>> = {}
  for (const s of steps) wanted[s.action] = (wanted[s.action] ?? 0) + 1

  let refused: Plan['refused']
  if (missingGroups.length > 0) {
    refused = {
      limit: 'exclude.groups',
      reason: `the members of exclusion group(s) ${missingGroups.join(', ')} are unknown, so nobody can be acted on safely`,
    }
  } else if (steps.length > policy.limits.maxActionsPerRun) {
    refused = {
      limit: 'limits.maxActionsPerRun',
      reason: `the plan has ${steps.length} actions, more than limits.maxActionsPerRun (${policy.limits.maxActionsPerRun})`,
    }
  } else {
    for (const action of ACTIONS) {
      const limit = policy.limits.maxPerAction[action]
      const n = wanted[action] ?? 0
      if (limit !== undefined && n > limit) {
        refused = {
          limit: `limits.maxPerAction.${action}`,
          reason: `the plan has ${n} ${action} actions, more than limits.maxPerAction.${action} (${limit})`,
        }
        break
      }
    }
  }

  return {
    evaluatedAt: now.toISOString(),
    lookbackStart: new Date(lookbackStart).toISOString(),
    users: plans,
    steps: refused ? [] : steps,
    skips,
    wanted,
    refused,
    unmatched,
  }
}
