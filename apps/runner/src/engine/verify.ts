/**
 * Read-after-write: a step is `succeeded` only when its effect is visible in Graph. What cannot be
 * read back (Defender for Identity's asynchronous password reset) or is not visible after a bounded
 * wait is `unverified`, never `succeeded`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type GraphClient, isGraphError, USER_VERIFY_SELECT } from '@tourniquet/core'
import type { Route, RouteKind, Step } from '@tourniquet/policy'
import type { StepOutcome } from './execute.js'
import type { SettledStatus } from './status.js'

export interface VerifyOptions {
  /** Read-backs per step at most (default 3). */
  attempts: number
  /** Wait between read-backs, in ms (default 2,000). */
  delayMs: number
  signal?: AbortSignal | undefined
  /** What read-backs learn about the service, kept for the rest of the run (see ReadBackMemo). */
  memo?: ReadBackMemo
}

/**
 * What one read-back learns that saves the next one requests: whether the service refused the
 * riskLastUpdatedDateTime filter (later read-backs go straight to the documented query). One per
 * run, so it lives as long as the run's client; never in module scope.
 */
export interface ReadBackMemo {
  refusesUpdatedSince?: boolean
}

export interface Check {
  step: Step
  /** When the call was made: a revoke or password change must be at or after it. */
  since: number
}

export type Verdict =
  | { visible: true; detail: string }
  | { visible: false; detail: string; observable: boolean }

// Our clock and Graph's may differ a little; a read-back timestamp this much earlier still counts.
const SKEW_MS = 60_000

const EXPECTED_STATE = {
  confirmCompromised: 'confirmedCompromised',
  dismiss: 'dismissed',
  confirmSafe: 'confirmedSafe',
} as const

const FALLBACK_NOTE =
  ' (read back by riskState alone: the service refused a filter on riskLastUpdatedDateTime)'

/**
 * The ids of risky users in `state`, narrowed to those updated since `earliest`. No docs page lists
 * riskLastUpdatedDateTime as filterable (MDC api/riskyuser-list.md; microsoft-graph-docs issues 13750, 19592), so when the service
 * answers 400 the read falls back to the documented riskState filter alone: more pages, same answer.
 */
async function usersInState(
  client: GraphClient,
  state: string,
  earliest: Date,
  { signal, memo }: { signal: AbortSignal | undefined; memo: ReadBackMemo },
): Promise<{ seen: Set<string>; note: string }> {
  const read = async (updatedSince: Date | undefined): Promise<Set<string>> => {
    const seen = new Set<string>()
    for await (const u of client.riskyUsers.list(
      { riskStates: [state], updatedAfter: updatedSince, select: ['id'] },
      { signal },
    ))
      seen.add(u.id)
    return seen
  }
  if (memo.refusesUpdatedSince === true) return { seen: await read(undefined), note: FALLBACK_NOTE }
  try {
    return { seen: await read(earliest), note: '' }
  } catch (error) {
    if (!isGraphError(error) || error.status !== 400) throw error
    memo.refusesUpdatedSince = true
    return { seen: await read(undefined), note: FALLBACK_NOTE }
  }
}

type Verdicts = Map<Check, Verdict>

/** Identity Protection actions: one paged list per expected state, not one request per user (1 request/s). */
async function readIdentityProtection(
  client: GraphClient,
  checks: Check[],
  out: Verdicts,
  reading: { signal: AbortSignal | undefined; memo: ReadBackMemo },
): Promise<void> {
  if (checks.length === 0) return
  const earliest = new Date(Math.min(...checks.map((c) => c.since)) - SKEW_MS)
  for (const [call, state] of Object.entries(EXPECTED_STATE)) {
    const mine = checks.filter(
      (c) => (c.step.route as Extract<Route, { kind: 'identityProtection' }>).call === call,
    )
    if (mine.length === 0) continue
    const { seen, note } = await usersInState(client, state, earliest, reading)
    for (const c of mine)
      out.set(
        c,
        seen.has(c.step.userId)
          ? { visible: true, detail: `riskState is ${state}${note}` }
          : { visible: false, observable: true, detail: `riskState is not yet ${state}${note}` },
      )
  }
}

/** What a directory write should have changed on the user as read back. */
function entraVerdict(
  c: Check,
  u: {
    accountEnabled?: boolean | undefined
    signInSessionsValidFromDateTime?: string | undefined
    lastPasswordChangeDateTime?: string | undefined
  },
): Verdict {
  const call = (c.step.route as Extract<Route, { kind: 'entra' }>).call
  const after = (iso: string | undefined): boolean =>
    iso !== undefined && Date.parse(iso) >= c.since - SKEW_MS
  if (call === 'disable' || call === 'enable') {
    const want = call === 'enable'
    return u.accountEnabled === want
      ? { visible: true, detail: `accountEnabled is ${want}` }
      : { visible: false, observable: true, detail: `accountEnabled is still ${u.accountEnabled}` }
  }
  if (call === 'revokeSignInSessions')
    return after(u.signInSessionsValidFromDateTime)
      ? { visible: true, detail: 'signInSessionsValidFromDateTime moved to the revoke' }
      : { visible: false, observable: true, detail: 'signInSessionsValidFromDateTime did not move' }
  return after(u.lastPasswordChangeDateTime)
    ? { visible: true, detail: 'lastPasswordChangeDateTime moved to the reset' }
    : { visible: false, observable: true, detail: 'lastPasswordChangeDateTime did not move' }
}

/** Directory writes: the users read back through `$batch`. */
async function readEntra(
  client: GraphClient,
  checks: Check[],
  out: Verdicts,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (checks.length === 0) return
  const users = await client.users.getMany(
    checks.map((c) => c.step.userId),
    { select: USER_VERIFY_SELECT, signal },
  )
  for (const c of checks) {
    const u = users.get(c.step.userId)
    out.set(
      c,
      !u || u instanceof Error
        ? {
            visible: false,
            observable: true,
            detail: `the user could not be read back (${u instanceof Error ? u.message : 'no answer'})`,
          }
        : entraVerdict(c, u),
    )
  }
}

/** Defender for Identity actions: the identity's isEnabled; a password reset cannot be read back. */
async function readDefender(
  client: GraphClient,
  checks: Check[],
  out: Verdicts,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const c of checks) {
    const r = c.step.route as Extract<Route, { kind: 'defenderForIdentity' }>
    if (r.action === 'forcePasswordReset') {
      out.set(c, {
        visible: false,
        observable: false,
        detail: 'Defender for Identity applies a password reset asynchronously; it cannot be read back',
      })
      continue
    }
    try {
      const identity = await client.identityAccounts.get(r.identityAccountId, { signal })
      const want = r.action === 'enable'
      out.set(
        c,
        identity.isEnabled === want
          ? { visible: true, detail: `the AD account isEnabled is ${want}` }
          : {
              visible: false,
              observable: true,
              detail: `the AD account isEnabled is still ${identity.isEnabled}`,
            },
      )
    } catch (e) {
      out.set(c, {
        visible: false,
        observable: true,
        detail: `the identity could not be read back (${(e as Error).message})`,
      })
    }
  }
}

async function readOnce(
  client: GraphClient,
  checks: Check[],
  { signal, memo }: { signal: AbortSignal | undefined; memo: ReadBackMemo },
): Promise<Verdicts> {
  const out: Verdicts = new Map()
  const of = (kind: RouteKind): Check[] => checks.filter((c) => c.step.route.kind === kind)
  await readIdentityProtection(client, of('identityProtection'), out, { signal, memo })
  await readEntra(client, of('entra'), out, signal)
  await readDefender(client, of('defenderForIdentity'), out, signal)
  return out
}

/** Reads back each step's effect, again for those not yet visible, up to `attempts` times. */
export async function verifyEffects(
  client: GraphClient,
  checks: Check[],
  options: VerifyOptions,
): Promise<Map<Check, Verdict>> {
  const verdicts = new Map<Check, Verdict>()
  const reading = { signal: options.signal, memo: options.memo ?? {} }
  let pending = checks
  for (let attempt = 1; attempt <= options.attempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(options.delayMs, undefined, { signal: options.signal })
    const round = await readOnce(client, pending, reading)
    for (const [c, v] of round) verdicts.set(c, v)
    pending = pending.filter((c) => {
      const v = verdicts.get(c)
      return v !== undefined && !v.visible && v.observable
    })
  }
  return verdicts
}

export interface Settled {
  outcome: StepOutcome
  status: SettledStatus
  reason: string | null
}

/** An outcome's audit status once read back: failures stay failed, the rest need their effect seen. */
function settled(o: StepOutcome, v: Verdict | undefined): Settled {
  if (o.status === 'failed') return { outcome: o, status: 'failed', reason: o.reason }
  if (v?.visible)
    return {
      outcome: o,
      status: 'succeeded',
      reason: o.status === 'unknown' ? `outcome was unknown; ${v.detail}` : v.detail,
    }
  const why = v?.detail ?? 'not read back'
  return { outcome: o, status: 'unverified', reason: o.status === 'unknown' ? `${o.reason}; ${why}` : why }
}

// Directory read-backs go 80 users a round (4 $batch requests of 20), two rounds at most at once.
const ENTRA_CHUNK = 80
const ENTRA_PARALLEL = 2

/**
 * Read-back that runs alongside execution instead of after it. Directory writes are read back in
 * $batch rounds as soon as enough of them have finished (reads do not spend the write budget);
 * Identity Protection actions once none of the plan's is left to run, because their read-back
 * shares the 1 request/s budget with them. A run then ends about one read-back after its last
 * action, not one read-back of everything later.
 */
export class Verifier {
  private readonly order: StepOutcome[] = []
  private readonly verdicts = new Map<StepOutcome, Verdict>()
  private readonly queued: Record<RouteKind, StepOutcome[]> = {
    identityProtection: [],
    entra: [],
    defenderForIdentity: [],
  }
  private readonly running = new Set<Promise<void>>()
  private entraRunning = 0
  private ipLeft: number

  /** `planned`: every step the run may execute, so the verifier knows when a family is done. */
  constructor(
    private readonly client: GraphClient,
    planned: readonly Step[],
    private readonly options: VerifyOptions,
  ) {
    this.ipLeft = planned.filter((s) => s.route.kind === 'identityProtection').length
  }

  /** Takes finished outcomes; read-backs start when a round's worth is ready. */
  add(outcomes: readonly StepOutcome[]): void {
    for (const o of outcomes) {
      this.order.push(o)
      const family = o.step.route.kind
      if (family === 'identityProtection') this.ipLeft--
      if (o.status !== 'failed') this.queued[family].push(o)
    }
    this.startReady()
  }

  /** Reads back whatever is still queued and returns every outcome's status, in the order added. */
  async finish(): Promise<Settled[]> {
    this.startEverything()
    while (this.running.size > 0) {
      await Promise.race(this.running)
      this.startEverything()
    }
    return this.order.map((o) => settled(o, this.verdicts.get(o)))
  }

  /** While steps still run: full directory rounds, and Identity Protection once none of it is left. */
  private startReady(): void {
    this.startEntraRounds(ENTRA_CHUNK)
    if (this.ipLeft <= 0) this.startQueued('identityProtection')
  }

  /** Once nothing runs any more: every queued read-back, partial rounds included. */
  private startEverything(): void {
    this.startEntraRounds(1)
    this.startQueued('identityProtection')
    this.startQueued('defenderForIdentity')
  }

  /** Directory rounds of up to ENTRA_CHUNK users, at least `minimum` each, ENTRA_PARALLEL at once. */
  private startEntraRounds(minimum: number): void {
    const entra = this.queued.entra
    while (entra.length >= Math.max(1, minimum) && this.entraRunning < ENTRA_PARALLEL) {
      this.entraRunning++
      this.start(entra.splice(0, ENTRA_CHUNK), () => this.entraRunning--)
    }
  }

  private startQueued(family: 'identityProtection' | 'defenderForIdentity'): void {
    const queue = this.queued[family]
    if (queue.length > 0) this.start(queue.splice(0), () => {})
  }

  private start(outcomes: StepOutcome[], done: () => void): void {
    const checks = new Map<Check, StepOutcome>(outcomes.map((o) => [{ step: o.step, since: o.startedAt }, o]))
    const job = verifyEffects(this.client, [...checks.keys()], this.options)
      .then(
        (verdicts) => {
          for (const [check, o] of checks) {
            const v = verdicts.get(check)
            if (v) this.verdicts.set(o, v)
          }
        },
        (e: unknown) => {
          // The actions happened; only their read-back failed: they stay unverified, with the reason.
          for (const o of checks.values())
            this.verdicts.set(o, {
              visible: false,
              observable: true,
              detail: `could not be read back (${(e as Error).message})`,
            })
        },
      )
      .finally(() => {
        done()
        this.running.delete(job)
      })
    this.running.add(job)
  }
}
