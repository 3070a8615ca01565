/**
 * One run of the job as a chain of values: load the policy -> hold the lease -> connect -> collect
 * and plan on fresh facts -> (refused: stop) -> consult the ledger -> gate approvals -> (plan mode:
 * report the plan and stop) -> resume what a crash interrupted -> apply -> report. Each stage takes
 * what the one before returned; the session (session.ts) owns every resource and releases it when
 * the run ends, before the notification and the summary line. Plan mode (the default) changes nothing.
 */
import type { Writable } from 'node:stream'
import {
  ErrorCode,
  type GraphClient,
  type GraphClientOptions,
  isAuthError,
  isPermissionError,
} from '@tourniquet/core'
import {
  isPolicyError,
  loadPolicyFile,
  type Plan,
  type Policy,
  type Refusal,
  type Step,
} from '@tourniquet/policy'
import { type ApprovalPhase, gateApprovals, userSubjects } from '../approvals/phase.js'
import { type Applied, appliedExitCode, applySteps, verifyOptions } from '../engine/apply.js'
import { assertCloudFits } from '../engine/cloud.js'
import { type Collected, type Collection, collectSignals, fullReason } from '../engine/collect.js'
import {
  CHANGEABLE_SKIPS,
  type Decision,
  decideOnFreshFacts,
  type FreshContext,
  NeedsFullCollection,
  stepKeys,
} from '../engine/fresh.js'
import { countRequests } from '../engine/metrics.js'
import { type LedgerView, resumeInterrupted } from '../engine/resume.js'
import { newRunId } from '../engine/runId.js'
import { openSession, type Session, type SessionCache } from '../engine/session.js'
import type { VerifyOptions } from '../engine/verify.js'
import {
  actWorkloads,
  refusedWorkloadRecords,
  startWorkloads,
  type WorkloadStart,
  type WorkloadsDecided,
  type WorkloadsStarted,
} from '../engine/workloads/stage.js'
import type { RunnerConfig } from '../env.js'
import { emptyFreshness, type Freshness, type RiskyUsersRead } from '../evidence/read.js'
import { type EvidenceState, policyDigest } from '../evidence/state.js'
import type { EvidenceStore, Loaded, StateIo } from '../evidence/store.js'
import { EXIT } from '../exit.js'
import { failureMessage, failureOf, STOPPED } from '../failures.js'
import { type Ledger, type LedgerEntry, type LedgerHeadroom, ledgerKey } from '../ledger/ledger.js'
import { Audit, countsOf, type StepRecord, skipRecord, stepRecord } from '../outputs/audit.js'
import { digestOf, type RunDigest, tellWorthy } from '../outputs/notify/message.js'
import { notify, unsignedWarnings } from '../outputs/notify/send.js'
import { type Progress, type ProgressStream, startProgress } from '../outputs/progress.js'
import { writeReport } from '../outputs/report.js'

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
  /** What outlives this run in a long-running process (`tourniquet watch`): see SessionCache. */
  cache?: SessionCache
  /** Inject the evidence state's store; otherwise the one beside config.ledger. */
  evidence?: EvidenceStore
  now?: () => Date
  /** Set when a stop is requested (SIGTERM): in-flight steps finish, nothing new starts. */
  stopSignal?: AbortSignal
  /**
   * When to keep a progress line on stderr, if stderr is a terminal (outputs/progress.ts): every
   * run (the default), only a run that collects in full (`tourniquet watch`), or never.
   */
  progress?: 'always' | 'full' | 'never'
  verify?: Partial<VerifyOptions>
  runId?: string
  /**
   * Whether an incremental run reads the changed risky users when no detection changed: `tourniquet
   * watch` reads them once a minute (the job's pace) and in between only with a new detection.
   */
  riskyUsers?: RiskyUsersRead
  /** What this run's notification says, if anything (`tourniquet watch` mutes a repeated failure). */
  tellable?: (digest: RunDigest) => RunDigest | undefined
}

export interface RunResult {
  exitCode: number
  runId: string
  plan: Plan | undefined
  records: StepRecord[]
}

/** What every stage reads and nobody changes: the settings, the run's clock and its output. */
interface RunStart {
  readonly options: RunOptions
  readonly config: RunnerConfig
  readonly now: Date
  readonly audit: Audit
  readonly startedMs: number
  readonly requests: ReturnType<typeof countRequests>
}

/** How a run ended, with what the summary line and the notification say of it. */
interface Ended {
  readonly exitCode: number
  readonly outcome: string
  readonly riskyUsers: number
  readonly plan?: Plan | undefined
  /** How Identity Protection was read (full or incremental, and why). */
  readonly collection?: Collection | undefined
  /** Why the evidence state could not be saved (a warning on the summary line). */
  readonly stateWarning?: string | undefined
  /** Approval requests this run made (the notification tells of them). */
  readonly newApprovalRequests?: number
  /** The ledger's room left, read before the lease is given back. */
  readonly headroom?: LedgerHeadroom | undefined
  /** What reading and saving the evidence state cost. */
  readonly stateIo?: StateIo | undefined
  /** Every step record the stages wrote: the counts, the exit code and the notification come from these. */
  readonly records?: readonly StepRecord[]
}

export async function runJob(options: RunOptions): Promise<RunResult> {
  const start = begin(options)
  const ended = await inSession(start)
  // After the lease is given back: a slow webhook delays no other run. The summary stays last.
  await tell(start, ended)
  writeSummary(start, ended)
  return {
    exitCode: ended.exitCode,
    runId: start.audit.runId,
    plan: ended.plan,
    records: [...(ended.records ?? [])],
  }
}

function begin(options: RunOptions): RunStart {
  const startedMs = Date.now()
  const now = (options.now ?? (() => new Date()))()
  return {
    options,
    config: options.config,
    now,
    audit: new Audit(options.out, options.err, options.runId ?? newRunId(now)),
    startedMs,
    requests: countRequests(),
  }
}

/** The run's stages in a session that is closed (lease released, clients closed) when they end. */
async function inSession(start: RunStart): Promise<Ended> {
  const { options } = start
  await using session = openSession(start.config, {
    stopSignal: options.stopSignal,
    cache: options.cache,
    client: options.client,
    ledger: options.ledger,
    evidence: options.evidence,
  })
  let ended: Ended
  try {
    ended = await stages(start, session)
  } catch (e) {
    ended = await failed(start, session, e, {})
  }
  // Read while the lease is held: the summary line is written after it is given back.
  return { ...ended, headroom: session.headroom(), stateIo: session.stateIo() }
}

async function stages(start: RunStart, session: Session): Promise<Ended> {
  const policy = await loadPolicy(start)
  if (!policy) return { exitCode: EXIT.configuration, outcome: 'policy error: nothing done', riskyUsers: 0 }
  try {
    return await withPolicy(start, session, policy)
  } catch (e) {
    return failed(start, session, e, { policy })
  }
}

async function withPolicy(start: RunStart, session: Session, policy: Policy): Promise<Ended> {
  // Before any request: what the configured cloud lacks stops the run here (exit 2).
  assertCloudFits(policy, start.config.cloud)
  const ledger = await holdLease(start, session)
  if (!ledger) return { exitCode: EXIT.ok, outcome: 'skipped: another run holds the lease', riskyUsers: 0 }
  const evidence = await loadEvidence(start, session)
  const shared = paceOf(start, policy, evidence.loaded.state)
  const client = await connect(start, session, ledger, shared)
  const entries = await ledger.load()
  const progress = progressOf(start, policy, evidence.loaded.state)
  const reading: Reading = {
    session,
    client,
    shared: shared !== undefined && !session.injectedClient,
    progress,
  }
  let workloads: WorkloadsStarted | undefined
  try {
    const decided = await collectAndPlan(start, reading, policy, { entries, evidence })
    // Service principals: what can stop the run is read before anything is sent, the rest while
    // the users' steps go out unless a cap could refuse (decision 017).
    workloads = await startWorkloads(workloadStart(start), client, policy)
    try {
      const acting = { client, ledger, decided, policy, workloads, entries, progress }
      return {
        ...(await act(start, session, acting)),
        ...endedOf(decided),
      }
    } catch (e) {
      return { ...(await failed(start, session, e, { policy, decided })), ...endedOf(decided) }
    }
  } finally {
    workloads?.cancel()
    progress?.stop()
  }
}

/** The progress line for a person at a terminal: every run, or (watch) only a run that collects in full. */
function progressOf(
  start: RunStart,
  policy: Policy,
  previous: EvidenceState | undefined,
): Progress | undefined {
  const when = start.options.progress ?? 'always'
  if (when === 'never') return undefined
  if (when === 'full') {
    const { config, now } = start
    const digest = policyDigest(policy)
    const reason = fullReason(previous, {
      tenantId: config.tenantId,
      digest,
      now,
      settings: config.collection,
    })
    if (reason === undefined) return undefined
  }
  return startProgress(start.options.err as ProgressStream, { title: `tourniquet ${start.config.mode}` })
}

/** What the summary says of a run that got as far as a plan. */
const endedOf = (d: Decided): Partial<Ended> => ({
  plan: d.plan,
  collection: d.collection,
  ...(d.stateWarning === undefined ? {} : { stateWarning: d.stateWarning }),
})

interface Acting {
  client: GraphClient
  ledger: Ledger
  decided: Decided
  policy: Policy
  /** The workload identities' plan (made or being made), when the policy has a servicePrincipals section. */
  workloads?: WorkloadsStarted | undefined
  /** The workload plan once made (the report's "why" section). */
  workloadPlan?: WorkloadsDecided['plan'] | undefined
  /** The ledger's lines as this run read them (the workload stage's view of what was done). */
  entries?: readonly LedgerEntry[]
  progress: Progress | undefined
}

const workloadStart = (start: RunStart): WorkloadStart => ({
  config: start.config,
  audit: start.audit,
  now: start.now,
  signal: start.options.stopSignal,
})

/** The workload stage's records and plan (none without a servicePrincipals section), once its plan is made. */
async function workloadRecords(
  start: RunStart,
  session: Session,
  acting: Acting,
): Promise<{ records: StepRecord[]; plan?: WorkloadsDecided['plan']; stopped?: true }> {
  if (!acting.workloads) return { records: [] }
  let decided: WorkloadsDecided
  try {
    decided = await acting.workloads.decided
  } catch (e) {
    if (!session.stopping()) throw e
    // A stop (SIGTERM) cut the service principals' reads short: none of their steps was planned or sent.
    start.audit.note(
      'tourniquet: stopped before the service principals were read in full; none of their steps was sent',
    )
    return { records: [], stopped: true }
  }
  // A plan made while the users' steps went out cannot be refused: its head showed no cap could.
  if (decided.plan.refused)
    throw new Error(
      `the service principals' plan was refused after the users' steps started (${decided.plan.refused.reason}); nothing of it was sent`,
    )
  const records = await actWorkloads(workloadStart(start), {
    decided,
    client: acting.client,
    ledger: acting.ledger,
    entries: acting.entries ?? [],
    blobs: session.blobs,
    stopping: () => session.stopping(),
  })
  return { records, plan: decided.plan }
}

/** The users' apply and the workload stage side by side; both end before either's failure is thrown. */
async function applyBoth(
  start: RunStart,
  session: Session,
  acting: Acting,
  ready: { todo: Step[]; approvals: ApprovalPhase },
): Promise<{ applied: Applied; workloads: Awaited<ReturnType<typeof workloadRecords>> }> {
  const [users, workloads] = await Promise.allSettled([
    applyAll(start, session, acting, ready),
    workloadRecords(start, session, acting),
  ])
  if (users.status === 'fulfilled' && workloads.status === 'fulfilled')
    return { applied: users.value, workloads: workloads.value }
  const kept = [
    ...(users.status === 'fulfilled' ? users.value.records : []),
    ...(workloads.status === 'fulfilled' ? workloads.value.records : []),
  ]
  throw new SideFailed(
    users.status === 'rejected'
      ? users.reason
      : workloads.status === 'rejected'
        ? workloads.reason
        : undefined,
    kept,
  )
}

/** One side of applyBoth failed after the other had acted: what that side recorded is kept for the summary. */
class SideFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly records: readonly StepRecord[],
  ) {
    super('a stage of the run failed', { cause })
  }
}

/** From the plan to the report: the ledger's view, approvals, then (apply mode) the steps. */
async function act(start: RunStart, session: Session, acting: Acting): Promise<Ended> {
  const { plan, riskyUsers } = acting.decided
  if (plan.refused) return refuse(start, plan, plan.refused, riskyUsers)
  // Made before anything is sent when a cap could refuse it (decision 017).
  const early = acting.workloads?.early === true ? await acting.workloads.decided : undefined
  if (early?.plan.refused) {
    const before = refusedWorkloadRecords(workloadStart(start), early)
    return refuse(start, plan, early.plan.refused, riskyUsers, before)
  }
  let records: StepRecord[] = []
  try {
    const ready = await prepare(start, session, acting)
    records = ready.records
    const newApprovalRequests = ready.approvals.newRequests
    if (start.config.mode === 'plan') {
      records = [...records, ...(await workloadRecords(start, session, acting)).records]
      const planned = planOnly(start, { ...acting.decided.decision.view, todo: ready.todo }, records)
      return { ...planned, riskyUsers, newApprovalRequests }
    }
    const both = await applyBoth(start, session, acting, ready).catch((e: unknown) => {
      if (!(e instanceof SideFailed)) throw e
      records = [...records, ...e.records]
      throw e.cause
    })
    records = [...records, ...both.applied.records, ...both.workloads.records]
    const reported = await report(start, session, {
      ...acting,
      applied: both.applied,
      records,
      workloadPlan: both.workloads.plan,
      workloadsStopped: both.workloads.stopped === true,
    })
    return { ...reported, riskyUsers, newApprovalRequests }
  } catch (e) {
    return { ...(await failed(start, session, e, acting)), records }
  }
}

/** What needs no action, what waits for a person, and the steps to send on facts read now. */
async function prepare(
  start: RunStart,
  session: Session,
  { decided }: Acting,
): Promise<{ todo: Step[]; approvals: ApprovalPhase; records: StepRecord[] }> {
  const { plan, decision } = decided
  const known = [
    ...recordKnown(start, plan, decision.view, decided.touched),
    ...recordUnverifiable(start, decision.unverifiable),
  ]
  const approvals = await gateApprovals(decision.view.todo, {
    config: start.config,
    audit: start.audit,
    subjects: userSubjects(plan),
    now: start.now,
    blobs: session.blobs,
  })
  const fresh = await freshenApproved(start, decided.fresh, approvals.todo)
  return { todo: fresh.todo, approvals, records: [...known, ...approvals.records, ...fresh.records] }
}

/** Apply mode: what a crash interrupted is read back first, then everything is sent through one path. */
async function applyAll(
  start: RunStart,
  session: Session,
  { client, ledger, decided, progress }: Acting,
  ready: { todo: Step[]; approvals: ApprovalPhase },
): Promise<Applied> {
  const { audit } = start
  const verify = verifyOptions(session.stopping(), start.options.verify)
  const resumed = await resumeInterrupted(decided.decision.view.interrupted, {
    client,
    ledger,
    audit,
    verify,
  })
  const admitted = await ready.approvals.admit(resumed.again)
  const applied = await applySteps([...admitted.send, ...ready.todo], {
    client,
    ledger,
    audit,
    concurrency: start.config.concurrency,
    stopping: () => session.stopping(),
    verify,
    progress,
  })
  // Cleared before the summary table is written on the same stream.
  progress?.stop()
  return { ...applied, records: [...resumed.records, ...admitted.records, ...applied.records] }
}

/** The run's notification, when it acted, failed or waits on someone; each delivery is audited. */
async function tell(start: RunStart, ended: Ended): Promise<void> {
  const { config, audit } = start
  if (config.notify.targets.length === 0) return
  // Stopped (SIGTERM) before acting: nothing happened, and the next run reads again; nobody is paged.
  if (ended.outcome === STOPPED.outcome) return
  const records = ended.records ?? []
  const digest = digestOf(records, {
    runId: audit.runId,
    tenantId: config.tenantId,
    mode: config.mode,
    outcome: ended.outcome,
    exitCode: ended.exitCode,
    counts: countsOf(records),
    newPendingApprovals: ended.newApprovalRequests ?? 0,
  })
  const told = (start.options.tellable ?? tellWorthy)(digest)
  if (!told) return
  for (const message of unsignedWarnings(config.notify)) audit.event('warning', { message })
  const deadlineAt = start.startedMs + config.maxRuntimeMs
  for (const d of await notify(told, config.notify, deadlineAt)) audit.event('notification', { ...d })
}

/** The last line of stdout. */
function writeSummary(start: RunStart, ended: Ended): void {
  const { audit, requests } = start
  const { headroom, collection } = ended
  audit.summary(ended.records ?? [], {
    mode: start.config.mode,
    outcome: ended.outcome,
    riskyUsers: ended.riskyUsers,
    unmatched: ended.plan?.unmatched ?? 0,
    exitCode: ended.exitCode,
    durationMs: Date.now() - start.startedMs,
    ...(collection ? { collection: collection.kind } : {}),
    ...(collection?.reason ? { collectionReason: collection.reason } : {}),
    graphRequests: requests.requests,
    identityProtectionRequests: requests.identityProtection,
    throttled429: requests.throttled,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(headroom ? { ledgerHeadroom: headroom } : {}),
    ...(ended.stateWarning ? { evidenceWarning: ended.stateWarning } : {}),
    ...(ended.stateIo
      ? {
          evidenceState: {
            bytesRead: ended.stateIo.bytesRead,
            bytesWritten: ended.stateIo.bytesWritten,
            ms: Math.round(ended.stateIo.ms),
          },
        }
      : {}),
  })
  requests.stop()
}

/** The doctor's permission lines on stderr, when Graph refused the run a permission (configured client only). */
async function diagnosePermissions(start: RunStart, session: Session, policy: Policy): Promise<void> {
  if (session.injectedClient) return
  const { explainPermissions } = await import('./doctor.js')
  await explainPermissions(start.config, await session.credential(), policy, start.options.err)
}

/** An error stopped the run: its code decides the ending (failures.ts). */
async function failed(
  start: RunStart,
  session: Session,
  e: unknown,
  { policy, decided }: { policy?: Policy; decided?: Decided },
): Promise<Ended> {
  if (isPermissionError(e) && policy) await diagnosePermissions(start, session, policy)
  // Stopped (SIGTERM) while reading: nothing was sent, and nothing half-read is kept.
  const failure = start.options.stopSignal?.aborted === true && decided === undefined ? STOPPED : failureOf(e)
  const message = failureMessage(e, failure)
  const aadsts = isAuthError(e) ? { aadsts: e.aadsts } : {}
  start.audit.event('error', { kind: failure.kind, message, ...aadsts })
  start.audit.note(`tourniquet: ${failure.note}: ${message}`)
  return { exitCode: failure.exitCode, outcome: failure.outcome, riskyUsers: 0 }
}

/** The policy, or undefined when it cannot be used (reported, with every issue). */
async function loadPolicy(start: RunStart): Promise<Policy | undefined> {
  try {
    return await loadPolicyFile(start.config.policyPath)
  } catch (e) {
    if (!isPolicyError(e)) throw e
    start.audit.event('error', { kind: 'policy', message: e.message, issues: e.issues })
    start.audit.note(`tourniquet: the policy cannot be used:\n${e.message}`)
    return undefined
  }
}

/** Opens the ledger and, to apply, takes its lease; undefined when another run holds it. */
async function holdLease(start: RunStart, session: Session): Promise<Ledger | undefined> {
  const ledger = await session.ledger()
  if (start.config.mode !== 'apply') return ledger
  const locked = await session.lease()
  if (ledger.takenOver !== undefined) {
    // Visible on both channels: a stale lock means an earlier run died without releasing it.
    start.audit.event('warning', { message: ledger.takenOver })
    start.audit.note(`tourniquet: warning: ${ledger.takenOver}`)
  }
  if (locked) return ledger
  start.audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
  return undefined
}

/** The session's Graph client, at the watch's share when `shared` says so; the start line names it. */
async function connect(
  start: RunStart,
  session: Session,
  ledger: Ledger,
  shared: RunOptions['sharedBudgets'],
): Promise<GraphClient> {
  const { config } = start
  const client = await session.graph(shared)
  start.audit.event('start', {
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
function paceOf(
  start: RunStart,
  policy: Policy,
  previous: EvidenceState | undefined,
): RunOptions['sharedBudgets'] {
  const shared = start.options.sharedBudgets
  if (shared === undefined) return undefined
  const { config } = start
  const reason = fullReason(previous, {
    tenantId: config.tenantId,
    digest: policyDigest(policy),
    now: start.now,
    settings: config.collection,
  })
  if (reason === undefined) return shared
  start.audit.note(`tourniquet: a full collection (${reason}) reads at the job's pace, not the watch's share`)
  return undefined
}

/** How the run reads Graph: its client, and whether that client takes from a budget shared with other runs. */
interface Reading {
  session: Session
  client: GraphClient
  shared: boolean
  progress: Progress | undefined
}

/**
 * The client for a full collection the run turned to midway: under `tourniquet watch`'s shared
 * budget a client of its own at the job's pace (like a full collection known from the start, see
 * paceOf; the session closes it), else the run's client.
 */
async function fullCollectionClient(start: RunStart, reading: Reading): Promise<GraphClient> {
  if (!reading.shared) return reading.client
  start.audit.note("tourniquet: a full collection reads at the job's pace, not the watch's share")
  return reading.session.graph()
}

/** The plan and what the fresh-facts phase decided, with what that phase needs again after approvals. */
interface Decided {
  plan: Plan
  riskyUsers: number
  decision: Decision
  /** The context the fresh-facts phase ran in: approved steps are checked in it again before they are sent. */
  fresh: FreshContext
  collection: Collection
  /** The users whose signals this run read afresh; undefined: all (a full collection). */
  touched: ReadonlySet<string> | undefined
  /** Why the evidence state could not be saved, if it could not. */
  stateWarning: string | undefined
}

/** Identity Protection reads one by one past which a full collection (about 40 at 10,000 users) is cheaper. */
const MAX_FRESH_IDENTITY_PROTECTION_READS = 20

/**
 * Collects (incrementally when the evidence state allows, decision 015), then decides on facts read
 * from Graph in this run (fresh.ts): the state only saves requests. The signals end here: only the
 * plan (which keeps what the report needs) stays alive through execution.
 */
async function collectAndPlan(
  start: RunStart,
  reading: Reading,
  policy: Policy,
  {
    entries,
    evidence,
  }: { entries: readonly LedgerEntry[]; evidence: { store: EvidenceStore; loaded: Loaded } },
): Promise<Decided> {
  const { collected, decision, fresh, context } = await collectAndDecide(start, reading, policy, {
    entries,
    evidence,
  })
  const { notes, collection } = collected
  const saved = await saveEvidence(start, reading.session, evidence, collected, fresh)
  const plan = decision.plan
  reading.progress?.evaluated(plan.users.length)
  if (start.config.mode === 'plan') reading.progress?.stop()
  const { audit } = start
  for (const w of notes.warnings) audit.event('warning', { message: w })
  audit.event('plan', {
    collection: collection.kind,
    ...(collection.reason ? { collectionReason: collection.reason } : {}),
    changedUsers: collected.touched.size,
    evidence: saved.outcome,
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
  return {
    plan,
    riskyUsers: notes.riskyUsers,
    decision,
    fresh: context,
    collection,
    touched: collection.kind === 'incremental' ? collected.touched : undefined,
    stateWarning: saved.warning,
  }
}

/**
 * The collection, then the decision on fresh facts; once more as a full collection when the fresh
 * facts would cost more one by one. A full collection cut short (the deadline, a stop) saves what
 * it read and where to resume, and ends the run with its cause.
 */
async function collectAndDecide(
  start: RunStart,
  reading: Reading,
  policy: Policy,
  {
    entries,
    evidence,
  }: { entries: readonly LedgerEntry[]; evidence: { store: EvidenceStore; loaded: Loaded } },
): Promise<{ collected: Collected; decision: Decision; fresh: Freshness; context: FreshContext }> {
  const previous = evidence.loaded.state
  let fresh = emptyFreshness()
  let collected = await collect(start, reading.client, policy, { previous, fresh })
  await endIfCutShort(start, reading.session, evidence, collected)
  let context = freshContext(start, reading.client, collected, fresh, entries)
  let decision = await decideOnFreshFacts(context)
  if (decision instanceof NeedsFullCollection) {
    // A new freshness: the full collection starts from an empty state, so nothing read so far is in it.
    fresh = emptyFreshness()
    const full = `fresh facts: ${decision.reason}; a full collection reads them for fewer requests`
    const reader = await fullCollectionClient(start, reading)
    collected = await collect(start, reader, policy, { previous, fresh, full })
    await endIfCutShort(start, reading.session, evidence, collected)
    context = freshContext(start, reader, collected, fresh, entries)
    decision = await decideOnFreshFacts({ ...context, maxIdentityProtectionReads: Number.POSITIVE_INFINITY })
  }
  if (decision instanceof NeedsFullCollection) throw new Error('unreachable: no limit on fresh reads')
  return { collected, decision, fresh, context }
}

/**
 * A full collection cut short: in an apply run that still holds the lease, what it read and where
 * it stopped are saved, so the next run resumes instead of starting over (a tenant larger than one
 * run's deadline converges); then the run ends with the cause (the deadline, or a stop).
 */
async function endIfCutShort(
  start: RunStart,
  session: Session,
  evidence: { store: EvidenceStore; loaded: Loaded },
  collected: Collected,
): Promise<void> {
  if (collected.cutShort === undefined) return
  if (start.config.mode === 'apply' && !session.leaseLost()) {
    const saved = await evidence.store.save(collected.state, evidence.loaded).catch(() => false)
    const message = saved
      ? `the full collection was cut short after ${collected.state.users.size} risky users; what it read is saved, and the next run resumes it`
      : 'the full collection was cut short, and its progress could not be saved; the next run starts it again'
    start.audit.event('warning', { message })
    start.audit.note(`tourniquet: ${message}`)
  }
  throw collected.cutShort
}

function collect(
  start: RunStart,
  client: GraphClient,
  policy: Policy,
  from: { previous: EvidenceState | undefined; fresh: Freshness; full?: string },
): Promise<Collected> {
  const { config } = start
  return collectSignals(client, policy, start.now, {
    // SIGTERM stops a collection between pages: the platform's grace period is for in-flight steps.
    signal: start.options.stopSignal,
    tenantId: config.tenantId,
    settings: config.collection,
    ...(start.options.riskyUsers === undefined ? {} : { riskyUsers: start.options.riskyUsers }),
    ...from,
  })
}

function freshContext(
  start: RunStart,
  client: GraphClient,
  collected: Collected,
  fresh: Freshness,
  entries: readonly LedgerEntry[],
): FreshContext {
  return {
    client,
    policy: collected.policy,
    now: start.now,
    state: collected.state,
    fresh,
    entries,
    extras: collected.extras,
    unresolved: collected.notes.unresolvedExclusions,
    // Steps that wait for a person are checked when they are approved (freshenApproved).
    acting: (step) => step.approval === undefined,
    maxIdentityProtectionReads: MAX_FRESH_IDENTITY_PROTECTION_READS,
    warnings: collected.notes.warnings,
    signal: start.options.stopSignal,
  }
}

/**
 * Approved steps are sent only on facts read now: the plan is made again with them acting, and an
 * approved step that the fresh facts no longer make (or whose facts could not be read) is not sent.
 */
async function freshenApproved(
  start: RunStart,
  context: FreshContext,
  todo: Step[],
): Promise<{ todo: Step[]; records: StepRecord[] }> {
  const approved = todo.filter((s) => s.approval !== undefined)
  if (approved.length === 0) return { todo, records: [] }
  const keys = stepKeys(approved)
  const decision = await decideOnFreshFacts({ ...context, acting: (s) => keys.has(ledgerKey(s)) })
  const { audit } = start
  if (decision instanceof NeedsFullCollection) {
    const unverifiable = approved.map((step) => ({ step, reason: decision.reason }))
    return {
      todo: todo.filter((s) => s.approval === undefined),
      records: recordUnverifiable(start, unverifiable),
    }
  }
  const records = recordUnverifiable(start, decision.unverifiable)
  const still = stepKeys(decision.view.todo)
  for (const { step } of decision.view.interrupted) still.add(ledgerKey(step))
  const kept = todo.filter((s) => {
    if (s.approval === undefined || still.has(ledgerKey(s))) return true
    if (decision.unverifiable.some((u) => ledgerKey(u.step) === ledgerKey(s))) return false
    const reason = 'approved, but the facts read from Graph now no longer make this step'
    records.push(audit.step(stepRecord(audit.runId, s, 'skipped', { reason })))
    return false
  })
  return { todo: kept, records }
}

/** Steps whose facts could not be read from Graph this run: not sent, told as failed (asked again next run). */
function recordUnverifiable(start: RunStart, unverifiable: Decision['unverifiable']): StepRecord[] {
  const { audit } = start
  return unverifiable.map(({ step, reason }) =>
    audit.step(
      stepRecord(audit.runId, step, 'failed', {
        reason: `not sent: the facts it rests on could not be read from Graph this run (${reason})`,
      }),
    ),
  )
}

/** The evidence state beside the ledger; one that cannot be used is a warning and a full collection. */
async function loadEvidence(
  start: RunStart,
  session: Session,
): Promise<{ store: EvidenceStore; loaded: Loaded }> {
  const store = await session.evidence()
  const loaded = await store.load()
  if (loaded.unusable !== undefined) {
    const message = `the evidence state cannot be used (${loaded.unusable}); collecting in full and writing a new one`
    start.audit.event('warning', { message })
    start.audit.note(`tourniquet: warning: ${message}`)
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
  start: RunStart,
  session: Session,
  evidence: { store: EvidenceStore; loaded: Loaded },
  collected: Collected,
  fresh: Freshness,
): Promise<{ outcome: string; warning?: string }> {
  const { audit, now } = start
  if (start.config.mode !== 'apply') return { outcome: 'not saved (plan)' }
  if (fresh.graphTime !== undefined && Math.abs(fresh.graphTime - now.getTime()) > MAX_SKEW_MS) {
    const warning = `this host's clock (${now.toISOString()}) is ${Math.round((now.getTime() - fresh.graphTime) / 1000)} s from Graph's (${new Date(fresh.graphTime).toISOString()}); the evidence state is not saved`
    audit.event('warning', { message: warning })
    return { outcome: 'not saved (clock)', warning }
  }
  if (!collected.changed && !fresh.modified && !evidence.loaded.outdated) return { outcome: 'unchanged' }
  if (session.stopping()) return { outcome: 'kept' }
  try {
    return { outcome: (await evidence.store.save(collected.state, evidence.loaded)) ? 'saved' : 'kept' }
  } catch (e) {
    const warning = `the evidence state could not be saved (${(e as Error).message})`
    audit.event('warning', { message: warning })
    audit.note(`tourniquet: warning: ${warning}`)
    return { outcome: 'failed', warning }
  }
}

/** A guardrail refused the plan: every step is recorded as skipped and nothing is done. */
function refuse(
  start: RunStart,
  plan: Plan,
  refused: Refusal,
  riskyUsers: number,
  workloads: readonly StepRecord[] = [],
): Ended {
  const { audit } = start
  const users = plan.users.flatMap((u) =>
    u.steps.map((s) =>
      audit.step(stepRecord(audit.runId, s, 'skipped', { reason: `refused: ${refused.reason}` })),
    ),
  )
  const records = [...users, ...workloads]
  audit.event('refused', { limit: refused.limit, reason: refused.reason })
  audit.table(
    `Run ${audit.runId}: REFUSED by ${refused.limit} — ${refused.reason}. Nothing was done.`,
    records,
  )
  return { exitCode: EXIT.refused, outcome: `refused by ${refused.limit}: nothing done`, riskyUsers, records }
}

/**
 * What needs no action: the plan's skips, and steps the ledger says were done for this evidence.
 * An incremental run says so only for the users whose signals changed (10,000 stale users must not
 * cost 10,000 lines a minute), except a skip that rests on a fact that can change (disabled, guest,
 * route, no Defender for Identity account): it was re-read this run and is told every run until it
 * resolves.
 */
function recordKnown(
  start: RunStart,
  plan: Plan,
  view: LedgerView,
  touched: ReadonlySet<string> | undefined,
): StepRecord[] {
  const { audit } = start
  const told = (userId: string): boolean => touched === undefined || touched.has(userId)
  const records: StepRecord[] = []
  for (const s of plan.skips)
    if (told(s.userId) || CHANGEABLE_SKIPS.has(s.reason))
      records.push(audit.step(skipRecord(audit.runId, s, `${s.reason}: ${s.detail}`)))
  for (const { step, entry } of view.done) {
    if (!told(step.userId)) continue
    const reason = `already done for this evidence by ${entry.runId} (${entry.outcome ?? 'recorded'})`
    records.push(audit.step(stepRecord(audit.runId, step, 'skipped', { reason })))
  }
  return records
}

/** Plan mode: what apply would do, and nothing done. */
function planOnly(start: RunStart, view: LedgerView, before: readonly StepRecord[]): Ended {
  const { audit } = start
  const records = [...before]
  for (const { step, entry } of view.interrupted) {
    const reason = `interrupted in ${entry.runId}; apply checks whether it took effect`
    records.push(audit.step(stepRecord(audit.runId, step, 'planned', { reason })))
  }
  for (const step of view.todo) records.push(audit.step(stepRecord(audit.runId, step, 'planned')))
  audit.table(
    `Run ${audit.runId}: plan only (dry run). Nothing was changed. Apply with --apply or TOURNIQUET_MODE=apply.`,
    records,
  )
  return { exitCode: EXIT.ok, outcome: 'planned', riskyUsers: 0, records }
}

/** After an apply: the table, the report file, and the exit code. */
async function report(
  start: RunStart,
  session: Session,
  {
    decided,
    applied,
    records,
    policy,
    workloadPlan,
    workloadsStopped,
  }: Acting & { applied: Applied; records: readonly StepRecord[]; workloadsStopped?: boolean },
): Promise<Ended> {
  const { audit, config } = start
  const counts = countsOf(records)
  audit.table(
    `Run ${audit.runId}: applied. ${counts.succeeded} succeeded, ${counts.unverified} unverified, ${counts.failed} failed, ${counts.skipped} skipped.`,
    records,
  )
  if (config.reportPath)
    await writeReport(config.reportPath, audit.runId, decided.plan, records, workloadPlan)
  // A step Graph refused for a permission (core's code, not its wording): say what the app lacks.
  if (records.some((r) => r.status === 'failed' && r.errorCode === ErrorCode.Permission))
    await diagnosePermissions(start, session, policy)
  const stopped = applied.notStarted.length > 0 || workloadsStopped === true
  const outcome = stopped ? 'stopped early' : counts.failed > 0 ? 'some steps failed' : 'applied'
  const exitCode = stopped ? EXIT.stepsFailed : appliedExitCode(records, applied)
  return { exitCode, outcome, riskyUsers: 0, records }
}
