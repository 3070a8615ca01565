/**
 * The workload-identity collection: risky service principals (read whole every run: Graph offers
 * `riskLastUpdatedDateTime` on them with `$filter` eq only, so there is no incremental read, and
 * they are few next to users), their detections in the lookback window, the service principals and
 * their application objects through `$batch`, and the exclusions resolved. Then the policy's pure
 * steps: `workloadSignals` and `evaluateServicePrincipals`. Nothing here is cached: every step of
 * the plan rests on facts read in this run.
 */
import {
  type Application,
  ConfigError,
  type GraphClient,
  isPermissionError,
  RISKY_SERVICE_PRINCIPAL_SELECT,
  SERVICE_PRINCIPAL_RISK_DETECTION_SELECT,
  type ServicePrincipal,
} from '@tourniquet/core'
import {
  evaluateServicePrincipals,
  type Policy,
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

/** The licence is told apart from a missing permission by Graph's code: a permission is Authorization_RequestDenied. */
function licenceMissing(e: unknown): boolean {
  return isPermissionError(e) && e.graphCode !== undefined && e.graphCode !== 'Authorization_RequestDenied'
}

async function readRisky(
  client: GraphClient,
  ctx: WorkloadReadContext,
): Promise<WorkloadCollection['risky']> {
  const out: WorkloadCollection['risky'][number][] = []
  try {
    const list = client.riskyServicePrincipals.list(
      { select: RISKY_SERVICE_PRINCIPAL_SELECT },
      { signal: ctx.signal },
    )
    for await (const r of list) out.push(r)
  } catch (e) {
    if (!licenceMissing(e)) throw e
    throw new ConfigError(
      'servicePrincipals',
      `Graph refused to list risky service principals (${(e as Error).message}); the tenant needs a Microsoft Entra Workload ID Premium licence for them: license it, or remove the policy's servicePrincipals section`,
      { cause: e },
    )
  }
  return out
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
  signal: AbortSignal | undefined,
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
      return r.appId !== undefined && sp !== undefined && !(sp instanceof Error) && sp.appOwnerOrganizationId
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

/** Reads the workload identities and plans them; undefined (and no request) without a servicePrincipals section. */
export async function collectWorkloads(
  client: GraphClient,
  policy: Policy,
  ctx: WorkloadReadContext,
): Promise<WorkloadsDecided | undefined> {
  if (!policy.servicePrincipals) return undefined
  const risky = await readRisky(client, ctx)
  const detections = await readDetections(client, policy, ctx)
  const directory = await readDirectory(client, risky, ctx.signal)
  const exclusions = await resolveExclusions(client, policy, ctx.signal)
  const signals = workloadSignals({
    tenantId: ctx.tenantId,
    self: { appId: ctx.clientId },
    risky,
    detections,
    ...directory,
    exclusions,
  })
  const plan = evaluateServicePrincipals(policy, signals, ctx.now)
  return { plan, signals, riskyServicePrincipals: risky.length, detections: detections.length }
}
