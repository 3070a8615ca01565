/**
 * Sends the workload steps: confirmCompromised and dismiss for every service principal at once (60
 * ids a call, the documented limit, on the tenant's Identity Protection budget that the client
 * paces for users and service principals together), then the directory writes in the plan's order:
 * every disable/enable through `$batch` (20 a request, on the directory write budget, as the users'
 * writes), then each credential removal. The ledger gets each group's intents before its requests
 * leave and their outcomes after (a `$batch` group's outcomes as each round answers); a removal's
 * line names the key ids and hints.
 */
import {
  type BulkResult,
  type CredentialRemoval,
  type GraphClient,
  isTourniquetError,
  servicePrincipalItems,
} from '@tourniquet/core'
import type { ServicePrincipalStep } from '@tourniquet/policy'
import type { Ledger, LedgerCredential } from '../../ledger/ledger.js'
import { workloadEntry } from './ledger.js'

export interface WorkloadOutcome {
  step: ServicePrincipalStep
  status: 'succeeded' | 'failed'
  graphRequestId: string | null
  reason?: string | undefined
  errorCode?: string | undefined
  /** removeCredentials: what was removed (and what was already gone). */
  credentials?: LedgerCredential[]
}

export interface WorkloadExecuteContext {
  client: GraphClient
  ledger: Ledger
  runId: string
  stopping: () => boolean
  signal?: AbortSignal | undefined
}

const failedOutcome = (step: ServicePrincipalStep, e: unknown): WorkloadOutcome => ({
  step,
  status: 'failed',
  graphRequestId: (e as { requestId?: string }).requestId ?? null,
  reason: (e as Error).message,
  errorCode: isTourniquetError(e) ? e.code : undefined,
})

/** One group: intents, the calls, outcomes. */
async function group(
  steps: readonly ServicePrincipalStep[],
  ctx: WorkloadExecuteContext,
  send: () => Promise<WorkloadOutcome[]>,
): Promise<WorkloadOutcome[]> {
  if (steps.length === 0) return []
  await ctx.ledger.append(steps.map((s) => workloadEntry(ctx.runId, s, 'intent')))
  const outcomes = await send()
  await ctx.ledger.append(
    outcomes.map((o) =>
      workloadEntry(ctx.runId, o.step, 'done', {
        outcome: o.status,
        graphRequestId: o.graphRequestId,
        ...(o.credentials ? { credentials: o.credentials } : {}),
      }),
    ),
  )
  return outcomes
}

function bulkOutcomes(steps: readonly ServicePrincipalStep[], result: BulkResult): WorkloadOutcome[] {
  return steps.map((step) => {
    const ok = result.succeeded.find((c) => c.ids.includes(step.servicePrincipalId))
    if (ok) return { step, status: 'succeeded', graphRequestId: ok.requestId ?? null }
    const bad = result.failed.find((c) => c.ids.includes(step.servicePrincipalId))
    return failedOutcome(step, bad?.error ?? new Error('no answer for this service principal'))
  })
}

/** confirmCompromised or dismiss for every step of that call at once. */
async function identityProtection(
  call: 'confirmCompromised' | 'dismiss',
  steps: readonly ServicePrincipalStep[],
  ctx: WorkloadExecuteContext,
): Promise<WorkloadOutcome[]> {
  return group(steps, ctx, async () => {
    const ids = steps.map((s) => s.servicePrincipalId)
    const api = ctx.client.riskyServicePrincipals
    const result = await (call === 'confirmCompromised'
      ? api.confirmCompromised(ids, { signal: ctx.signal })
      : api.dismiss(ids, { signal: ctx.signal }))
    return bulkOutcomes(steps, result)
  })
}

function removalOutcome(step: ServicePrincipalStep, removal: CredentialRemoval): WorkloadOutcome {
  const credentials: LedgerCredential[] = removal.removed.map((c) => ({
    kind: c.kind,
    keyId: c.keyId,
    ...(c.hint === undefined ? {} : { hint: c.hint }),
    ...(c.displayName === undefined ? {} : { displayName: c.displayName }),
  }))
  const requestId = removal.removed.find((c) => c.requestId)?.requestId ?? null
  if (removal.failed.length > 0) {
    const first = removal.failed[0] as CredentialRemoval['failed'][number]
    return { ...failedOutcome(step, first.error), credentials }
  }
  const gone = removal.absent.map((a) => a.keyId)
  const reason = gone.length > 0 ? `already gone: ${gone.join(', ')}` : undefined
  return { step, status: 'succeeded', graphRequestId: requestId, reason, credentials }
}

const isAccountEnabled = (s: ServicePrincipalStep): boolean =>
  s.route.call === 'disable' || s.route.call === 'enable'

const doneEntries = (ctx: WorkloadExecuteContext, outcomes: readonly WorkloadOutcome[]) =>
  outcomes.map((o) =>
    workloadEntry(ctx.runId, o.step, 'done', { outcome: o.status, graphRequestId: o.graphRequestId }),
  )

/**
 * Every disable/enable through `$batch`: the intents first, then each round's outcomes as it
 * answers. A round that cannot be sent fails the steps not yet answered (an accountEnabled PATCH
 * is idempotent: the next run sends them again).
 */
async function accountEnabledWrites(
  steps: readonly ServicePrincipalStep[],
  ctx: WorkloadExecuteContext,
): Promise<WorkloadOutcome[]> {
  if (steps.length === 0) return []
  await ctx.ledger.append(steps.map((s) => workloadEntry(ctx.runId, s, 'intent')))
  const items = steps.map((s, k) =>
    servicePrincipalItems.setAccountEnabled(s.servicePrincipalId, s.route.call === 'enable', String(k)),
  )
  const outcomes: WorkloadOutcome[] = []
  const answered = new Set<ServicePrincipalStep>()
  const of = (r: {
    id: string
    requestId: string | undefined
    error?: Error | undefined
  }): WorkloadOutcome => {
    const step = steps[Number(r.id)] as ServicePrincipalStep
    answered.add(step)
    return r.error
      ? failedOutcome(step, r.error)
      : { step, status: 'succeeded', graphRequestId: r.requestId ?? null }
  }
  try {
    for await (const round of ctx.client.batch.stream(items, { signal: ctx.signal })) {
      const these = round.map(of)
      await ctx.ledger.append(doneEntries(ctx, these))
      outcomes.push(...these)
    }
  } catch (e) {
    const rest = steps.filter((s) => !answered.has(s)).map((s) => failedOutcome(s, e))
    await ctx.ledger.append(doneEntries(ctx, rest))
    outcomes.push(...rest)
  }
  return outcomes
}

/** One credential removal of one step. */
async function directoryWrite(
  step: ServicePrincipalStep,
  ctx: WorkloadExecuteContext,
): Promise<WorkloadOutcome> {
  const { client, signal } = ctx
  const route = step.route
  try {
    if (route.call !== 'removeCredentials') throw new Error(`not a credential removal: ${route.call}`)
    const selection = {
      passwordKeyIds: route.credentials.filter((c) => c.kind === 'password').map((c) => c.keyId),
      keyKeyIds: route.credentials.filter((c) => c.kind === 'key').map((c) => c.keyId),
    }
    const removal =
      route.kind === 'application'
        ? await client.applications.removeCredentials(step.appId ?? '', selection, { signal })
        : await client.servicePrincipals.removeCredentials(route.objectId, selection, { signal })
    return removalOutcome(step, removal)
  } catch (e) {
    return failedOutcome(step, e)
  }
}

/** Sends the steps; those a stop kept from starting are returned apart. */
export async function executeWorkloadSteps(
  steps: readonly ServicePrincipalStep[],
  ctx: WorkloadExecuteContext,
): Promise<{ outcomes: WorkloadOutcome[]; notStarted: ServicePrincipalStep[] }> {
  const outcomes: WorkloadOutcome[] = []
  const notStarted: ServicePrincipalStep[] = []
  for (const call of ['confirmCompromised', 'dismiss'] as const) {
    const these = steps.filter((s) => s.route.call === call)
    if (ctx.stopping()) notStarted.push(...these)
    else outcomes.push(...(await identityProtection(call, these, ctx)))
  }
  const toggles = steps.filter(isAccountEnabled)
  if (ctx.stopping()) notStarted.push(...toggles)
  else outcomes.push(...(await accountEnabledWrites(toggles, ctx)))
  for (const step of steps.filter((s) => s.route.call === 'removeCredentials')) {
    if (ctx.stopping()) {
      notStarted.push(step)
      continue
    }
    outcomes.push(...(await group([step], ctx, async () => [await directoryWrite(step, ctx)])))
  }
  return { outcomes, notStarted }
}
