/**
 * Read-back of each workload write, from Graph in this run: the risk state the call should have set,
 * the service principal's accountEnabled, and (removals) that none of the removed key ids is still
 * on the object. A write whose effect is not (yet) visible is `unverified`, never `succeeded`.
 * Reads go by kind, not by step: one list of the risky service principals in each expected state
 * (Identity Protection is 1 request/s for the tenant, shared with the users' reads), every
 * accountEnabled through `$batch` (20 a request); only removals, few and approved one by one, are
 * read one object at a time.
 */
import type { GraphClient } from '@tourniquet/core'
import type { ServicePrincipalStep } from '@tourniquet/policy'
import { listRiskyServicePrincipals } from './collect.js'
import type { WorkloadOutcome } from './execute.js'

export interface WorkloadSettled extends Omit<WorkloadOutcome, 'status'> {
  status: 'succeeded' | 'failed' | 'unverified'
}

const RISK_STATE_AFTER = { confirmCompromised: 'confirmedCompromised', dismiss: 'dismissed' } as const

/** What Graph shows now, and whether it is the step's effect. */
interface Seen {
  ok: boolean
  said: string
}

type Sightings = Map<WorkloadOutcome, Seen | Error>

/** Risk actions: one list of the service principals in the state each call sets. */
async function readRiskStates(
  client: GraphClient,
  outcomes: readonly WorkloadOutcome[],
  out: Sightings,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const [call, state] of Object.entries(RISK_STATE_AFTER)) {
    const mine = outcomes.filter((o) => o.step.route.call === call)
    if (mine.length === 0) continue
    try {
      const { items } = await listRiskyServicePrincipals(
        client,
        { riskStates: [state], select: ['id', 'riskState'] },
        signal,
      )
      const inState = new Set(items.map((r) => r.id.toLowerCase()))
      for (const o of mine)
        out.set(
          o,
          inState.has(o.step.servicePrincipalId.toLowerCase())
            ? { ok: true, said: `riskState is ${state}` }
            : { ok: false, said: `riskState is not ${state}` },
        )
    } catch (e) {
      for (const o of mine) out.set(o, e as Error)
    }
  }
}

/** Disables and enables: every service principal's accountEnabled through `$batch`. */
async function readAccountEnabled(
  client: GraphClient,
  outcomes: readonly WorkloadOutcome[],
  out: Sightings,
  signal: AbortSignal | undefined,
): Promise<void> {
  const mine = outcomes.filter((o) => o.step.route.call === 'disable' || o.step.route.call === 'enable')
  if (mine.length === 0) return
  const read = new Map<string, { accountEnabled?: boolean | undefined } | Error>()
  try {
    const each = client.servicePrincipals.getEach(
      mine.map((o) => o.step.servicePrincipalId),
      { select: ['id', 'accountEnabled'], signal },
    )
    for await (const [id, sp] of each) read.set(id, sp)
  } catch (e) {
    for (const o of mine) out.set(o, e as Error)
    return
  }
  for (const o of mine) {
    const sp = read.get(o.step.servicePrincipalId) ?? new Error('no answer for this service principal')
    const want = o.step.route.call === 'enable'
    out.set(
      o,
      sp instanceof Error
        ? sp
        : { ok: sp.accountEnabled === want, said: `accountEnabled is ${String(sp.accountEnabled)}` },
    )
  }
}

/** A removal: none of the removed key ids is still on the object. */
async function removalShows(
  client: GraphClient,
  step: ServicePrincipalStep,
  outcome: WorkloadOutcome,
): Promise<Seen> {
  const route = step.route
  if (route.call !== 'removeCredentials') return { ok: false, said: 'not a credential removal' }
  const owner =
    route.kind === 'application'
      ? await client.applications.getByAppId(step.appId ?? '')
      : await client.servicePrincipals.get(route.objectId, {
          select: ['id', 'passwordCredentials', 'keyCredentials'],
        })
  const still = new Set(
    [...owner.passwordCredentials, ...owner.keyCredentials].map((c) => c.keyId.toLowerCase()),
  )
  const left = (outcome.credentials ?? []).filter((c) => still.has(c.keyId.toLowerCase()))
  return left.length === 0
    ? { ok: true, said: `none of the removed key ids is on the ${route.kind}` }
    : { ok: false, said: `still present: ${left.map((c) => c.keyId).join(', ')}` }
}

function settle(o: WorkloadOutcome, seen: Seen | Error | undefined): WorkloadSettled {
  if (o.status === 'failed') return o
  if (seen === undefined || seen instanceof Error) {
    const why = seen === undefined ? 'not read back' : `read back failed: ${seen.message}`
    return { ...o, status: 'unverified', reason: [o.reason, why].filter(Boolean).join('; ') }
  }
  const reason = [o.reason, seen.ok ? seen.said : `read back: ${seen.said}`].filter(Boolean).join('; ')
  return { ...o, status: seen.ok ? o.status : 'unverified', reason }
}

/** Settles each outcome by reading its effect back; a failed call stays failed. */
export async function verifyWorkloads(
  client: GraphClient,
  outcomes: readonly WorkloadOutcome[],
  signal?: AbortSignal,
): Promise<WorkloadSettled[]> {
  const sent = outcomes.filter((o) => o.status !== 'failed')
  const seen: Sightings = new Map()
  await readRiskStates(client, sent, seen, signal)
  await readAccountEnabled(client, sent, seen, signal)
  for (const o of sent.filter((x) => x.step.route.call === 'removeCredentials'))
    seen.set(o, await removalShows(client, o.step, o).catch((e: unknown) => e as Error))
  return outcomes.map((o) => settle(o, seen.get(o)))
}
