/**
 * The runner's errors: one base class with a stable code per way the run reacts, and a guard that
 * checks a brand (two copies of the package can coexist, so `instanceof` is not enough). What a run
 * does with any error it meets, its own or core's or policy's, is written once, in failures.ts.
 */
import { redactText } from '@tourniquet/core'

/** Stable codes: scripts and the exit-code table switch on these, never on messages. */
export const RUNNER_ERROR_CODES = [
  'TQ_RUNNER_CONFIG',
  'TQ_RUNNER_LEDGER_CORRUPT',
  'TQ_RUNNER_LEDGER_LOCKED',
  'TQ_RUNNER_LEASE_LOST',
  'TQ_RUNNER_NO_OUTCOME',
  'TQ_RUNNER_STATE_UNUSABLE',
] as const
export type RunnerErrorCode = (typeof RUNNER_ERROR_CODES)[number]

const BRAND = Symbol.for('tourniquet.runner.error')

export class RunnerError extends Error {
  readonly [BRAND] = true

  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    // Messages quote values (a path, a setting); a secret in one must not reach a log.
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RunnerError'
  }
}

export const isRunnerError = (e: unknown): e is RunnerError =>
  typeof e === 'object' &&
  e !== null &&
  BRAND in e &&
  (RUNNER_ERROR_CODES as readonly unknown[]).includes((e as { code?: unknown }).code)

export interface SettingProblem {
  variable: string
  message: string
}

/** A setting that is missing, malformed or unusable (a certificate file that cannot be read): exit 2. */
export class SettingsError extends RunnerError {
  constructor(readonly problems: SettingProblem[]) {
    super('TQ_RUNNER_CONFIG', problems.map((p) => `${p.variable}: ${p.message}`).join('\n'))
    this.name = 'SettingsError'
  }
}

export const isSettingsError = (e: unknown): e is SettingsError =>
  isRunnerError(e) && e.code === 'TQ_RUNNER_CONFIG' && Array.isArray((e as { problems?: unknown }).problems)

/**
 * A ledger line in the middle of the file that is not JSON, or not a ledger entry (`problem` names
 * the field): the run refuses to guess what was done.
 */
export class LedgerCorruptError extends RunnerError {
  constructor(location: string, line: number, problem?: string) {
    super(
      'TQ_RUNNER_LEDGER_CORRUPT',
      problem === undefined
        ? `${location}: line ${line} of the ledger is not JSON; refusing to guess what was done`
        : `${location}: line ${line} of the ledger is not a ledger entry (${problem}); refusing to guess what was done`,
    )
    this.name = 'LedgerCorruptError'
  }
}

/**
 * The ledger's lock belongs to a run on another host that has not outlived the maximum runtime: it
 * cannot be checked from here, and skipping quietly could stop remediation for good (exit 1).
 */
export class LedgerLockedError extends RunnerError {
  constructor(lockPath: string, holder: string, until: Date) {
    super(
      'TQ_RUNNER_LEDGER_LOCKED',
      `${lockPath} is held by ${holder}, which this host cannot check; nothing done. If no run is active there, the lock is taken over after ${until.toISOString()} (TOURNIQUET_MAX_RUNTIME), or delete it.`,
    )
    this.name = 'LedgerLockedError'
  }
}

/**
 * The run lost its hold on the ledger (a lease renewal or a conditional write failed): another run
 * may be acting, so this one starts nothing more (exit 1).
 */
export class LeaseLostError extends RunnerError {
  constructor(location: string, detail: string) {
    super('TQ_RUNNER_LEASE_LOST', `lost the lease on ${location} (${detail}); nothing more is started`)
    this.name = 'LeaseLostError'
  }
}

/** Graph answered a group call without a result for one of its items: that step failed. */
export class NoOutcomeError extends RunnerError {
  constructor(what: 'user' | 'request') {
    super('TQ_RUNNER_NO_OUTCOME', `no outcome was reported for this ${what}`)
    this.name = 'NoOutcomeError'
  }
}

/** A line of an approval trail that is not a request or decision: no approval is guessed. */
export class ApprovalTrailCorruptError extends RunnerError {
  constructor(location: string, line: number, problem: string) {
    super(
      'TQ_RUNNER_LEDGER_CORRUPT',
      `${location}: line ${line} ${problem}; refusing to guess what was approved`,
    )
    this.name = 'ApprovalTrailCorruptError'
  }
}

/**
 * The evidence state cannot be used (not JSON, a field out of shape): a cache of Graph, so the run
 * warns and collects in full (decision 015) rather than failing.
 */
export class EvidenceStateError extends RunnerError {
  constructor(location: string, problem: string) {
    super('TQ_RUNNER_STATE_UNUSABLE', `${location}: ${problem}`)
    this.name = 'EvidenceStateError'
  }
}
