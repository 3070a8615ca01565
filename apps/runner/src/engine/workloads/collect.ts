/**
 * The workload-identity collection, in two parts (decision 017). The head, read before anything is
 * sent: the risky service principals (read whole every run: Graph offers `riskLastUpdatedDateTime`
 * on them with `$filter` eq only, so there is no incremental read; a missing licence shows here)
 * and the exclusions resolved. The rest, read while the users' steps go out unless a cap could
 * refuse: their detections in the lookback window, the service principals and their application
 * objects through `$batch`. Then the policy's pure steps: `workloadSignals` and
 * `evaluateServicePrincipals`. Nothing here is cached: every step of the plan rests on facts read
 * in this run.
 */
import {
  type Application,
  ConfigError,
  type GraphClient,
  isGraphError,
  isPermissionError,
  RISKY_SERVICE_PRINCIPAL_SELECT,
  type RiskyServicePrincipal,
  SERVICE_PRINCIPAL_RISK_DETECTION_SELECT,
  type ServicePrincipal,
} from '@tourniquet/core'
import {
  evaluateServicePrincipals,
  type Policy,
  type Refusal,
  type ServicePrincipalPlan,
  type WorkloadCollection,
  type WorkloadSignals,
  workloadSignals,
} from '@tourniquet/policy'

export interface WorkloadReadContext {
  tenantId: string
  /** Tourniquet's own app (AZURE_CLIENT_ID): its service principal is never touched. */
  clientId: string
  now: Date
  signal?: AbortSignal | undefined
}

export interface WorkloadsDecided {
  plan: ServicePrincipalPlan
  signals: WorkloadSignals
  /** Risky service principals read (the summary's count). */
  riskyServicePrincipals: number
  detections: number
}

/**
 * Risky service principals a page: `$top` is documented on the list without a maximum; 500 is the
 * maximum documented for risky users on the same service (ours: CONTRACT.md "risky-sp-read"). The
 * default of 20 would make 1,000 of them 50 requests on the tenant's 1 request/s.
 */
export const RISKY_SERVICE_PRINCIPALS_TOP = 500

/** The licence is told apart from a missing permission by Graph's code: a permission is Authorization_RequestDenied. */
function licenceMissing(e: unknown): boolean {
  return isPermissionError(e) && e.graphCode !== undefined && e.graphCode !== 'Authorization_RequestDenied'
}

/**
 * The risky service principals in `riskStates` (all when undefined), at RISKY_SERVICE_PRINCIPALS_TOP
 * a page; a service that refuses that `$top` (the list documents none) is read again at its
 * default page size, and `refused` says why. The collection and the read-back both list this way.
 */
export async function listRiskyServicePrincipals(
  client: GraphClient,
  query: { riskStates?: string[]; select: readonly string[] },
  signal: AbortSignal | undefined,
): Promise<{ items: RiskyServicePrincipal[]; refused?: string }> {
  const read = async (top: number | undefined) => {
    const out: RiskyServicePrincipal[] = []
    const paged = top === undefined ? query : { ...query, top }
    for await (const r of client.riskyServicePrincipals.list(paged, { signal })) out.push(r)
    return out
  }
  try {
    return { items: await read(RISKY_SERVICE_PRINCIPALS_TOP) }
  } catch (e) {
    if (!isGraphError(e) || e.status !== 400) throw e
    return { items: await read(undefined), refused: e.message }
  }
}

/** The risky service principals, whole; a missing licence is a configuration error (exit 2). */
async function readRisky(
  client: GraphClient,
  ctx: WorkloadReadContext,
): Promise<{ risky: WorkloadCollection['risky']; warnings: string[] }> {
  try {
    const { items, refused } = await listRiskyServicePrincipals(
      client,
      { select: RISKY_SERVICE_PRINCIPAL_SELECT },
      ctx.signal,
    )
    const warnings =
      refused === undefined
        ? []
        : [
            `riskyServicePrincipals: the service refused $top=${RISKY_SERVICE_PRINCIPALS_TOP} (${refused}); read at its default page size (more Identity Protection requests)`,
          ]
    return { risky: items, warnings }
  } catch (e) {
    if (!licenceMissing(e)) throw e
    throw new ConfigError(
      'servicePrincipals',
      `Graph refused to list risky service principals (${(e as Error).message}); the tenant needs a Microsoft Entra Workload ID Premium licence for them: license it, or remove the policy's servicePrincipals section`,
      { cause: e },
    )
  }
}

async function readDetections(
  client: GraphClient,
  policy: Policy,
  ctx: WorkloadReadContext,
): Promise<WorkloadCollection['detections']> {
  const since = new Date(ctx.now.getTime() - policy.lookback)
  const out: WorkloadCollection['detections'][number][] = []
  const list = client.servicePrincipalRiskDetections.list(
    { since, select: SERVICE_PRINCIPAL_RISK_DETECTION_SELECT },
    { signal: ctx.signal },
  )
  for await (const d of list) out.push(d)
  return out
}

async function readDirectory(
  client: GraphClient,
  risky: WorkloadCollection['risky'],
  { tenantId, signal }: WorkloadReadContext,
): Promise<Pick<WorkloadCollection, 'servicePrincipals' | 'applications'>> {
  const servicePrincipals = new Map<string, ServicePrincipal | Error>()
  for await (const [id, sp] of client.servicePrincipals.getEach(
    risky.map((r) => r.id),
    { signal },
  ))
    servicePrincipals.set(id, sp)
  // Only this tenant's apps have an application object here; another tenant's would only 404.
  const appIds = risky
    .filter((r) => {
      const sp = servicePrincipals.get(r.id)
      return (
        r.appId !== undefined &&
        sp !== undefined &&
        !(sp instanceof Error) &&
        sp.appOwnerOrganizationId?.toLowerCase() === tenantId.toLowerCase()
      )
    })
    .map((r) => r.appId as string)
  const applications = new Map<string, Application | Error>()
  for await (const [appId, app] of client.applications.getEachByAppId(appIds, { signal }))
    applications.set(appId, app)
  return { servicePrincipals, applications }
}

/** Each exclusion -> the object id it names, or null: an unresolved one refuses the run. */
async function resolveExclusions(
  client: GraphClient,
  policy: Policy,
  signal: AbortSignal | undefined,
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for (const entry of policy.servicePrincipals?.exclude.servicePrincipals ?? [])
    out[entry] = await client.servicePrincipals.resolve(entry, { signal })
  return out
}

/** What is read before anything is sent: the risky service principals, whole, and the exclusions resolved. */
export interface WorkloadHead {
  risky: WorkloadCollection['risky']
  exclusions: Record<string, string | null>
  /** What the run should say about how the head was read (a refused page size). */
  warnings: string[]
}

/** The head of the workload collection; undefined (and no request) without a servicePrincipals section. */
export async function readWorkloadHead(
  client: GraphClient,
  policy: Policy,
  ctx: WorkloadReadContext,
): Promise<WorkloadHead | undefined> {
  if (!policy.servicePrincipals) return undefined
  const { risky, warnings } = await readRisky(client, ctx)
  const exclusions = await resolveExclusions(client, policy, ctx.signal)
  return { risky, exclusions, warnings }
}

/** The rest of the collection (detections, directory), then the plan. */
export async function decideWorkloadsFrom(
  client: GraphClient,
  policy: Policy,
  ctx: WorkloadReadContext,
  head: WorkloadHead,
): Promise<WorkloadsDecided> {
  const detections = await readDetections(client, policy, ctx)
  const directory = await readDirectory(client, head.risky, ctx)
  const signals = workloadSignals({
    tenantId: ctx.tenantId,
    self: { appId: ctx.clientId },
    risky: head.risky,
    detections,
    ...directory,
    exclusions: head.exclusions,
  })
  const plan = evaluateServicePrincipals(policy, signals, ctx.now)
  return { plan, signals, riskyServicePrincipals: head.risky.length, detections: detections.length }
}

/**
 * The refusal an exclusion that names no service principal brings, from the head alone: the
 * evaluator's own, asked of a plan with no principals (so nothing but the exclusions can refuse it).
 */
export function exclusionRefusal(
  policy: Policy,
  head: WorkloadHead,
  ctx: WorkloadReadContext,
): Refusal | undefined {
  const signals = workloadSignals({
    tenantId: ctx.tenantId,
    self: { appId: ctx.clientId },
    risky: [],
    detections: [],
    servicePrincipals: new Map(),
    applications: new Map(),
    exclusions: head.exclusions,
  })
  return evaluateServicePrincipals(policy, signals, ctx.now).refused
}

/**
 * Whether a cap of the section could refuse a plan of `risky` service principals: the most steps
 * each action could have (each principal matched by every rule that names it under match: all, by
 * the one that names it most under match: first; a removal is one step per credential owner) against
 * maxActionsPerRun and maxPerAction. When it could not, the plan can be made while the users' steps
 * go out and no cap will refuse it (decision 017).
 */
export function capCouldRefuse(policy: Policy, risky: number): boolean {
  const section = policy.servicePrincipals
  if (!section) return false
  const most = new Map<string, number>()
  for (const rule of section.rules) {
    const mine = new Map<string, number>()
    for (const action of rule.then) {
      const n = action === 'removeCredentials' ? (rule.removeCredentials?.from.length ?? 2) : 1
      mine.set(action, (mine.get(action) ?? 0) + n)
    }
    for (const [action, n] of mine)
      most.set(
        action,
        section.match === 'all' ? (most.get(action) ?? 0) + n : Math.max(most.get(action) ?? 0, n),
      )
  }
  const total = [...most.values()].reduce((a, b) => a + b, 0) * risky
  if (total > section.limits.maxActionsPerRun) return true
  return [...most].some(([action, n]) => {
    const limit = section.limits.maxPerAction[action as keyof typeof section.limits.maxPerAction]
    return limit !== undefined && n * risky > limit
  })
}
