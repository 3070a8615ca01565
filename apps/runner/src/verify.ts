/**
 * Read-after-write: a step is `succeeded` only when its effect is visible in Graph. What cannot be
 * read back (Defender for Identity's asynchronous password reset) or is not visible after a bounded
 * wait is `unverified`, never `succeeded`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type GraphClient, USER_VERIFY_SELECT } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import type { StepStatus } from './audit.js'
import type { StepOutcome } from './execute.js'

export interface VerifyOptions {
  /** Read-backs per step at most (default 3). */
  attempts: number
  /** Wait between read-backs, in ms (default 2,000). */
  delayMs: number
  signal?: AbortSignal | undefined
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

async function readOnce(
  client: GraphClient,
  checks: Check[],
  signal: AbortSignal | undefined,
): Promise<Map<Check, Verdict>> {
  const out = new Map<Check, Verdict>()
  const ip = checks.filter((c) => c.step.route.kind === 'identityProtection')
  if (ip.length > 0) {
    // One paged list per expected state, not one request per user: Identity Protection allows 1 request/s.
    const earliest = new Date(Math.min(...ip.map((c) => c.since)) - SKEW_MS)
    for (const [call, state] of Object.entries(EXPECTED_STATE)) {
      const mine = ip.filter(
        (c) => (c.step.route as Extract<Route, { kind: 'identityProtection' }>).call === call,
      )
      if (mine.length === 0) continue
      const seen = new Set<string>()
      for await (const u of client.riskyUsers.list(
        { riskStates: [state], updatedSince: earliest },
        { signal },
      ))
        seen.add(u.id)
      for (const c of mine)
        out.set(
          c,
          seen.has(c.step.userId)
            ? { visible: true, detail: `riskState is ${state}` }
            : { visible: false, observable: true, detail: `riskState is not yet ${state}` },
        )
    }
  }
  const entra = checks.filter((c) => c.step.route.kind === 'entra')
  if (entra.length > 0) {
    const users = await client.users.getMany(
      entra.map((c) => c.step.userId),
      { select: USER_VERIFY_SELECT, signal },
    )
    for (const c of entra) {
      const u = users.get(c.step.userId)
      const call = (c.step.route as Extract<Route, { kind: 'entra' }>).call
      if (!u || u instanceof Error) {
        out.set(c, {
          visible: false,
          observable: true,
          detail: `the user could not be read back (${u instanceof Error ? u.message : 'no answer'})`,
        })
        continue
      }
      const after = (iso: string | undefined): boolean =>
        iso !== undefined && Date.parse(iso) >= c.since - SKEW_MS
      let v: Verdict
      if (call === 'disable' || call === 'enable') {
        const want = call === 'enable'
        v =
          u.accountEnabled === want
            ? { visible: true, detail: `accountEnabled is ${want}` }
            : { visible: false, observable: true, detail: `accountEnabled is still ${u.accountEnabled}` }
      } else if (call === 'revokeSignInSessions') {
        v = after(u.signInSessionsValidFromDateTime)
          ? { visible: true, detail: 'signInSessionsValidFromDateTime moved to the revoke' }
          : { visible: false, observable: true, detail: 'signInSessionsValidFromDateTime did not move' }
      } else {
        v = after(u.lastPasswordChangeDateTime)
          ? { visible: true, detail: 'lastPasswordChangeDateTime moved to the reset' }
          : { visible: false, observable: true, detail: 'lastPasswordChangeDateTime did not move' }
      }
      out.set(c, v)
    }
  }
  for (const c of checks.filter((x) => x.step.route.kind === 'defenderForIdentity')) {
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
  return out
}

/** Reads back each step's effect, again for those not yet visible, up to `attempts` times. */
export async function verifyEffects(
  client: GraphClient,
  checks: Check[],
  options: VerifyOptions,
): Promise<Map<Check, Verdict>> {
  const verdicts = new Map<Check, Verdict>()
  let pending = checks
  for (let attempt = 1; attempt <= options.attempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(options.delayMs, undefined, { signal: options.signal })
    const round = await readOnce(client, pending, options.signal)
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
  status: StepStatus
  reason: string | null
}

/** Verifies what went through and turns outcomes into audit statuses. */
export async function settle(
  client: GraphClient,
  outcomes: StepOutcome[],
  options: VerifyOptions,
): Promise<Settled[]> {
  const checks: Check[] = outcomes
    .filter((o) => o.status !== 'failed')
    .map((o) => ({ step: o.step, since: o.startedAt }))
  const verdicts = checks.length > 0 ? await verifyEffects(client, checks, options) : new Map()
  const byStep = new Map(checks.map((c) => [c.step, verdicts.get(c)]))
  return outcomes.map((o) => {
    if (o.status === 'failed') return { outcome: o, status: 'failed', reason: o.reason }
    const v = byStep.get(o.step)
    if (v?.visible)
      return {
        outcome: o,
        status: 'succeeded',
        reason: o.status === 'unknown' ? `outcome was unknown; ${v.detail}` : v.detail,
      }
    const why = v?.detail ?? 'not read back'
    return { outcome: o, status: 'unverified', reason: o.status === 'unknown' ? `${o.reason}; ${why}` : why }
  })
}
