/**
 * One run of the job, phase by phase: load the policy -> hold the lease -> connect -> collect and
 * plan -> (refused: stop) -> consult the ledger -> (plan mode: report the plan and stop) -> resume
 * what a crash interrupted -> apply -> report -> exit code. `runJob` below reads in that order; each
 * phase is a function of its own. Plan mode (the default) changes nothing.
 */
import type { Writable } from 'node:stream'
import { type GraphClient, type GraphClientOptions, isAuthError, isPermissionError } from '@tourniquet/core'
import {
  isPolicyError,
  loadPolicyFile,
  type Plan,
  type Policy,
  type Refusal,
  type Step,
} from '@tourniquet/policy'
import { type Applied, appliedExitCode, applySteps, verifyOptions } from './apply.js'
import { gateApprovals } from './approvals/phase.js'
import { Audit, type StepRecord, skipRecord, stepRecord } from './audit.js'
import { clientFromConfig, credentialFor } from './client.js'
import { assertCloudOffers } from './cloud.js'
import { type Collected, type Collection, collectSignals, fullReason } from './collect.js'
import type { RunnerConfig } from './env.js'
import { emptyFreshness, type Freshness } from './evidence/read.js'
import { type EvidenceState, policyDigest } from './evidence/state.js'
import { type EvidenceStore, type Loaded, openEvidenceStore } from './evidence/store.js'
import { EXIT } from './exit.js'
import { failureMessage, failureOf, STOPPED } from './failures.js'
import {
  CHANGEABLE_SKIPS,
  type Decision,
  decideOnFreshFacts,
  type FreshContext,
  NeedsFullCollection,
  stepKeys,
} from './fresh.js'
import { type Ledger, type LedgerEntry, type LedgerHeadroom, ledgerKey } from './ledger/ledger.js'
import { openLedger } from './ledger/open.js'
import { countRequests } from './metrics.js'
import { digestOf, type RunDigest, tellWorthy } from './notify/message.js'
import { notify, unsignedWarnings } from './notify/send.js'
import { writeReport } from './report.js'
import { type LedgerView, resumeInterrupted } from './resume.js'
import { newRunId } from './runId.js'
import type { VerifyOptions } from './verify.js'

export interface RunOptions {
  config: RunnerConfig
  out: Writable
  err: Writable
  /** Inject a client (the demo, tests); otherwise one is built from the configuration. */
  client?: GraphClient
  /** Inject a ledger; otherwise opened from config.ledger. */
  ledger?: Ledger
  /** Budgets that outlive this run (`tourniquet watch`'s share of Identity Protection). */
  sharedBudgets?: GraphClientOptions['sharedBudgets']
  /** Inject the evidence state's store; otherwise the one beside config.ledger. */
  evidence?: EvidenceStore
  now?: () => Date
  /** Set when a stop is requested (SIGTERM): in-flight steps finish, nothing new starts. */
  stopSignal?: AbortSignal
  verify?: Partial<VerifyOptions>
  runId?: string
  /** What this run's notification says, if anything (`tourniquet watch` mutes a repeated failure). */
  tellable?: (digest: RunDigest) => RunDigest | undefined
}

export interface RunResult {
  exitCode: number
  runId: string
  plan: Plan | undefined
  records: StepRecord[]
}

/** A run in progress: what every phase reads, and what the run must release at the end. */
interface Run {
  readonly options: RunOptions
  readonly config: RunnerConfig
  readonly now: Date
  readonly audit: Audit
  readonly startedMs: number
  readonly requests: ReturnType<typeof countRequests>
  readonly stopping: () => boolean
  plan: Plan | undefined
  policy: Policy | undefined
  ending: { exitCode: number; outcome: string; riskyUsers: number } | undefined
  /** Approval requests this run made (the notification tells of them). */
  newApprovalRequests: number
  /** The ledger's room left, read before the lease is given back. */
  headroom: LedgerHeadroom | undefined
  /** How Identity Protection was read (full or incremental, and why). */
  collection: Collection | undefined
  /** The users whose signals this run read afresh; undefined: all (a full collection). */
  touched: ReadonlySet<string> | undefined
  /** Why the evidence state could not be saved (a warning on the summary line). */
  stateWarning: string | undefined
  ledger: Ledger | undefined
  locked: boolean
  ownClient: GraphClient | undefined
  /** A client at the job's pace for a full collection the run turned to under a shared budget (closed at the end). */
  unsharedClient: GraphClient | undefined
  /** Whether the run's own client takes from a budget shared with other runs (watch's share). */
  shared: boolean
}

export async function runJob(options: RunOptions): Promise<RunResult> {
  const run = beginRun(options)
  let result: RunResult
  try {
    result = await phases(run)
  } catch (e) {
    if (isPermissionError(e)) await diagnosePermissions(run)
    result = endOnError(run, e)
  } finally {
    // Read while the lease is held: the summary line is written after it is given back.
    run.headroom = run.ledger?.headroom?.()
    if (run.locked) await run.ledger?.release()
    await run.ownClient?.close()
    await run.unsharedClient?.close()
  }
  // After the lease is given back: a slow webhook delays no other run. The summary stays last.
  await tell(run)
  writeSummary(run)
  return result
}

/** The run's notification, when it acted, failed or waits on someone; each delivery is audited. */
async function tell(run: Run): Promise<void> {
  const { config, audit } = run
  const ending = run.ending
  if (config.notify.targets.length === 0 || !ending) return
  // Stopped (SIGTERM) before acting: nothing happened, and the next run reads again; nobody is paged.
  if (ending.outcome === STOPPED.outcome) return
  const digest = digestOf(audit.records, {
    runId: audit.runId,
    tenantId: config.tenantId,
    mode: config.mode,
    outcome: ending.outcome,
    exitCode: ending.exitCode,
    counts: audit.counts(),
    newPendingApprovals: run.newApprovalRequests,
  })
  const told = (run.options.tellable ?? tellWorthy)(digest)
  if (!told) return
  for (const message of unsignedWarnings(config.notify)) audit.event('warning', { message })
  const deadlineAt = run.startedMs + config.maxRuntimeMs
  for (const d of await notify(told, config.notify, deadlineAt)) audit.event('notification', { ...d })
}

async function phases(run: Run): Promise<RunResult> {
  const policy = await loadPolicy(run)
  if (!policy) return end(run, EXIT.configuration, 'policy error: nothing done')
  run.policy = policy
  // Before any request: what the configured cloud lacks stops the run here (exit 2).
  assertCloudOffers(policy, run.config.cloud)
  const ledger = await holdLease(run)
  if (!ledger) return end(run, EXIT.ok, 'skipped: another run holds the lease')
  const evidence = await loadEvidence(run)
  const client = await connect(run, ledger, paceOf(run, policy, evidence.loaded.state))
  const entries = await ledger.load()
  const decided = await collectAndPlan(run, client, policy, { entries, evidence })
  const { plan, riskyUsers } = decided
  if (plan.refused) return refuse(run, plan, plan.refused, riskyUsers)
  const view = decided.decision.view
  recordKnown(run, plan, view)
  recordUnverifiable(run, decided.decision.unverifiable)
  const approvals = await gateApprovals(view.todo, {
    config: run.config,
    audit: run.audit,
    plan,
    now: run.now,
    credential: () => credentialFor(run.config),
  })
  view.todo = await freshenApproved(run, decided.fresh, approvals.todo)
  run.newApprovalRequests = approvals.newRequests
  if (run.config.mode === 'plan') return planOnly(run, view, riskyUsers)
  const verify = verifyOptions(run.stopping(), run.options.verify)
  const resumed = await resumeInterrupted(view.interrupted, { client, ledger, audit: run.audit, verify })
  const applied = await applySteps([...(await approvals.admit(resumed)), ...view.todo], {
    client,
    ledger,
    audit: run.audit,
    concurrency: run.config.concurrency,
    stopping: run.stopping,
    verify,
  })
  return report(run, plan, applied, riskyUsers)
}

function beginRun(options: RunOptions): Run {
  const startedMs = Date.now()
  const now = (options.now ?? (() => new Date()))()
  const runId = options.runId ?? newRunId(now)
  const run: Run = {
    options,
    config: options.config,
    now,
    audit: new Audit(options.out, options.err, runId),
    startedMs,
    requests: countRequests(),
    // A lost lease stops the run like SIGTERM: another run may be acting now (decision 010).
    stopping: () => options.stopSignal?.aborted === true || run.ledger?.lost?.aborted === true,
    plan: undefined,
    policy: undefined,
    ending: undefined,
    newApprovalRequests: 0,
    headroom: undefined,
    collection: undefined,
    touched: undefined,
    stateWarning: undefined,
    ledger: undefined,
    locked: false,
    ownClient: undefined,
    unsharedClient: undefined,
    shared: false,
  }
  return run
}

/** How the run ended (the summary line is written last, by runJob), and the run's result. */
function end(run: Run, exitCode: number, outcome: string, riskyUsers = 0): RunResult {
  run.ending = { exitCode, outcome, riskyUsers }
  return { exitCode, runId: run.audit.runId, plan: run.plan, records: run.audit.records }
}

/** The last line of stdout. */
function writeSummary(run: Run): void {
  const { audit, requests } = run
  const { exitCode, outcome, riskyUsers } = run.ending ?? {
    exitCode: EXIT.stepsFailed,
    outcome: 'failed',
    riskyUsers: 0,
  }
  const headroom = run.headroom
  audit.summary({
    mode: run.config.mode,
    outcome,
    riskyUsers,
    unmatched: run.plan?.unmatched ?? 0,
    exitCode,
    durationMs: Date.now() - run.startedMs,
    ...(run.collection ? { collection: run.collection.kind } : {}),
    ...(run.collection?.reason ? { collectionReason: run.collection.reason } : {}),
    graphRequests: requests.requests,
    identityProtectionRequests: requests.identityProtection,
    throttled429: requests.throttled,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(headroom ? { ledgerHeadroom: headroom } : {}),
    ...(run.stateWarning ? { evidenceWarning: run.stateWarning } : {}),
  })
  requests.stop()
}

// How core's PermissionError words a 403 (graphHttp.ts): a failed step that says so was refused for a permission.
const PERMISSION_REFUSED = /the app needs the Microsoft Graph application permission/

/** The doctor's permission lines on stderr, when Graph refused the run a permission (configured client only). */
async function diagnosePermissions(run: Run): Promise<void> {
  if (run.options.client || !run.policy) return
  const { explainPermissions } = await import('./doctor.js')
  await explainPermissions(run.config, run.policy, run.options.err)
}

/** An error stopped the run: its code decides the ending (failures.ts). */
function endOnError(run: Run, e: unknown): RunResult {
  // Stopped (SIGTERM) while reading: nothing was sent, and nothing half-read is kept.
  const failure = run.options.stopSignal?.aborted === true && run.plan === undefined ? STOPPED : failureOf(e)
  const message = failureMessage(e, failure)
  const aadsts = isAuthError(e) ? { aadsts: e.aadsts } : {}
  run.audit.event('error', { kind: failure.kind, message, ...aadsts })
  run.audit.note(`tourniquet: ${failure.note}: ${message}`)
  return end(run, failure.exitCode, failure.outcome)
}

/** The policy, or undefined when it cannot be used (reported, with every issue). */
async function loadPolicy(run: Run): Promise<Policy | undefined> {
  try {
    return await loadPolicyFile(run.config.policyPath)
  } catch (e) {
    if (!isPolicyError(e)) throw e
    run.audit.event('error', { kind: 'policy', message: e.message, issues: e.issues })
    run.audit.note(`tourniquet: the policy cannot be used:\n${e.message}`)
    return undefined
  }
}

/** Opens the ledger and, to apply, takes its lease; undefined when another run holds it. */
async function holdLease(run: Run): Promise<Ledger | undefined> {
  const { config } = run
  const ledger = run.options.ledger ?? (await openLedger(config, () => credentialFor(config)))
  run.ledger = ledger
  if (config.mode !== 'apply') return ledger
  run.locked = await ledger.acquire()
  if (ledger.takenOver !== undefined) {
    // Visible on both channels: a stale lock means an earlier run died without releasing it.
    run.audit.event('warning', { message: ledger.takenOver })
    run.audit.note(`tourniquet: warning: ${ledger.takenOver}`)
  }
  if (run.locked) return ledger
  run.audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
  return undefined
}

/** The injected client, or one built from the configuration (closed when the run ends). */
async function connect(
  run: Run,
  ledger: Ledger,
  sharedBudgets: RunOptions['sharedBudgets'],
): Promise<GraphClient> {
  const { config } = run
  if (!run.options.client)
    run.ownClient = clientFromConfig(config, await credentialFor(config), undefined, sharedBudgets)
  run.shared = run.ownClient !== undefined && sharedBudgets !== undefined
  const client = run.options.client ?? (run.ownClient as GraphClient)
  run.audit.event('start', {
    mode: config.mode,
    policy: config.policyPath,
    ledger: ledger.location,
    credential: client.credentialDescription,
    graph: client.endpoints.graphRoot,
  })
  return client
}

/**
 * The budgets this run shares with others (`tourniquet watch`'s share of Identity Protection), or
 * none when the run will collect in full: a watcher starting without a state, or at its daily
 * reconciliation, reads at the job's pace (40 requests at 10,000 users: 42 s, not 4 minutes at
 * the share), so a large tenant's full collection fits a run's deadline.
 */
function paceOf(run: Run, policy: Policy, previous: EvidenceState | undefined): RunOptions['sharedBudgets'] {
  const shared = run.options.sharedBudgets
  if (shared === undefined) return undefined
  const { config } = run
  const reason = fullReason(previous, {
    tenantId: config.tenantId,
    digest: policyDigest(policy),
    now: run.now,
    settings: config.collection,
  })
  if (reason === undefined) return shared
  run.audit.note(`tourniquet: a full collection (${reason}) reads at the job's pace, not the watch's share`)
  return undefined
}

/**
 * The client for a full collection the run turned to midway: under `tourniquet watch`'s shared
 * budget a client of its own at the job's pace (like a full collection known from the start, see
 * paceOf), else the run's client.
 */
async function fullCollectionClient(run: Run, client: GraphClient): Promise<GraphClient> {
  if (!run.shared) return client
  run.audit.note("tourniquet: a full collection reads at the job's pace, not the watch's share")
  run.unsharedClient ??= clientFromConfig(run.config, await credentialFor(run.config))
  return run.unsharedClient
}

/** The plan and what the fresh-facts phase decided, with what that phase needs again after approvals. */
interface Decided {
  plan: Plan
  riskyUsers: number
  decision: Decision
  /** The context the fresh-facts phase ran in: approved steps are checked in it again before they are sent. */
  fresh: FreshContext
}

/** Identity Protection reads one by one past which a full collection (about 40 at 10,000 users) is cheaper. */
const MAX_FRESH_IDENTITY_PROTECTION_READS = 20

/**
 * Collects (incrementally when the evidence state allows, decision 015), then decides on facts read
 * from Graph in this run (fresh.ts): the state only saves requests. The signals end here: only the
 * plan (which keeps what the report needs) stays alive through execution.
 */
async function collectAndPlan(
  run: Run,
  client: GraphClient,
  policy: Policy,
  {
    entries,
    evidence,
  }: { entries: readonly LedgerEntry[]; evidence: { store: EvidenceStore; loaded: Loaded } },
): Promise<Decided> {
  let fresh = emptyFreshness()
  let collected = await collect(run, client, policy, { previous: evidence.loaded.state, fresh })
  let context = freshContext(run, client, collected, fresh, entries)
  let decision = await decideOnFreshFacts(context)
  if (decision instanceof NeedsFullCollection) {
    // A new freshness: the full collection starts from an empty state, so nothing read so far is in it.
    fresh = emptyFreshness()
    const full = `fresh facts: ${decision.reason}; a full collection reads them for fewer requests`
    const reader = await fullCollectionClient(run, client)
    collected = await collect(run, reader, policy, { previous: evidence.loaded.state, fresh, full })
    context = freshContext(run, reader, collected, fresh, entries)
    decision = await decideOnFreshFacts({ ...context, maxIdentityProtectionReads: Number.POSITIVE_INFINITY })
  }
  if (decision instanceof NeedsFullCollection) throw new Error('unreachable: no limit on fresh reads')
  const { notes, collection } = collected
  run.collection = collection
  run.touched = collection.kind === 'incremental' ? collected.touched : undefined
  const saved = await saveEvidence(run, evidence, collected, fresh)
  const plan = decision.plan
  run.plan = plan
  for (const w of notes.warnings) run.audit.event('warning', { message: w })
  run.audit.event('plan', {
    collection: collection.kind,
    ...(collection.reason ? { collectionReason: collection.reason } : {}),
    changedUsers: collected.touched.size,
    evidence: saved,
    riskyUsers: notes.riskyUsers,
    detections: notes.detections,
    users: plan.users.length,
    steps: plan.steps.length,
    wanted: plan.wanted,
    unmatched: plan.unmatched,
    freshReads: {
      riskyUsers: fresh.users.size,
      directory: fresh.directory.size,
      defender: fresh.defender.size,
    },
  })
  return { plan, riskyUsers: notes.riskyUsers, decision, fresh: context }
}

function collect(
  run: Run,
  client: GraphClient,
  policy: Policy,
  from: { previous: EvidenceState | undefined; fresh: Freshness; full?: string },
): Promise<Collected> {
  const { config } = run
  return collectSignals(client, policy, run.now, {
    // SIGTERM stops a collection between pages: the platform's grace period is for in-flight steps.
    signal: run.options.stopSignal,
    tenantId: config.tenantId,
    settings: config.collection,
    ...from,
  })
}

function freshContext(
  run: Run,
  client: GraphClient,
  collected: Collected,
  fresh: Freshness,
  entries: readonly LedgerEntry[],
): FreshContext {
  return {
    client,
    policy: collected.policy,
    now: run.now,
    state: collected.state,
    fresh,
    entries,
    extras: collected.extras,
    unresolved: collected.notes.unresolvedExclusions,
    // Steps that wait for a person are checked when they are approved (freshenApproved).
    acting: (step) => step.approval === undefined,
    maxIdentityProtectionReads: MAX_FRESH_IDENTITY_PROTECTION_READS,
    warnings: collected.notes.warnings,
    signal: run.options.stopSignal,
  }
}

/**
 * Approved steps are sent only on facts read now: the plan is made again with them acting, and an
 * approved step that the fresh facts no longer make (or whose facts could not be read) is not sent.
 */
async function freshenApproved(run: Run, context: FreshContext, todo: Step[]): Promise<Step[]> {
  const approved = todo.filter((s) => s.approval !== undefined)
  if (approved.length === 0) return todo
  const keys = stepKeys(approved)
  const decision = await decideOnFreshFacts({ ...context, acting: (s) => keys.has(ledgerKey(s)) })
  const { audit } = run
  if (decision instanceof NeedsFullCollection) {
    recordUnverifiable(
      run,
      approved.map((step) => ({ step, reason: decision.reason })),
    )
    return todo.filter((s) => s.approval === undefined)
  }
  recordUnverifiable(run, decision.unverifiable)
  const still = stepKeys(decision.view.todo)
  for (const { step } of decision.view.interrupted) still.add(ledgerKey(step))
  return todo.filter((s) => {
    if (s.approval === undefined || still.has(ledgerKey(s))) return true
    if (decision.unverifiable.some((u) => ledgerKey(u.step) === ledgerKey(s))) return false
    const reason = 'approved, but the facts read from Graph now no longer make this step'
    audit.step(stepRecord(audit.runId, s, 'skipped', { reason }))
    return false
  })
}

/** Steps whose facts could not be read from Graph this run: not sent, told as failed (asked again next run). */
function recordUnverifiable(run: Run, unverifiable: Decision['unverifiable']): void {
  const { audit } = run
  for (const { step, reason } of unverifiable)
    audit.step(
      stepRecord(audit.runId, step, 'failed', {
        reason: `not sent: the facts it rests on could not be read from Graph this run (${reason})`,
      }),
    )
}

/** The evidence state beside the ledger; one that cannot be used is a warning and a full collection. */
async function loadEvidence(run: Run): Promise<{ store: EvidenceStore; loaded: Loaded }> {
  const store = run.options.evidence ?? (await openEvidenceStore(run.config, () => credentialFor(run.config)))
  const loaded = await store.load()
  if (loaded.unusable !== undefined) {
    const message = `the evidence state cannot be used (${loaded.unusable}); collecting in full and writing a new one`
    run.audit.event('warning', { message })
    run.audit.note(`tourniquet: warning: ${message}`)
  }
  return { store, loaded }
}

/** How far our clock may be from Graph's before the state (pruned by Graph's clock, aged by ours) is not saved. */
const MAX_SKEW_MS = 5 * 60_000

/**
 * Saves the state for the next run: 'saved', 'kept' when another run saved one first, 'unchanged',
 * 'not saved' (plan runs write no shared state; a clock far from Graph's), or 'failed' (a warning
 * on the summary line: the next run collects from the older state, in full after a day).
 */
async function saveEvidence(
  run: Run,
  evidence: { store: EvidenceStore; loaded: Loaded },
  collected: Collected,
  fresh: Freshness,
): Promise<string> {
  if (run.config.mode !== 'apply') return 'not saved (plan)'
  if (fresh.graphTime !== undefined && Math.abs(fresh.graphTime - run.now.getTime()) > MAX_SKEW_MS) {
    const message = `this host's clock (${run.now.toISOString()}) is ${Math.round((run.now.getTime() - fresh.graphTime) / 1000)} s from Graph's (${new Date(fresh.graphTime).toISOString()}); the evidence state is not saved`
    run.audit.event('warning', { message })
    run.stateWarning = message
    return 'not saved (clock)'
  }
  if (!collected.changed && !fresh.modified) return 'unchanged'
  if (run.stopping()) return 'kept'
  try {
    return (await evidence.store.save(collected.state, evidence.loaded)) ? 'saved' : 'kept'
  } catch (e) {
    const message = `the evidence state could not be saved (${(e as Error).message})`
    run.audit.event('warning', { message })
    run.audit.note(`tourniquet: warning: ${message}`)
    run.stateWarning = message
    return 'failed'
  }
}

/** A guardrail refused the plan: every step is recorded as skipped and nothing is done. */
function refuse(run: Run, plan: Plan, refused: Refusal, riskyUsers: number): RunResult {
  const { audit } = run
  for (const u of plan.users)
    for (const s of u.steps)
      audit.step(stepRecord(audit.runId, s, 'skipped', { reason: `refused: ${refused.reason}` }))
  audit.event('refused', { limit: refused.limit, reason: refused.reason })
  audit.table(`Run ${audit.runId}: REFUSED by ${refused.limit} — ${refused.reason}. Nothing was done.`)
  return end(run, EXIT.refused, `refused by ${refused.limit}: nothing done`, riskyUsers)
}

/**
 * What needs no action: the plan's skips, and steps the ledger says were done for this evidence.
 * An incremental run says so only for the users whose signals changed (10,000 stale users must not
 * cost 10,000 lines a minute), except a skip that rests on a fact that can change (disabled, guest,
 * route, no Defender for Identity account): it was re-read this run and is told every run until it
 * resolves.
 */
function recordKnown(run: Run, plan: Plan, view: LedgerView): void {
  const { audit, touched } = run
  const told = (userId: string): boolean => touched === undefined || touched.has(userId)
  for (const s of plan.skips)
    if (told(s.userId) || CHANGEABLE_SKIPS.has(s.reason))
      audit.step(skipRecord(audit.runId, s, `${s.reason}: ${s.detail}`))
  for (const { step, entry } of view.done) {
    if (!told(step.userId)) continue
    const reason = `already done for this evidence by ${entry.runId} (${entry.outcome ?? 'recorded'})`
    audit.step(stepRecord(audit.runId, step, 'skipped', { reason }))
  }
}

/** Plan mode: what apply would do, and nothing done. */
function planOnly(run: Run, view: LedgerView, riskyUsers: number): RunResult {
  const { audit } = run
  for (const { step, entry } of view.interrupted) {
    const reason = `interrupted in ${entry.runId}; apply checks whether it took effect`
    audit.step(stepRecord(audit.runId, step, 'planned', { reason }))
  }
  for (const step of view.todo) audit.step(stepRecord(audit.runId, step, 'planned'))
  audit.table(
    `Run ${audit.runId}: plan only (dry run). Nothing was changed. Apply with --apply or TOURNIQUET_MODE=apply.`,
  )
  return end(run, EXIT.ok, 'planned', riskyUsers)
}

/** After an apply: the table, the report file, and the exit code. */
async function report(run: Run, plan: Plan, applied: Applied, riskyUsers: number): Promise<RunResult> {
  const { audit, config } = run
  const counts = audit.counts()
  audit.table(
    `Run ${audit.runId}: applied. ${counts.succeeded} succeeded, ${counts.unverified} unverified, ${counts.failed} failed, ${counts.skipped} skipped.`,
  )
  if (config.reportPath) await writeReport(config.reportPath, audit.runId, plan, audit.records)
  if (audit.records.some((r) => r.status === 'failed' && PERMISSION_REFUSED.test(r.reason ?? '')))
    await diagnosePermissions(run)
  const stopped = applied.notStarted.length > 0
  const outcome = stopped ? 'stopped early' : counts.failed > 0 ? 'some steps failed' : 'applied'
  return end(run, appliedExitCode(audit, applied), outcome, riskyUsers)
}
