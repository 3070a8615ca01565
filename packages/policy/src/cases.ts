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

const caseSchema = z.strictObject({
  name: z.string().min(1),
  now: z.iso.datetime({ offset: true }).optional(),
  given: z.strictObject({
    users: z.array(caseUser).min(1, { message: 'expected at least one user' }),
    /** Exclusion group id -> member UPNs or ids. */
    groups: z.record(z.string(), z.array(z.string())).default({}),
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

export interface CaseResult {
  name: string
  passed: boolean
  /** One line per difference: what was expected, what the plan says. */
  diff: string[]
  plan: Plan
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
  return { name: c.name, passed: diff.length === 0, diff, plan }
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
  return {
    file,
    policyFile,
    results,
    ruleCount: policy.rules.length,
    unmatchedRules: policy.rules.map((r) => r.name).filter((n) => !matched.has(n)),
  }
}
