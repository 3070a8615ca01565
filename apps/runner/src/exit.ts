/**
 * The job's exit codes. This module imports nothing: the entry point reads it before it has checked
 * that the Node version can load the rest.
 */
export const EXIT = {
  /** Success, or plan only. */
  ok: 0,
  /** Some steps failed, or a stop left steps unstarted, or the run failed. */
  stepsFailed: 1,
  /** Configuration, policy or authentication error, or an unsupported Node: nothing done. */
  configuration: 2,
  /** A guardrail refused the run: nothing done. */
  refused: 3,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
