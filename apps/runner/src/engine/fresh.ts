/**
 * Decides on facts read from Graph in this run: a cache may save requests; it never decides an
 * action. The plan is evaluated over the evidence state, and every fact the steps about to be sent
 * rest on that this run has not read yet is read now, for exactly those users: the risky user's
 * record and the detections that make a step new (Identity Protection's budget, by id), the
 * directory facts (`$batch`, the directory budget), and for Defender for Identity routes the
 * identity found by SID now, with the SID check. Then the plan is evaluated again, until every step
 * rests on fresh facts; a step whose fresh facts no longer justify it is gone from the plan (or a
 * skip with its reason). A skip that rests on a fact that can change (disabled, guest, route, no
 * Defender for Identity account) is re-checked on the cheap budgets every run.
 *
 * A forged or stale state can cost requests (and, past `maxIdentityProtectionReads`, one full
 * collection), never a step that Graph's facts of this run would not justify.
 */
import { type GraphClient, isGraphError, USER_SELECT } from '@tourniquet/core'
import {
  evaluate,
  type Plan,
  type Policy,
  type Refusal,
  type Signals,
  type SkipReason,
  type Step,
} from '@tourniquet/policy'
import { type Freshness, storedDetection, storedUser } from '../evidence/read.js'
import { admits, type EvidenceState, riskFilterOf, signalsOf } from '../evidence/state.js'
import { type LedgerEntry, ledgerKey } from '../ledger/ledger.js'
import { consultLedger, type LedgerView, novelEvidence } from './resume.js'

/** Skips whose fact can change without Identity Protection noticing: re-read every run, and told every run. */
export const CHANGEABLE_SKIPS: ReadonlySet<SkipReason> = new Set<SkipReason>([
  'alreadyDisabled',
  'alreadyEnabled',
  'guest',
  'noRoute',
  'noDefenderAccount',
  'noDirectoryFacts',
])

/** Rounds of reading: each reads only facts not read yet this run, so two suffice but for a route change. */
const MAX_ROUNDS = 4

export interface FreshContext {
  client: GraphClient
  /** The policy with exclusions by object id. */
  policy: Policy
  now: Date
  state: EvidenceState
  fresh: Freshness
  entries: readonly LedgerEntry[]
  /** What the signals carry besides the state: exclusion groups, the cloud's missing APIs, directory UPNs of excluded users. */
  extras: Pick<Signals, 'groupMembers' | 'unavailable'> & { upns: ReadonlyMap<string, string> }
  /** `exclude.users` UPNs the directory could not resolve: the run is refused. */
  unresolved: readonly string[]
  /** Which steps must rest on fresh facts now (the others wait for a person: approvals). */
  acting: (step: Step) => boolean
  /** More Identity Protection reads than this, and a full collection is cheaper. */
  maxIdentityProtectionReads: number
  warnings: string[]
  signal: AbortSignal | undefined
}

export interface Decision {
  plan: Plan
  view: LedgerView
  /** Steps whose facts could not be read this run: not sent, and told as failed. */
  unverifiable: Array<{ step: Step; reason: string }>
}

/** Too many facts to read one by one: the caller collects in full instead. */
export class NeedsFullCollection {
  constructor(readonly reason: string) {}
}

interface Stale {
  users: Set<string>
  detections: Set<string>
  directory: Set<string>
  defender: Set<string>
}

/** The plan and the ledger's view of it, every acting step resting on facts read this run. */
export async function decideOnFreshFacts(ctx: FreshContext): Promise<Decision | NeedsFullCollection> {
  const blocked = new Map<string, string>()
  const novel = novelEvidence(ctx.entries)
  for (let round = 1; ; round++) {
    const plan = planOf(ctx)
    const view = consultLedger(plan.refused ? [] : plan.steps, ctx.entries)
    if (plan.refused) return { plan, view, unverifiable: [] }
    const stale = staleFacts(plan, view, ctx, novel, blocked)
    const reads = stale.users.size + stale.detections.size
    if (isEmpty(stale) || round === MAX_ROUNDS) return settle(plan, view, ctx, novel, blocked)
    if (reads > ctx.maxIdentityProtectionReads)
      return new NeedsFullCollection(
        `${reads} Identity Protection facts behind this run's steps were not read this run (more than ${ctx.maxIdentityProtectionReads})`,
      )
    await readFresh(ctx, stale, blocked)
  }
}

/** The plan over the state as it is now. */
function planOf(ctx: FreshContext): Plan {
  const signals = signalsOf(ctx.state)
  // An excluded user whose directory facts could not be read is still named by the directory's UPN.
  for (const user of signals.users) {
    const upn = ctx.extras.upns.get(user.userId)
    if (upn !== undefined && user.directory === undefined) user.userPrincipalName = upn
  }
  signals.groupMembers = ctx.extras.groupMembers
  if (ctx.extras.unavailable) signals.unavailable = ctx.extras.unavailable
  return refuseUnresolved(evaluate(ctx.policy, signals, ctx.now), ctx.unresolved)
}

/** An excluded UPN the directory could not resolve: nobody can be acted on safely, as for an unreadable group. */
function refuseUnresolved(plan: Plan, unresolved: readonly string[]): Plan {
  if (unresolved.length === 0 || plan.refused?.limit === 'exclude.groups') return plan
  const refused: Refusal = {
    limit: 'exclude.users',
    reason: `exclude.users ${unresolved.join(', ')} could not be resolved to an object id, so nobody can be acted on safely`,
  }
  return { ...plan, steps: [], refused }
}

const actingSteps = (view: LedgerView): Step[] => [...view.todo, ...view.interrupted.map((k) => k.step)]

/** The facts the acting steps and the changeable skips rest on that this run has not read. */
function staleFacts(
  plan: Plan,
  view: LedgerView,
  ctx: FreshContext,
  novel: (step: Step) => string[],
  blocked: ReadonlyMap<string, string>,
): Stale {
  const { fresh } = ctx
  const stale: Stale = { users: new Set(), detections: new Set(), directory: new Set(), defender: new Set() }
  for (const step of actingSteps(view)) {
    const id = step.userId
    if (!ctx.acting(step) || blocked.has(id)) continue
    if (!fresh.users.has(id)) stale.users.add(id)
    for (const d of novel(step)) if (!fresh.detections.has(d)) stale.detections.add(d)
    if (!fresh.directory.has(id)) stale.directory.add(id)
    if (step.route.kind === 'defenderForIdentity' && !fresh.defender.has(id)) stale.defender.add(id)
  }
  for (const skip of plan.skips) {
    const id = skip.userId
    if (!CHANGEABLE_SKIPS.has(skip.reason) || blocked.has(id)) continue
    if (!fresh.directory.has(id)) stale.directory.add(id)
    // Defender for Identity may report the account later (sensors lag, a lookup failed): asked every run.
    if (skip.reason === 'noDefenderAccount' && !fresh.defender.has(id)) stale.defender.add(id)
  }
  return stale
}

const isEmpty = (s: Stale): boolean =>
  s.users.size + s.detections.size + s.directory.size + s.defender.size === 0

/**
 * The decision once no more can be read: acting steps whose facts are still not this run's (a
 * read failed) leave the plan as unverifiable; they are asked again next run.
 */
function settle(
  plan: Plan,
  view: LedgerView,
  ctx: FreshContext,
  novel: (step: Step) => string[],
  blocked: ReadonlyMap<string, string>,
): Decision {
  const unverifiable: Decision['unverifiable'] = []
  const why = (step: Step): string | undefined => {
    if (!ctx.acting(step)) return undefined
    const id = step.userId
    const { fresh } = ctx
    if (blocked.has(id)) return blocked.get(id)
    if (!fresh.users.has(id)) return 'its risky-user record was not read this run'
    if (novel(step).some((d) => !fresh.detections.has(d)))
      return 'a detection behind it was not read this run'
    if (!fresh.directory.has(id)) return 'its directory facts were not read this run'
    if (step.route.kind === 'defenderForIdentity' && !fresh.defender.has(id))
      return 'its Defender for Identity identity was not looked up this run'
    return undefined
  }
  const todo: Step[] = []
  for (const step of view.todo) {
    const reason = why(step)
    if (reason === undefined) todo.push(step)
    else unverifiable.push({ step, reason })
  }
  const interrupted = view.interrupted.filter(({ step }) => {
    const reason = why(step)
    if (reason !== undefined) unverifiable.push({ step, reason })
    return reason === undefined
  })
  return { plan, view: { ...view, todo, interrupted }, unverifiable }
}

/** Reads the stale facts into the state; a read that fails blocks that user's steps for this run. */
async function readFresh(ctx: FreshContext, stale: Stale, blocked: Map<string, string>): Promise<void> {
  const users = new Set([...stale.users, ...stale.directory, ...stale.defender])
  const before = factsOf(ctx.state, users, stale.detections)
  await Promise.all([
    readRiskyUsers(ctx, stale.users, blocked),
    readDetections(ctx, stale.detections, blocked),
    readDirectoryFacts(ctx, stale.directory),
  ])
  await lookUpDefender(ctx, stale.defender)
  // A quiet run re-reads the changeable skips' facts: the state is rewritten only when one changed.
  if (factsOf(ctx.state, users, stale.detections) !== before) ctx.fresh.modified = true
}

/** What the state holds for these users and detections, to tell whether a read changed it. */
function factsOf(state: EvidenceState, users: ReadonlySet<string>, detections: ReadonlySet<string>): string {
  return JSON.stringify([
    [...users].map((id) => state.users.get(id) ?? null),
    [...detections].map((id) => state.detections.get(id) ?? null),
  ])
}

const notFound = (e: unknown): boolean => isGraphError(e) && e.status === 404

/** Each risky user by id (`GET /identityProtection/riskyUsers/{id}`): 404 means not risky. */
async function readRiskyUsers(ctx: FreshContext, ids: ReadonlySet<string>, blocked: Map<string, string>) {
  const { client, state, fresh, signal } = ctx
  const filter = riskFilterOf(ctx.policy)
  await Promise.all(
    [...ids].map(async (id) => {
      try {
        const u = await client.riskyUsers.get(id, { signal })
        fresh.users.add(id)
        if (u.isDeleted || !admits(filter, { level: u.riskLevel, state: u.riskState })) {
          state.users.delete(id)
          return
        }
        const known = state.users.get(id)
        const read = storedUser(u)
        state.users.set(id, {
          ...known,
          ...read,
          userPrincipalName: known?.directory ? known.userPrincipalName : read.userPrincipalName,
        })
      } catch (e) {
        if (signal?.aborted) throw e
        if (!notFound(e))
          return void blocked.set(id, `its risky-user record could not be read (${(e as Error).message})`)
        fresh.users.add(id)
        state.users.delete(id)
      }
    }),
  )
}

/** Each detection by id (`GET /identityProtection/riskDetections/{id}`): 404 means it does not exist. */
async function readDetections(ctx: FreshContext, ids: ReadonlySet<string>, blocked: Map<string, string>) {
  const { client, state, fresh, signal, policy } = ctx
  const lookbackStart = (fresh.graphTime ?? ctx.now.getTime()) - policy.lookback
  await Promise.all(
    [...ids].map(async (id) => {
      const known = state.detections.get(id)
      try {
        const d = await client.riskDetections.get(id, { signal })
        fresh.detections.add(id)
        if (Date.parse(d.detectedDateTime) < lookbackStart) state.detections.delete(id)
        else state.detections.set(id, storedDetection(d))
      } catch (e) {
        if (signal?.aborted) throw e
        if (!notFound(e)) {
          if (known)
            blocked.set(known.userId, `a detection behind it could not be read (${(e as Error).message})`)
          return
        }
        fresh.detections.add(id)
        state.detections.delete(id)
      }
    }),
  )
}

/**
 * The directory facts of the given users, into the state, 20 a `$batch` on the directory budget;
 * remembers the on-premises SID of the synced ones. Used by the collection for the users whose
 * signals changed, and here for the users a step or a changeable skip rests on.
 */
export async function readDirectoryFacts(
  {
    client,
    state,
    fresh,
    warnings,
    signal,
  }: Pick<FreshContext, 'client' | 'state' | 'fresh' | 'warnings' | 'signal'>,
  ids: ReadonlySet<string>,
): Promise<void> {
  const wanted = [...ids].filter((id) => state.users.has(id) && !fresh.directory.has(id))
  if (wanted.length === 0) return
  // Handled as each $batch round answers: 10,000 users' facts are never all in memory at once.
  for await (const [id, fact] of client.users.getEach(wanted, { select: USER_SELECT, signal })) {
    const user = state.users.get(id)
    fresh.directory.add(id)
    fresh.sids.delete(id)
    if (!user) continue
    if (fact instanceof Error) {
      user.directory = undefined
      warnings.push(`directory facts of ${user.userPrincipalName} could not be read (${fact.message})`)
      continue
    }
    // The directory's UPN, not Identity Protection's copy (nullable, and it lags a rename).
    if (fact.userPrincipalName) user.userPrincipalName = fact.userPrincipalName
    user.directory = {
      accountEnabled: fact.accountEnabled ?? true,
      onPremisesSyncEnabled: fact.onPremisesSyncEnabled === true,
      userType: fact.userType ?? 'Member',
    }
    if (fact.onPremisesSyncEnabled === true && fact.onPremisesSecurityIdentifier)
      fresh.sids.set(id, fact.onPremisesSecurityIdentifier)
  }
}

/**
 * The Defender for Identity identity of each given user, found by the SID the directory gave this
 * run, 20 a `$batch` under that API's own budget. An identity counts only when exactly one carries
 * exactly the user's SID (the filter is the service's; the check is ours). What a cached state said
 * about the identity is replaced either way.
 */
async function lookUpDefender(ctx: FreshContext, ids: ReadonlySet<string>): Promise<void> {
  const { client, state, fresh, warnings, signal } = ctx
  if (ctx.extras.unavailable?.defenderForIdentity !== undefined) return
  const usersOfSid = new Map<string, string>()
  for (const id of ids) {
    const user = state.users.get(id)
    if (!user) continue
    fresh.defender.add(id)
    user.defender = undefined
    const sid = fresh.sids.get(id)?.toUpperCase()
    const other = sid === undefined ? undefined : usersOfSid.get(sid)
    if (sid === undefined) user.defenderNote = 'the directory gives it no on-premises SID'
    else if (other === undefined) usersOfSid.set(sid, id)
    else {
      // Two users with one SID: the identity would be either's, so it is neither's.
      for (const u of [user, state.users.get(other)])
        if (u) u.defenderNote = 'another user of the directory carries the same on-premises SID'
      usersOfSid.set(sid, '')
    }
  }
  if (usersOfSid.size === 0) return
  const sids = [...usersOfSid].filter(([, id]) => id !== '').map(([sid]) => sid)
  if (sids.length === 0) return
  for await (const [sid, found] of client.identityAccounts.findBySids(sids, { signal })) {
    const user = state.users.get(usersOfSid.get(sid) as string)
    if (!user) continue
    if (found instanceof Error) {
      user.defenderNote = 'its Defender for Identity account could not be read'
      warnings.push(
        `Defender for Identity account of ${user.userPrincipalName} could not be read (${found.message})`,
      )
      continue
    }
    const exact = found.filter((i) => i.onPremisesSecurityIdentifier?.toUpperCase() === sid)
    if (exact.length !== 1) {
      user.defenderNote =
        exact.length === 0
          ? found.length === 0
            ? 'no Defender for Identity account was found'
            : `no Defender for Identity identity carries exactly its SID (${found.length} returned by the filter)`
          : `${exact.length} Defender for Identity identities carry its SID, so none is trusted`
      continue
    }
    const identity = exact[0] as (typeof exact)[number]
    user.defenderNote = undefined
    user.defender = {
      identityAccountId: identity.id,
      accounts: identity.accounts.map((a) => ({
        provider: a.provider ?? 'unknown',
        identifier: a.identifier,
        actions: a.actions,
      })),
    }
  }
}

/** The keys of steps, to find the same step in a plan made again. */
export const stepKeys = (steps: readonly Step[]): Set<string> => new Set(steps.map(ledgerKey))
