/**
 * `evaluateServicePrincipals(policy, signals, now) -> ServicePrincipalPlan`: the workload-identity
 * counterpart of `evaluate`, pure and deterministic. Guardrails come first and cover every action:
 * Tourniquet's own service principal and the excluded ones are never touched, managed identities
 * are reported and skipped, and an exclusion that names no known service principal refuses the run.
 */
import { createHash } from 'node:crypto'
import type { Policy } from '../schema.js'
import { NOT_UNDOABLE, SERVICE_PRINCIPAL_ACTIONS, type ServicePrincipalAction } from './actions.js'
import {
  type ServicePrincipalPlan,
  type ServicePrincipalRoute,
  type ServicePrincipalSkipReason,
  type ServicePrincipalSubjectPlan,
  servicePrincipalRouteName,
} from './plan.js'
import type { RemoveCredentialsSettings, ServicePrincipalCondition, ServicePrincipalRule } from './schema.js'
import type {
  CredentialFact,
  ServicePrincipalDetectionSignal,
  ServicePrincipalSignals,
  WorkloadSignals,
} from './signals.js'

/** Detections that record an administrator's (or this job's) decision, not an attacker's signal. */
export const ADMIN_SERVICE_PRINCIPAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'adminConfirmedServicePrincipalCompromised',
])

const DEFAULT_STATES = ['atRisk', 'confirmedCompromised']
const lower = (s: string | null | undefined): string => (s ?? '').toLowerCase()

type Owner = 'thisTenant' | 'otherTenant' | 'none'

/** Who registered the app: this tenant, another one, or nobody (a managed identity). */
export function appOwnerOf(sp: ServicePrincipalSignals, tenantId: string): Owner | undefined {
  const dir = sp.directory
  if (!dir) return undefined
  if (lower(dir.servicePrincipalType) === 'managedidentity') return 'none'
  if (dir.appOwnerOrganizationId == null || dir.appOwnerOrganizationId === '') return 'none'
  return lower(dir.appOwnerOrganizationId) === lower(tenantId) ? 'thisTenant' : 'otherTenant'
}

function matches(
  when: ServicePrincipalCondition,
  sp: ServicePrincipalSignals,
  detections: ServicePrincipalDetectionSignal[],
  owner: Owner | undefined,
  now: number,
): boolean {
  if (when.riskLevel && !when.riskLevel.includes(sp.risk.level as never)) return false
  if (!((when.riskState as readonly string[] | undefined) ?? DEFAULT_STATES).includes(sp.risk.state))
    return false
  const types = new Set(detections.map((d) => d.riskEventType))
  if (when.detections?.anyOf && !when.detections.anyOf.some((t) => types.has(t))) return false
  if (when.detections?.allOf && !when.detections.allOf.every((t) => types.has(t))) return false
  if (when.detections?.none?.some((t) => types.has(t))) return false
  if (when.detectedWithin !== undefined) {
    const newest = detections.at(-1)
    if (!newest || now - Date.parse(newest.detectedDateTime) > when.detectedWithin) return false
  }
  if (when.servicePrincipalType !== undefined) {
    const type = lower(sp.directory?.servicePrincipalType)
    if (!when.servicePrincipalType.some((t) => lower(t) === type)) return false
  }
  if (
    when.appOwner !== undefined &&
    !(owner !== undefined && (when.appOwner as readonly string[]).includes(owner))
  )
    return false
  return true
}

function evidenceKey(sp: ServicePrincipalSignals, detections: ServicePrincipalDetectionSignal[]): string {
  // As for users: detections, or the risk level alone; never the state this job's own actions change.
  const basis = detections.length > 0 ? detections.map((d) => d.id).join(',') : `risk:${sp.risk.level}`
  return createHash('sha256').update(`sp|${basis}`).digest('hex').slice(0, 16)
}

/** The credentials `settings.which` selects among `credentials`. */
export function selectCredentials(
  credentials: readonly CredentialFact[],
  which: RemoveCredentialsSettings['which'],
  lookbackStart: number,
  detections: readonly ServicePrincipalDetectionSignal[],
): CredentialFact[] {
  if (which === 'all') return [...credentials]
  if (which === 'namedByDetections') {
    const named = new Set(detections.flatMap((d) => (d.keyIds ?? []).map(lower)))
    return credentials.filter((c) => named.has(lower(c.keyId)))
  }
  // A credential without a start time is not known to be recent: it is not "added within".
  return credentials.filter(
    (c) => c.startDateTime !== undefined && Date.parse(c.startDateTime) >= lookbackStart,
  )
}

type Resolution = { route: ServicePrincipalRoute } | { skip: ServicePrincipalSkipReason; detail: string }

const DEFAULT_REMOVE: RemoveCredentialsSettings = {
  which: 'addedWithinLookback',
  from: ['application', 'servicePrincipal'],
}

function resolve(
  action: ServicePrincipalAction,
  rule: ServicePrincipalRule,
  sp: ServicePrincipalSignals,
  owner: Owner | undefined,
  detections: ServicePrincipalDetectionSignal[],
  lookbackStart: number,
): Resolution[] {
  switch (action) {
    case 'confirmCompromised':
      return sp.risk.state === 'confirmedCompromised'
        ? [{ skip: 'alreadyConfirmed', detail: 'the service principal is already confirmed compromised' }]
        : [{ route: { kind: 'workloadIdentityProtection', call: 'confirmCompromised' } }]
    case 'dismissRisk':
      return sp.risk.state === 'dismissed'
        ? [{ skip: 'alreadyDismissed', detail: 'the risk is already dismissed' }]
        : [{ route: { kind: 'workloadIdentityProtection', call: 'dismiss' } }]
    default:
      break
  }
  const dir = sp.directory
  if (!dir)
    return [
      {
        skip: 'noDirectoryFacts',
        detail: 'the service principal could not be read from the directory, so no route can be chosen',
      },
    ]
  switch (action) {
    case 'disable':
      return dir.accountEnabled
        ? [{ route: { kind: 'servicePrincipal', call: 'disable' } }]
        : [{ skip: 'alreadyDisabled', detail: 'the service principal is already disabled' }]
    case 'enable':
      return dir.accountEnabled
        ? [{ skip: 'alreadyEnabled', detail: 'the service principal is already enabled' }]
        : [{ route: { kind: 'servicePrincipal', call: 'enable' } }]
    case 'removeCredentials': {
      if (owner === 'otherTenant')
        return [
          {
            skip: 'otherTenantApp',
            detail:
              "another tenant's multi-tenant app: its credentials live in the owner tenant; only disable applies here",
          },
        ]
      const settings = rule.removeCredentials ?? DEFAULT_REMOVE
      const out: Resolution[] = []
      for (const from of settings.from) {
        const owned =
          from === 'application'
            ? sp.application
            : { objectId: sp.servicePrincipalId, credentials: dir.credentials }
        if (!owned) {
          out.push({
            skip: 'noApplication',
            detail: 'no application object of this app was found in this tenant',
          })
          continue
        }
        const chosen = selectCredentials(owned.credentials, settings.which, lookbackStart, detections)
        if (chosen.length === 0) {
          out.push({
            skip: 'noCredentials',
            detail: `the ${from} has no credentials that '${settings.which}' selects`,
          })
          continue
        }
        out.push({
          route: {
            kind: from,
            call: 'removeCredentials',
            objectId: owned.objectId,
            credentials: chosen.map((c) => ({ kind: c.kind, keyId: c.keyId, hint: c.hint })),
          },
        })
      }
      return out
    }
    default:
      return assertNever(action)
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled service principal action ${String(value)}`)
}

function guardrail(
  sp: ServicePrincipalSignals,
  signals: WorkloadSignals,
  excluded: ReadonlySet<string>,
): { reason: ServicePrincipalSkipReason; detail: string } | undefined {
  const self = signals.self
  if (
    (self.servicePrincipalId !== undefined &&
      lower(self.servicePrincipalId) === lower(sp.servicePrincipalId)) ||
    (sp.appId !== undefined && lower(sp.appId) === lower(self.appId))
  )
    return { reason: 'self', detail: "Tourniquet's own service principal is never acted on" }
  if (excluded.has(lower(sp.servicePrincipalId)) || (sp.appId !== undefined && excluded.has(lower(sp.appId))))
    return { reason: 'excluded', detail: 'listed in servicePrincipals.exclude.servicePrincipals' }
  if (lower(sp.directory?.servicePrincipalType) === 'managedidentity')
    return {
      reason: 'managedIdentity',
      detail:
        'a managed identity has no credentials to remove and is managed by its Azure resource: reported only',
    }
  return undefined
}

function emptyPlan(now: Date, lookbackStart: number): ServicePrincipalPlan {
  return {
    evaluatedAt: now.toISOString(),
    lookbackStart: new Date(lookbackStart).toISOString(),
    principals: [],
    steps: [],
    skips: [],
    wanted: {},
    refused: undefined,
    unmatched: 0,
  }
}

export function evaluateServicePrincipals(
  policy: Policy,
  signals: WorkloadSignals,
  now: Date,
): ServicePrincipalPlan {
  const nowMs = now.getTime()
  const lookbackStart = nowMs - policy.lookback
  const section = policy.servicePrincipals
  if (!section) return emptyPlan(now, lookbackStart)

  const excluded = new Set<string>()
  const unresolved: string[] = []
  for (const entry of section.exclude.servicePrincipals) {
    const resolved = signals.exclusions?.[entry]
    if (resolved == null) unresolved.push(entry)
    else excluded.add(lower(resolved))
    excluded.add(lower(entry))
  }

  const principals: ServicePrincipalSubjectPlan[] = []
  let unmatched = 0
  const sorted = [...signals.servicePrincipals].sort((a, b) =>
    a.servicePrincipalId < b.servicePrincipalId ? -1 : a.servicePrincipalId > b.servicePrincipalId ? 1 : 0,
  )
  for (const sp of sorted) {
    const detections = sp.detections
      .filter((d) => {
        const t = Date.parse(d.detectedDateTime)
        return t >= lookbackStart && t <= nowMs && !ADMIN_SERVICE_PRINCIPAL_EVENT_TYPES.has(d.riskEventType)
      })
      .sort((a, b) => a.detectedDateTime.localeCompare(b.detectedDateTime) || a.id.localeCompare(b.id))
    const owner = appOwnerOf(sp, signals.tenantId)
    const candidates = section.rules.filter((r) => matches(r.when, sp, detections, owner, nowMs))
    const matched = section.match === 'all' ? candidates : candidates.slice(0, 1)
    if (matched.length === 0) {
      unmatched++
      continue
    }
    principals.push(planOne(sp, matched, detections, owner, lookbackStart, guardrail(sp, signals, excluded)))
  }

  const steps = principals.flatMap((p) => p.steps)
  const global = new Set<ServicePrincipalAction>(section.approvals.require)
  const byRule = new Map(section.rules.map((r) => [r.name, new Set(r.requireApproval ?? [])]))
  for (const step of steps)
    if (global.has(step.action) || byRule.get(step.rule)?.has(step.action))
      step.approval = { timeoutMs: section.approvals.timeout, onTimeout: section.approvals.onTimeout }
  const wanted: Partial<Record<ServicePrincipalAction, number>> = {}
  for (const s of steps) wanted[s.action] = (wanted[s.action] ?? 0) + 1

  let refused: ServicePrincipalPlan['refused']
  if (unresolved.length > 0) {
    refused = {
      limit: 'servicePrincipals.exclude.servicePrincipals',
      reason: `the exclusion(s) ${unresolved.join(', ')} name no service principal of this tenant, so no service principal can be acted on safely`,
    }
  } else if (steps.length > section.limits.maxActionsPerRun) {
    refused = {
      limit: 'servicePrincipals.limits.maxActionsPerRun',
      reason: `the plan has ${steps.length} service principal actions, more than servicePrincipals.limits.maxActionsPerRun (${section.limits.maxActionsPerRun})`,
    }
  } else {
    for (const action of SERVICE_PRINCIPAL_ACTIONS) {
      const limit = section.limits.maxPerAction[action]
      const n = wanted[action] ?? 0
      if (limit !== undefined && n > limit) {
        refused = {
          limit: `servicePrincipals.limits.maxPerAction.${action}`,
          reason: `the plan has ${n} ${action} steps, more than servicePrincipals.limits.maxPerAction.${action} (${limit})`,
        }
        break
      }
    }
  }
  return {
    evaluatedAt: now.toISOString(),
    lookbackStart: new Date(lookbackStart).toISOString(),
    principals,
    steps: refused ? [] : steps,
    skips: principals.flatMap((p) => p.skips),
    wanted,
    refused,
    unmatched,
  }
}

function planOne(
  sp: ServicePrincipalSignals,
  rules: ServicePrincipalRule[],
  detections: ServicePrincipalDetectionSignal[],
  owner: Owner | undefined,
  lookbackStart: number,
  blocked: { reason: ServicePrincipalSkipReason; detail: string } | undefined,
): ServicePrincipalSubjectPlan {
  const key = evidenceKey(sp, detections)
  const evidence = detections.map((d) => d.id).sort()
  const base = {
    subject: 'servicePrincipal' as const,
    servicePrincipalId: sp.servicePrincipalId,
    appId: sp.appId,
    displayName: sp.displayName ?? sp.servicePrincipalId,
  }
  const plan: ServicePrincipalSubjectPlan = {
    ...base,
    rules: rules.map((r) => r.name),
    justification: {
      riskLevel: sp.risk.level,
      riskState: sp.risk.state,
      servicePrincipalType: sp.directory?.servicePrincipalType,
      appOwner: owner,
      detections: detections.map((d) => ({
        id: d.id,
        riskEventType: d.riskEventType,
        detectedDateTime: d.detectedDateTime,
      })),
    },
    evidenceKey: key,
    steps: [],
    skips: [],
  }
  if (blocked) {
    plan.skips.push({
      ...base,
      rule: rules[0]?.name,
      action: undefined,
      reason: blocked.reason,
      detail: blocked.detail,
    })
    return plan
  }
  const seenActions = new Set<ServicePrincipalAction>()
  const seenRoutes = new Set<string>()
  for (const rule of rules) {
    for (const action of rule.then) {
      if (seenActions.has(action)) continue
      seenActions.add(action)
      for (const r of resolve(action, rule, sp, owner, detections, lookbackStart)) {
        if ('skip' in r) {
          plan.skips.push({ ...base, rule: rule.name, action, reason: r.skip, detail: r.detail })
          continue
        }
        const name = servicePrincipalRouteName(r.route)
        if (seenRoutes.has(name)) {
          plan.skips.push({
            ...base,
            rule: rule.name,
            action,
            reason: 'duplicate',
            detail: 'an earlier action of this plan makes the same call',
          })
          continue
        }
        seenRoutes.add(name)
        plan.steps.push({
          ...base,
          rule: rule.name,
          action,
          route: r.route,
          evidenceKey: key,
          evidence,
          undoable: !NOT_UNDOABLE.has(action),
        })
      }
    }
  }
  return plan
}
