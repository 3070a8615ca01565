/**
 * Policy tests: case files (`*.cases.yaml`) give compact signals and expect steps, routes, skips or
 * a refusal. Running them is pure: the evaluator is run on each case and the result compared.
 */
import { z } from 'zod'
import { ACTIONS, type Action, canonicalAction } from './actions.js'
import { evaluate } from './evaluate.js'
import { parseText, validate } from './load.js'
import { type Plan, ROUTE_KINDS, SKIP_REASONS } from './plan.js'
import { type Policy, shown } from './schema.js'
import { SERVICE_PRINCIPAL_ACTIONS } from './servicePrincipals/actions.js'
import { evaluateServicePrincipals } from './servicePrincipals/evaluate.js'
import { SERVICE_PRINCIPAL_SKIP_REASONS, type ServicePrincipalPlan } from './servicePrincipals/plan.js'
import type { CredentialFact, ServicePrincipalSignals, WorkloadSignals } from './servicePrincipals/signals.js'
import type { DetectionSignal, Signals, UserSignals } from './signals.js'

const actionName = z
  .string()
  .refine((v) => canonicalAction(v) !== undefined, {
    error: (i) => `unknown action ${shown(i.input)}; expected one of ${ACTIONS.join(', ')}`,
  })
  .transform((v) => canonicalAction(v) as Action)

const detection = z.union([
  z.string().min(1),
  z.strictObject({
    type: z.string().min(1),
    id: z.string().optional(),
    source: z.string().optional(),
    level: z.string().optional(),
    hoursAgo: z.number().min(0).default(1),
  }),
])

const caseUser = z.strictObject({
  upn: z.string().min(3),
  id: z.string().optional(),
  risk: z.enum(['low', 'medium', 'high', 'none', 'hidden']),
  state: z
    .enum(['atRisk', 'confirmedCompromised', 'remediated', 'dismissed', 'confirmedSafe', 'none'])
    .default('atRisk'),
  detections: z.array(detection).default([]),
  synced: z.boolean().default(false),
  guest: z.boolean().default(false),
  enabled: z.boolean().default(true),
  /** false: the directory could not be read for this user. */
  directory: z.boolean().default(true),
  /** Synced users have a Defender for Identity account allowing disable, enable and forcePasswordReset unless this says otherwise. */
  defender: z.union([z.boolean(), z.strictObject({ actions: z.array(z.string()) })]).optional(),
})

const caseCredential = z.strictObject({
  keyId: z.string().min(1),
  kind: z.enum(['password', 'key']).default('password'),
  /** How long ago the credential became valid. */
  hoursAgo: z.number().min(0).default(1),
})

const spDetection = z.union([
  z.string().min(1),
  z.strictObject({
    type: z.string().min(1),
    id: z.string().optional(),
    level: z.string().optional(),
    hoursAgo: z.number().min(0).default(1),
    keyIds: z.array(z.string()).optional(),
  }),
])

/** A service principal in a case: its name is the key of the expectations. */
const caseServicePrincipal = z.strictObject({
  name: z.string().min(1),
  id: z.string().optional(),
  appId: z.string().optional(),
  risk: z.enum(['low', 'medium', 'high', 'none', 'hidden']),
  state: z
    .enum(['atRisk', 'confirmedCompromised', 'remediated', 'dismissed', 'confirmedSafe', 'none'])
    .default('atRisk'),
  type: z.string().default('Application'),
  /** thisTenant (default), otherTenant (a multi-tenant app of another tenant), none (no owner: managed identities). */
  owner: z.enum(['thisTenant', 'otherTenant', 'none']).default('thisTenant'),
  enabled: z.boolean().default(true),
  detections: z.array(spDetection).default([]),
  credentials: z
    .strictObject({
      /** The app registration's credentials (thisTenant apps only). */
      application: z.array(caseCredential).default([]),
      servicePrincipal: z.array(caseCredential).default([]),
    })
    .default({ application: [], servicePrincipal: [] }),
  /** false: the service principal could not be read from the directory. */
  directory: z.boolean().default(true),
  /** true: this is Tourniquet's own service principal. */
  self: z.boolean().default(false),
})

const spExpect = z.strictObject({
  /** Name -> steps in order; a removal is written removeCredentials(application) or removeCredentials(servicePrincipal). */
  steps: z.record(z.string(), z.array(z.string())).default({}),
  /** Name -> skip reasons (any order). Only the principals listed are checked. */
  skips: z.record(z.string(), z.array(z.enum(SERVICE_PRINCIPAL_SKIP_REASONS))).optional(),
  /** Name -> the keyIds its removal steps remove (any order). */
  removes: z.record(z.string(), z.array(z.string())).optional(),
  /** Name -> the actions of its steps that wait for approval. */
  pendingApproval: z.record(z.string(), z.array(z.enum(SERVICE_PRINCIPAL_ACTIONS))).optional(),
  refused: z.union([z.literal(false), z.string()]).optional(),
})

const caseSchema = z.strictObject({
  name: z.string().min(1),
  now: z.iso.datetime({ offset: true }).optional(),
  given: z
    .strictObject({
      users: z.array(caseUser).default([]),
      /** Exclusion group id -> member UPNs or ids. */
      groups: z.record(z.string(), z.array(z.string())).default({}),
      servicePrincipals: z.array(caseServicePrincipal).default([]),
      /**
       * servicePrincipals.exclude entries the directory does not know (the run is refused). Any other
       * entry not among the case's service principals names one elsewhere in the tenant.
       */
      unresolvedExclusions: z.array(z.string()).default([]),
    })
    .refine((g) => g.users.length > 0 || g.servicePrincipals.length > 0, {
      message: 'expected at least one user or service principal',
    }),
  expect: z
    .strictObject({
      /** UPN -> actions in order. Users not listed must get no steps. */
      steps: z.record(z.string(), z.array(actionName)).default({}),
      /** UPN -> action -> route kind. */
      routes: z.record(z.string(), z.record(z.string(), z.enum(ROUTE_KINDS))).optional(),
      /** UPN -> skip reasons (in any order). Only the users listed are checked. */
      skips: z.record(z.string(), z.array(z.enum(SKIP_REASONS))).optional(),
      /** UPN -> the actions (of its steps) that wait for a person's approval. Only the users listed are checked. */
      pendingApproval: z.record(z.string(), z.array(actionName)).optional(),
      /** false, or the limit that refuses the run (e.g. limits.maxPerAction.disable). */
      refused: z.union([z.literal(false), z.string()]).optional(),
      /** What the servicePrincipals section plans for the case's service principals. */
      servicePrincipals: spExpect.optional(),
    })
    .default({ steps: {} }),
})

export const caseFileSchema = z.strictObject({
  /** The policy under test, relative to the case file (default: policy.yaml beside it). */
  policy: z.string().optional(),
  now: z.iso.datetime({ offset: true }).default('2026-01-15T12:00:00Z'),
  cases: z.array(caseSchema).min(1, { message: 'expected at least one case' }),
})

export type CaseFile = z.output<typeof caseFileSchema>
export type PolicyCase = CaseFile['cases'][number]

export function parseCaseFile(text: string, file: string): CaseFile {
  return validate(caseFileSchema, parseText(text, file), file)
}

/** Expands a case's compact users into evaluator signals. */
export function caseSignals(c: PolicyCase, now: Date): Signals {
  const idOf = new Map<string, string>()
  for (const u of c.given.users) idOf.set(u.upn.toLowerCase(), u.id ?? u.upn)
  const users: UserSignals[] = c.given.users.map((u) => {
    const id = u.id ?? u.upn
    const detections: DetectionSignal[] = u.detections.map((d, i) => {
      const o = typeof d === 'string' ? { type: d, hoursAgo: 1 } : d
      return {
        id: ('id' in o && o.id) || `${id}#${i}`,
        riskEventType: o.type,
        riskLevel: ('level' in o && o.level) || u.risk,
        source: ('source' in o && o.source) || 'IdentityProtection',
        detectedDateTime: new Date(now.getTime() - o.hoursAgo * 3_600_000).toISOString(),
      }
    })
    const defenderActions =
      u.defender === false
        ? undefined
        : typeof u.defender === 'object'
          ? u.defender.actions
          : ['disable', 'enable', 'forcePasswordReset']
    return {
      userId: id,
      userPrincipalName: u.upn,
      risk: { level: u.risk, state: u.state },
      detections,
      directory: u.directory
        ? {
            accountEnabled: u.enabled,
            onPremisesSyncEnabled: u.synced,
            userType: u.guest ? 'Guest' : 'Member',
          }
        : undefined,
      defender:
        u.synced && defenderActions !== undefined
          ? {
              identityAccountId: `mdi-${id}`,
              accounts: [{ provider: 'activeDirectory', identifier: `ad-${id}`, actions: defenderActions }],
            }
          : undefined,
    }
  })
  const groupMembers: Record<string, string[]> = {}
  for (const [g, members] of Object.entries(c.given.groups))
    groupMembers[g] = members.map((m) => idOf.get(m.toLowerCase()) ?? m)
  return { users, groupMembers }
}

/** The tenant of case files: an owner of `thisTenant` is this id. */
export const CASE_TENANT_ID = '00000000-0000-4000-a000-00000000ca5e'
const OTHER_TENANT = '00000000-0000-4000-a000-0000000007e4'

/** Expands a case's compact service principals into evaluator signals; exclusions resolve against them. */
export function caseWorkloadSignals(c: PolicyCase, policy: Policy, now: Date): WorkloadSignals {
  const creds = (
    list: Array<{ keyId: string; kind: 'password' | 'key'; hoursAgo: number }>,
  ): CredentialFact[] =>
    list.map((k) => ({
      kind: k.kind,
      keyId: k.keyId,
      startDateTime: new Date(now.getTime() - k.hoursAgo * 3_600_000).toISOString(),
    }))
  const principals: ServicePrincipalSignals[] = c.given.servicePrincipals.map((p) => {
    const id = p.id ?? p.name
    return {
      servicePrincipalId: id,
      appId: p.appId ?? `app-${p.name}`,
      displayName: p.name,
      risk: { level: p.risk, state: p.state },
      detections: p.detections.map((d, i) => {
        const o = typeof d === 'string' ? { type: d, hoursAgo: 1 } : d
        return {
          id: ('id' in o && o.id) || `${id}#${i}`,
          riskEventType: o.type,
          riskLevel: ('level' in o && o.level) || p.risk,
          detectedDateTime: new Date(now.getTime() - o.hoursAgo * 3_600_000).toISOString(),
          keyIds: 'keyIds' in o ? o.keyIds : undefined,
        }
      }),
      directory: p.directory
        ? {
            accountEnabled: p.enabled,
            servicePrincipalType: p.type,
            appOwnerOrganizationId:
              p.owner === 'thisTenant' ? CASE_TENANT_ID : p.owner === 'otherTenant' ? OTHER_TENANT : null,
            credentials: creds(p.credentials.servicePrincipal),
          }
        : undefined,
      application:
        p.owner === 'thisTenant'
          ? { objectId: `appobj-${p.name}`, credentials: creds(p.credentials.application) }
          : undefined,
    }
  })
  const self = c.given.servicePrincipals.find((p) => p.self)
  const exclusions: Record<string, string | null> = {}
  for (const entry of policy.servicePrincipals?.exclude.servicePrincipals ?? []) {
    const hit = principals.find(
      (p) =>
        p.servicePrincipalId.toLowerCase() === entry.toLowerCase() ||
        p.appId?.toLowerCase() === entry.toLowerCase(),
    )
    const unresolved = c.given.unresolvedExclusions.some((u) => u.toLowerCase() === entry.toLowerCase())
    exclusions[entry] = unresolved ? null : (hit?.servicePrincipalId ?? `elsewhere:${entry}`)
  }
  return {
    tenantId: CASE_TENANT_ID,
    self: self
      ? { servicePrincipalId: self.id ?? self.name, appId: self.appId ?? `app-${self.name}` }
      : { appId: 'tourniquet-case-self' },
    servicePrincipals: principals,
    exclusions,
  }
}

function checkServicePrincipals(c: PolicyCase, plan: ServicePrincipalPlan): string[] {
  const want = c.expect.servicePrincipals ?? { steps: {} }
  const diff: string[] = []
  const byName = new Map(plan.principals.map((p) => [p.displayName.toLowerCase(), p]))
  const stepText = (s: ServicePrincipalPlan['steps'][number]): string =>
    s.action === 'removeCredentials' ? `removeCredentials(${s.route.kind})` : s.action
  const wantSteps = new Map(Object.entries(want.steps).map(([k, v]) => [k.toLowerCase(), v]))
  for (const p of c.given.servicePrincipals) {
    const key = p.name.toLowerCase()
    const got = plan.refused ? [] : (byName.get(key)?.steps ?? []).map(stepText)
    const expected = wantSteps.get(key) ?? []
    if (got.join(',') !== expected.join(','))
      diff.push(
        `service principal steps for ${p.name}: expected [${expected.join(', ')}], got [${got.join(', ')}]`,
      )
  }
  for (const name of wantSteps.keys())
    if (!c.given.servicePrincipals.some((p) => p.name.toLowerCase() === name))
      diff.push(`servicePrincipals.steps: '${name}' is not one of the case's service principals`)
  const sorted = (xs: string[]): string => [...xs].sort().join(', ')
  for (const [name, reasons] of Object.entries(want.skips ?? {})) {
    const got = (byName.get(name.toLowerCase())?.skips ?? []).map((s) => s.reason)
    if (sorted(got) !== sorted(reasons))
      diff.push(`service principal skips for ${name}: expected [${sorted(reasons)}], got [${sorted(got)}]`)
  }
  for (const [name, keyIds] of Object.entries(want.removes ?? {})) {
    const got = (byName.get(name.toLowerCase())?.steps ?? []).flatMap((s) =>
      s.route.call === 'removeCredentials' ? s.route.credentials.map((k) => k.keyId) : [],
    )
    if (sorted(got) !== sorted(keyIds))
      diff.push(`credentials removed for ${name}: expected [${sorted(keyIds)}], got [${sorted(got)}]`)
  }
  for (const [name, actions] of Object.entries(want.pendingApproval ?? {})) {
    const got = (byName.get(name.toLowerCase())?.steps ?? []).filter((s) => s.approval).map((s) => s.action)
    if (sorted(got) !== sorted(actions))
      diff.push(
        `service principal pendingApproval for ${name}: expected [${sorted(actions)}], got [${sorted(got)}]`,
      )
  }
  const gotRefused = plan.refused?.limit ?? false
  if (want.refused !== undefined ? gotRefused !== want.refused : plan.refused !== undefined)
    diff.push(
      `servicePrincipals refused: expected ${want.refused ?? false}, got ${gotRefused}${plan.refused ? ` (${plan.refused.reason})` : ''}`,
    )
  return diff
}

export interface CaseResult {
  name: string
  passed: boolean
  /** One line per difference: what was expected, what the plan says. */
  diff: string[]
  plan: Plan
  /** The servicePrincipals section's plan, when the policy has one or the case gives service principals. */
  servicePrincipalPlan?: ServicePrincipalPlan | undefined
}

export function runCase(policy: Policy, c: PolicyCase, fileNow: string): CaseResult {
  const now = new Date(c.now ?? fileNow)
  const signals = caseSignals(c, now)
  // In a case, an exclusion group the case does not mention has no members.
  const groupMembers = {
    ...Object.fromEntries(policy.exclude.groups.map((g) => [g, [] as string[]])),
    ...signals.groupMembers,
  }
  const plan = evaluate(policy, { ...signals, groupMembers }, now)
  const diff: string[] = []
  const byUpn = new Map(plan.users.map((u) => [u.userPrincipalName.toLowerCase(), u]))
  const expectSteps = new Map(Object.entries(c.expect.steps).map(([k, v]) => [k.toLowerCase(), v]))
  for (const user of c.given.users) {
    const key = user.upn.toLowerCase()
    // A refused plan does nothing, whatever its users wanted.
    const got = plan.refused ? [] : (byUpn.get(key)?.steps ?? []).map((s) => s.action)
    const want = expectSteps.get(key) ?? []
    if (got.join(',') !== want.join(','))
      diff.push(`steps for ${user.upn}: expected [${want.join(', ')}], got [${got.join(', ')}]`)
  }
  for (const upn of expectSteps.keys()) {
    if (!c.given.users.some((u) => u.upn.toLowerCase() === upn))
      diff.push(`steps: '${upn}' is not one of the case's users`)
  }
  for (const [upn, routes] of Object.entries(c.expect.routes ?? {})) {
    const steps = byUpn.get(upn.toLowerCase())?.steps ?? []
    for (const [actionText, kind] of Object.entries(routes)) {
      const action = canonicalAction(actionText)
      const step = steps.find((s) => s.action === action)
      if (!step) diff.push(`route of ${actionText} for ${upn}: expected ${kind}, but there is no such step`)
      else if (step.route.kind !== kind)
        diff.push(`route of ${actionText} for ${upn}: expected ${kind}, got ${step.route.kind}`)
    }
  }
  for (const [upn, reasons] of Object.entries(c.expect.skips ?? {})) {
    const got = (byUpn.get(upn.toLowerCase())?.skips ?? []).map((s) => s.reason).sort()
    const want = [...reasons].sort()
    if (got.join(',') !== want.join(','))
      diff.push(`skips for ${upn}: expected [${want.join(', ')}], got [${got.join(', ')}]`)
  }
  for (const [upn, actions] of Object.entries(c.expect.pendingApproval ?? {})) {
    const got = (byUpn.get(upn.toLowerCase())?.steps ?? [])
      .filter((s) => s.approval)
      .map((s) => s.action)
      .sort()
    const want = [...actions].sort()
    if (got.join(',') !== want.join(','))
      diff.push(`pendingApproval for ${upn}: expected [${want.join(', ')}], got [${got.join(', ')}]`)
  }
  if (c.expect.refused !== undefined) {
    const got = plan.refused?.limit ?? false
    if (got !== c.expect.refused)
      diff.push(
        `refused: expected ${c.expect.refused}, got ${got}${plan.refused ? ` (${plan.refused.reason})` : ''}`,
      )
  } else if (plan.refused) {
    diff.push(
      `refused: the plan was refused (${plan.refused.reason}); add 'refused: ${plan.refused.limit}' if that is expected`,
    )
  }
  let servicePrincipalPlan: ServicePrincipalPlan | undefined
  if (policy.servicePrincipals !== undefined || c.given.servicePrincipals.length > 0) {
    servicePrincipalPlan = evaluateServicePrincipals(policy, caseWorkloadSignals(c, policy, now), now)
    diff.push(...checkServicePrincipals(c, servicePrincipalPlan))
  }
  return { name: c.name, passed: diff.length === 0, diff, plan, servicePrincipalPlan }
}

export interface CaseFileResult {
  file: string
  policyFile: string
  results: CaseResult[]
  ruleCount: number
  /** Rule names that no case of this file matched. */
  unmatchedRules: string[]
}

export function runCaseFile(
  policy: Policy,
  caseFile: CaseFile,
  file: string,
  policyFile: string,
): CaseFileResult {
  const results = caseFile.cases.map((c) => runCase(policy, c, caseFile.now))
  const matched = new Set(results.flatMap((r) => r.plan.users.flatMap((u) => u.rules)))
  const spMatched = new Set(
    results.flatMap((r) => r.servicePrincipalPlan?.principals.flatMap((p) => p.rules) ?? []),
  )
  const spRules = policy.servicePrincipals?.rules ?? []
  return {
    file,
    policyFile,
    results,
    ruleCount: policy.rules.length + spRules.length,
    unmatchedRules: [
      ...policy.rules.map((r) => r.name).filter((n) => !matched.has(n)),
      ...spRules.map((r) => `servicePrincipals.${r.name}`).filter((n) => !spMatched.has(n.slice(18))),
    ],
  }
}
