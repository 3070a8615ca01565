/**
 * How a run that stopped on an error ends: the one table from an error's code (the runner's, core's)
 * to what the audit says (`error` event kind, stderr note, summary outcome) and the exit code.
 */
import { ErrorCode, isTourniquetError } from '@tourniquet/core'
import { isRunnerError, type RunnerErrorCode } from './errors.js'
import { EXIT, type ExitCode } from './exit.js'

export interface Failure {
  /** The `kind` of the audit's `error` event. */
  kind: 'configuration' | 'authentication' | 'run'
  /** The stderr note's lead-in, before the message. */
  note: string
  /** The summary's `outcome`. */
  outcome: string
  exitCode: ExitCode
}

const CONFIGURATION: Failure = {
  kind: 'configuration',
  note: 'configuration error',
  outcome: 'configuration error: nothing done',
  exitCode: EXIT.configuration,
}
const AUTHENTICATION: Failure = {
  kind: 'authentication',
  note: 'authentication failed',
  outcome: 'authentication error: nothing done',
  exitCode: EXIT.configuration,
}
const LEDGER_LOCKED: Failure = {
  kind: 'run',
  note: 'the ledger is locked',
  outcome: 'ledger locked by another host: nothing done',
  exitCode: EXIT.stepsFailed,
}
const LEASE_LOST: Failure = {
  kind: 'run',
  note: 'the run lost its lease',
  outcome: 'lease lost: stopped',
  exitCode: EXIT.stepsFailed,
}
const RUN: Failure = { kind: 'run', note: 'the run failed', outcome: 'failed', exitCode: EXIT.stepsFailed }
// A failed run like any other (same outcome and exit code), but the line says what to change: a
// collection that outlasts the deadline is a tenant too large for it, or a Graph that never ends.
const DEADLINE: Failure = {
  ...RUN,
  note: 'the run stopped at its deadline; raise TOURNIQUET_MAX_RUNTIME if the tenant needs longer',
}

/** A stop (SIGTERM) that came while the run was still reading: nothing was sent. */
export const STOPPED: Failure = {
  kind: 'run',
  note: 'stopped (SIGTERM) before acting',
  outcome: 'stopped early: nothing done',
  exitCode: EXIT.stepsFailed,
}

/** Codes with an ending of their own; any other error fails the run (exit 1). */
const FAILURE_BY_CODE: Readonly<Partial<Record<RunnerErrorCode | ErrorCode, Failure>>> = {
  TQ_RUNNER_CONFIG: CONFIGURATION,
  TQ_RUNNER_LEDGER_LOCKED: LEDGER_LOCKED,
  TQ_RUNNER_LEASE_LOST: LEASE_LOST,
  [ErrorCode.Config]: CONFIGURATION,
  [ErrorCode.Auth]: AUTHENTICATION,
  [ErrorCode.Deadline]: DEADLINE,
}

/** How a run that threw `e` ends. Only our own errors are sorted; anything else is a failed run. */
export function failureOf(e: unknown): Failure {
  const code = isRunnerError(e) || isTourniquetError(e) ? e.code : undefined
  return (code === undefined ? undefined : FAILURE_BY_CODE[code]) ?? RUN
}

/**
 * The message a failure carries: core's errors name their code (`TQ_GRAPH: ...`), as the audit has
 * always shown them, except where the ending already says what kind of failure it was.
 */
export function failureMessage(e: unknown, failure: Failure): string {
  if (failure.kind !== 'run' || !isTourniquetError(e)) return (e as Error)?.message ?? String(e)
  return `${e.code}: ${e.message}`
}
