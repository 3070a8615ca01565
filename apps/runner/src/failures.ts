/**
 * How a run that stopped on an error ends: the one table from an error's code (the runner's, core's)
 * to what the audit says (`error` event kind, stderr note, summary outcome) and the exit code; and
 * the one table of advice in the runner's own terms (its settings, `pulumi up`), keyed by code and,
 * for a failed sign-in, by AADSTS code. Core's messages name only core's options.
 */
import { ErrorCode, isAuthError, isTourniquetError } from '@tourniquet/core'
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
/** What to change, by error code: said after the error's own message. */
const ADVICE_BY_CODE: Readonly<Partial<Record<RunnerErrorCode | ErrorCode, string>>> = {
  [ErrorCode.Deadline]: 'raise TOURNIQUET_MAX_RUNTIME if the tenant needs longer',
}

/**
 * What to change when the sign-in failed, by AADSTS code (core's AuthError carries it); null where
 * no setting is to blame (core's own advice says what to do); any other code gets the checklist.
 */
const ADVICE_BY_AADSTS: Readonly<Record<string, string | null>> = {
  '7000215': 'AZURE_CLIENT_SECRET must hold the secret value (not its id)',
  '7000222': 'rotate it with `pulumi up` (the infra stack issues a new one and stores it in Key Vault)',
  '700016': 'check AZURE_CLIENT_ID and AZURE_TENANT_ID, and that the app is consented there',
  '90002': 'check AZURE_TENANT_ID, and that TOURNIQUET_CLOUD names the cloud the tenant lives in',
  '7000218':
    'set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or use TOURNIQUET_AUTH=managed-identity',
  '70011': 'check TOURNIQUET_CLOUD',
  '50034': 'check AZURE_TENANT_ID',
  '700027': null,
  '700024': null,
  '7000112': null,
  '53003': null,
}
const SIGN_IN_CHECKLIST =
  'check AZURE_TENANT_ID, AZURE_CLIENT_ID, the credential, and the cloud (TOURNIQUET_CLOUD / AZURE_AUTHORITY_HOST)'

/** The runner's advice for `e`, if it has any: what to change among its settings. */
export function adviceOf(e: unknown): string | undefined {
  if (isAuthError(e)) {
    // Own keys only: `aadsts` comes from the identity platform's text.
    const known = e.aadsts !== undefined && Object.hasOwn(ADVICE_BY_AADSTS, e.aadsts)
    return known ? (ADVICE_BY_AADSTS[e.aadsts as string] ?? undefined) : SIGN_IN_CHECKLIST
  }
  const code = isRunnerError(e) || isTourniquetError(e) ? e.code : undefined
  return code === undefined ? undefined : ADVICE_BY_CODE[code]
}

/** An error's message followed by the runner's advice for its code, when there is any. */
export function withAdvice(e: unknown): string {
  const message = (e as Error)?.message ?? String(e)
  const advice = adviceOf(e)
  return advice === undefined ? message : `${message} (${advice})`
}

// A failed run like any other (same outcome and exit code), but the line says what to change: a
// collection that outlasts the deadline is a tenant too large for it, or a Graph that never ends.
const DEADLINE: Failure = {
  ...RUN,
  note: `the run stopped at its deadline; ${ADVICE_BY_CODE[ErrorCode.Deadline]}`,
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
  if (failure.kind === 'authentication') return withAdvice(e)
  if (failure.kind !== 'run' || !isTourniquetError(e)) return (e as Error)?.message ?? String(e)
  // The deadline's advice is the ending's note already.
  return `${e.code}: ${failure === DEADLINE ? e.message : withAdvice(e)}`
}
