/**
 * Read-back of each workload write, from Graph in this run: the risk state the call should have set,
 * the service principal's accountEnabled, and (removals) that none of the removed key ids is still
 * on the object. A write whose effect is not (yet) visible is `unverified`, never `succeeded`.
 */
import type { GraphClient } from '@tourniquet/core'
import type { ServicePrincipalStep } from '@tourniquet/policy'
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

async function shows(
  client: GraphClient,
  step: ServicePrincipalStep,
  outcome: WorkloadOutcome,
): Promise<Seen> {
  const route = step.route
  if (route.kind === 'workloadIdentityProtection') {
    const state = (await client.riskyServicePrincipals.get(step.servicePrincipalId)).riskState
    const want = RISK_STATE_AFTER[route.call]
    return { ok: state === want, said: `riskState is ${state}` }
  }
  if (route.call === 'disable' || route.call === 'enable') {
    const sp = await client.servicePrincipals.get(step.servicePrincipalId, {
      select: ['id', 'accountEnabled'],
    })
    return {
      ok: sp.accountEnabled === (route.call === 'enable'),
      said: `accountEnabled is ${String(sp.accountEnabled)}`,
    }
  }
  if (route.call !== 'removeCredentials') return { ok: false, said: 'not a workload write' }
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

/** Settles each outcome by reading its effect back; a failed call stays failed. */
export async function verifyWorkloads(
  client: GraphClient,
  outcomes: readonly WorkloadOutcome[],
): Promise<WorkloadSettled[]> {
  const settled: WorkloadSettled[] = []
  for (const o of outcomes) {
    if (o.status === 'failed') {
      settled.push(o)
      continue
    }
    try {
      const seen = await shows(client, o.step, o)
      const reason = [o.reason, seen.ok ? seen.said : `read back: ${seen.said}`].filter(Boolean).join('; ')
      settled.push({ ...o, status: seen.ok ? o.status : 'unverified', reason })
    } catch (e) {
      settled.push({ ...o, status: 'unverified', reason: `read back failed: ${(e as Error).message}` })
    }
  }
  return settled
}
