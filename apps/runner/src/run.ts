/**
 * One run of the job: policy -> lock -> collect -> evaluate -> guardrails -> ledger -> execute ->
 * verify -> audit -> exit code. Plan mode (the default) stops after the plan and changes nothing.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import {
  type Credential,
  createGraphClient,
  type GraphClient,
  isAuthError,
  isConfigError,
  isTourniquetError,
  type TransportOptions,
} from '@tourniquet/core'
import {
  evaluate,
  isPolicyError,
  loadPolicyFile,
  type Plan,
  type Policy,
  type Step,
} from '@tourniquet/policy'
import { Audit, type StepRecord, stepRecord } from './audit.js'
import { assertCloudOffers } from './cloud.js'
import { type CollectNotes, collectSignals } from './collect.js'
import type { RunnerConfig } from './env.js'
import { executeSteps, ledgerEntry, settledEntries } from './execute.js'
import { type Ledger, type LedgerEntry, latestByKey, ledgerKey } from './ledger/ledger.js'
import { openLedger } from './ledger/open.js'
import { countRequests } from './metrics.js'
import { writeReport } from './report.js'
import { type Check, Verifier, type VerifyOptions, verifyEffects } from './verify.js'

export const EXIT = { ok: 0, stepsFailed: 1, configuration: 2, refused: 3 } as const

const RECORD_SLICE = 1_000

export interface RunOptions {
  config: RunnerConfig
  out: Writable
  err: Writable
  /** Inject a client (the demo, tests); otherwise one is built from the configuration. */
  client?: GraphClient
  /** Inject a ledger; otherwise opened from config.ledger. */
  ledger?: Ledger
  now?: () => Date
  /** Set when a stop is requested (SIGTERM): in-flight steps finish, nothing new starts. */
  stopSignal?: AbortSignal
  verify?: Partial<VerifyOptions>
  runId?: string
}

export interface RunResult {
  exitCode: number
  runId: string
  plan: Plan | undefined
  records: StepRecord[]
}

export function newRunId(now: Date): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}z-${randomBytes(3).toString('hex')}`
}

export async function credentialFor(config: RunnerConfig): Promise<Credential> {
  const c = config.credential
  if (c.kind === 'secret') return { kind: 'secret', clientSecret: c.secret }
  if (c.kind === 'managedIdentity') return { kind: 'managedIdentity', clientId: c.clientId }
  if (c.kind === 'federated')
    return { kind: 'federatedManagedIdentity', managedIdentityClientId: c.managedIdentityClientId }
  const pem = await readFile(c.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new ConfigFileError(
      'AZURE_CLIENT_CERTIFICATE_PATH',
      `${c.path} cannot be read (${e.code ?? 'error'}); expected a PEM file with the private key and the certificate`,
    )
  })
  return { kind: 'certificate', pem }
}

export class ConfigFileError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
  }
}

/** The Graph client for a configuration; `transport` adds trust in a private CA (the demo's fake tenant). */
export function clientFromConfig(
  config: RunnerConfig,
  credential: Credential,
  transport?: TransportOptions,
): GraphClient {
  return createGraphClient({
    ...(transport ? { transport } : {}),
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential,
    cloud: config.cloud,
    authorityHost: config.authorityHost,
    graphRoot: config.graphRoot,
    deadlineAt: Date.now() + config.maxRuntimeMs,
    throttle: {
      identityProtection: { capacity: 1, refillPerSecond: config.identityProtectionRps },
      directoryWrite: { capacity: 3_000, refillPerSecond: config.directoryWriteRps },
      defenderForIdentity: { capacity: 20, refillPerSecond: config.defenderRps },
    },
  })
}

const skipRecord = (runId: string, s: Plan['skips'][number], reason: string): StepRecord => ({
  event: 'step',
  runId,
  userId: s.userId,
  userPrincipalName: s.userPrincipalName,
  rule: s.rule ?? null,
  action: s.action ?? null,
  route: null,
  status: 'skipped',
  reason,
  graphRequestId: null,
  correlationId: null,
  evidenceKey: null,
  durationMs: 0,
})

/** Splits the plan's steps by what the ledger already knows. */
function consultLedger(
  steps: Step[],
  entries: LedgerEntry[],
): {
  todo: Step[]
  done: Array<{ step: Step; entry: LedgerEntry }>
  crashed: Array<{ step: Step; entry: LedgerEntry }>
} {
  const latest = latestByKey(entries)
  const todo: Step[] = []
  const done: Array<{ step: Step; entry: LedgerEntry }> = []
  const crashed: Array<{ step: Step; entry: LedgerEntry }> = []
  for (const step of steps) {
    const entry = latest.get(ledgerKey(step))
    if (!entry || (entry.phase === 'done' && entry.outcome === 'failed')) todo.push(step)
    else if (entry.phase === 'intent') crashed.push({ step, entry })
    else done.push({ step, entry })
  }
  return { todo, done, crashed }
}

/**
 * Collects and evaluates. The signals end here: only the plan (which keeps what the report needs)
 * stays alive through execution, not every user's detections as read.
 */
async function planFor(
  client: GraphClient,
  policy: Policy,
  now: Date,
): Promise<{ plan: Plan; notes: CollectNotes }> {
  const { signals, notes } = await collectSignals(client, policy, now, undefined)
  return { plan: evaluate(policy, signals, now), notes }
}

export async function runJob(options: RunOptions): Promise<RunResult> {
  const started = Date.now()
  const now = (options.now ?? (() => new Date()))()
  const runId = options.runId ?? newRunId(now)
  const audit = new Audit(options.out, options.err, runId)
  const { config } = options
  const stopping = (): boolean => options.stopSignal?.aborted === true
  const requests = countRequests()
  let plan: Plan | undefined
  let ledger: Ledger | undefined
  let locked = false
  let ownClient: GraphClient | undefined
  const finish = (exitCode: number, outcome: string, extra: Record<string, unknown> = {}): RunResult => {
    audit.summary({
      mode: config.mode,
      outcome,
      riskyUsers: (extra.riskyUsers as number) ?? 0,
      unmatched: plan?.unmatched ?? 0,
      exitCode,
      durationMs: Date.now() - started,
      graphRequests: requests.requests,
      throttled429: requests.throttled,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    })
    requests.stop()
    return { exitCode, runId, plan, records: audit.records }
  }

  try {
    let policy: Policy
    try {
      policy = await loadPolicyFile(config.policyPath)
    } catch (e) {
      if (!isPolicyError(e)) throw e
      audit.event('error', { kind: 'policy', message: e.message, issues: e.issues })
      audit.note(`tourniquet: the policy cannot be used:\n${e.message}`)
      return finish(EXIT.configuration, 'policy error: nothing done')
    }
    assertCloudOffers(policy, config.cloud)

    ledger = options.ledger ?? (await openLedger(config, () => credentialFor(config)))
    if (config.mode === 'apply') {
      locked = await ledger.acquire()
      if (!locked) {
        audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
        return finish(EXIT.ok, 'skipped: another run holds the lease')
      }
    }

    if (!options.client) ownClient = clientFromConfig(config, await credentialFor(config))
    const client = options.client ?? (ownClient as GraphClient)
    audit.event('start', {
      mode: config.mode,
      policy: config.policyPath,
      ledger: ledger.location,
      credential: client.credentialDescription,
      graph: client.endpoints.graphRoot,
    })

    const planned = await planFor(client, policy, now)
    const { notes } = planned
    plan = planned.plan
    for (const w of notes.warnings) audit.event('warning', { message: w })
    audit.event('plan', {
      riskyUsers: notes.riskyUsers,
      detections: notes.detections,
      users: plan.users.length,
      steps: plan.steps.length,
      wanted: plan.wanted,
      unmatched: plan.unmatched,
    })

    if (plan.refused) {
      for (const u of plan.users)
        for (const s of u.steps)
          audit.step(stepRecord(runId, s, 'skipped', { reason: `refused: ${plan.refused.reason}` }))
      audit.event('refused', { limit: plan.refused.limit, reason: plan.refused.reason })
      audit.table(
        `Run ${runId}: REFUSED by ${plan.refused.limit} — ${plan.refused.reason}. Nothing was done.`,
      )
      return finish(EXIT.refused, `refused by ${plan.refused.limit}: nothing done`, {
        riskyUsers: notes.riskyUsers,
      })
    }

    for (const s of plan.skips) audit.step(skipRecord(runId, s, `${s.reason}: ${s.detail}`))
    const { todo, done, crashed } = consultLedger(plan.steps, await ledger.load())
    for (const { step, entry } of done) {
      audit.step(
        stepRecord(runId, step, 'skipped', {
          reason: `already done for this evidence by ${entry.runId} (${entry.outcome ?? 'recorded'})`,
        }),
      )
    }

    if (config.mode === 'plan') {
      for (const { step, entry } of crashed)
        audit.step(
          stepRecord(runId, step, 'planned', {
            reason: `interrupted in ${entry.runId}; apply checks whether it took effect`,
          }),
        )
      for (const step of todo) audit.step(stepRecord(runId, step, 'planned'))
      audit.table(
        `Run ${runId}: plan only (dry run). Nothing was changed. Apply with --apply or TOURNIQUET_MODE=apply.`,
      )
      return finish(EXIT.ok, 'planned', { riskyUsers: notes.riskyUsers })
    }

    const verifyOptions: VerifyOptions = { attempts: stopping() ? 1 : 3, delayMs: 2_000, ...options.verify }
    const activeLedger = ledger
    // A step interrupted by a crash: if its effect is visible it happened; if it is observable and
    // not visible it did not, and runs now; if it cannot be observed it is never sent twice.
    const resumed: Step[] = []
    if (crashed.length > 0) {
      const checks: Check[] = crashed.map(({ step, entry }) => ({ step, since: Date.parse(entry.at) }))
      const verdicts = await verifyEffects(client, checks, { ...verifyOptions, attempts: 1 })
      const closing: LedgerEntry[] = []
      for (const check of checks) {
        const v = verdicts.get(check)
        const entry = crashed.find((c) => c.step === check.step)?.entry as LedgerEntry
        if (v?.visible) {
          audit.step(
            stepRecord(runId, check.step, 'succeeded', {
              reason: `interrupted in ${entry.runId}; the effect is visible (${v.detail})`,
            }),
          )
          closing.push(ledgerEntry(runId, check.step, 'done', 'succeeded'))
        } else if (v && !v.visible && v.observable) {
          resumed.push(check.step)
        } else {
          audit.step(
            stepRecord(runId, check.step, 'unverified', {
              reason: `interrupted in ${entry.runId}; the outcome cannot be read back, so it is not sent again`,
            }),
          )
          closing.push(ledgerEntry(runId, check.step, 'done', 'unknown'))
        }
      }
      await activeLedger.append(closing)
    }

    const steps = [...resumed, ...todo]
    const verifier = new Verifier(client, steps, verifyOptions)
    const { notStarted } = await executeSteps(steps, {
      client,
      ledger: activeLedger,
      runId,
      concurrency: config.concurrency,
      stopping,
      onOutcomes: (done) => verifier.add(done),
    })
    const final = await verifier.finish()
    // Recorded a slice at a time: a large run's settled steps are never all serialized at once.
    for (let i = 0; i < final.length; i += RECORD_SLICE) {
      const slice = final.slice(i, i + RECORD_SLICE)
      await activeLedger.append(settledEntries(runId, slice))
      for (const { outcome, status, reason } of slice) {
        audit.step(
          stepRecord(runId, outcome.step, status, {
            reason,
            graphRequestId: outcome.graphRequestId,
            correlationId: outcome.correlationId,
            durationMs: outcome.durationMs,
          }),
        )
      }
    }
    for (const step of notStarted)
      audit.step(
        stepRecord(runId, step, 'skipped', { reason: 'not started: the run was asked to stop (SIGTERM)' }),
      )

    const counts = audit.counts()
    const exitCode = counts.failed > 0 || notStarted.length > 0 ? EXIT.stepsFailed : EXIT.ok
    audit.table(
      `Run ${runId}: applied. ${counts.succeeded} succeeded, ${counts.unverified} unverified, ${counts.failed} failed, ${counts.skipped} skipped.`,
    )
    if (config.reportPath) await writeReport(config.reportPath, runId, plan, audit.records)
    return finish(
      exitCode,
      notStarted.length > 0 ? 'stopped early' : counts.failed > 0 ? 'some steps failed' : 'applied',
      { riskyUsers: notes.riskyUsers },
    )
  } catch (e) {
    if (e instanceof ConfigFileError || isConfigError(e)) {
      audit.event('error', { kind: 'configuration', message: e.message })
      audit.note(`tourniquet: configuration error: ${e.message}`)
      return finish(EXIT.configuration, 'configuration error: nothing done')
    }
    if (isAuthError(e)) {
      audit.event('error', { kind: 'authentication', message: e.message, aadsts: e.aadsts })
      audit.note(`tourniquet: authentication failed: ${e.message}`)
      return finish(EXIT.configuration, 'authentication error: nothing done')
    }
    const message = isTourniquetError(e) ? `${e.code}: ${e.message}` : (e as Error).message
    audit.event('error', { kind: 'run', message })
    audit.note(`tourniquet: the run failed: ${message}`)
    return finish(EXIT.stepsFailed, 'failed')
  } finally {
    if (locked) await ledger?.release()
    await ownClient?.close()
  }
}
