/**
 * `tourniquet watch`: one long-running process that runs the job every interval (default 15 s)
 * instead of waiting for the next scheduled execution (a Container Apps job takes ~30 s just to
 * start). Each iteration is a whole run (its own lease, ledger, audit lines and summary), so nothing
 * is acted on twice across iterations or alongside a scheduled job. It keeps its Identity Protection
 * use under a share of the tenant's 1 request/s (default 20%): other tools share that budget. A
 * failed iteration is logged and the next one comes; only a configuration or policy error on the
 * first iteration ends it (exit 2). SIGTERM lets the current iteration finish, then exits 0.
 */

import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatDuration } from '@tourniquet/policy'
import type { RunnerConfig } from './env.js'
import { EXIT } from './exit.js'
import { runJob } from './run.js'

export interface WatchOptions {
  config: RunnerConfig
  out: Writable
  err: Writable
  stopSignal: AbortSignal
}

/**
 * The iteration's budget: the watch's share of the job's Identity Protection rate
 * (TOURNIQUET_IDENTITY_PROTECTION_RPS, by default 0.95 of the tenant's 1 request/s, so the default
 * share 0.2 is 19% of the tenant's budget). A share of the configured rate, not of a fixed 1/s, so
 * a tenant that is faster (the benchmark's mock) or shared (a lower rate) scales it alike.
 */
export function watchBudget(config: RunnerConfig): RunnerConfig {
  return { ...config, identityProtectionRps: config.identityProtectionRps * config.watch.share }
}

export async function runWatch({ config, out, err, stopSignal }: WatchOptions): Promise<number> {
  const budget = watchBudget(config)
  err.write(
    `tourniquet watch: a ${config.mode} run every ${formatDuration(config.watch.intervalMs)}, Identity Protection at most ${budget.identityProtectionRps.toFixed(2)} request/s; SIGTERM stops after the current run\n`,
  )
  for (let iteration = 1; !stopSignal.aborted; iteration++) {
    const started = Date.now()
    try {
      const result = await runJob({ config: budget, out, err, stopSignal })
      if (iteration === 1 && result.exitCode === EXIT.configuration && result.plan === undefined)
        return EXIT.configuration
    } catch (e) {
      // runJob ends its own errors; this is the last guard of a process that must keep watching.
      err.write(`tourniquet watch: run ${iteration} failed (${(e as Error).message}); the next one follows\n`)
    }
    const rest = Math.max(0, config.watch.intervalMs - (Date.now() - started))
    await sleep(rest, undefined, { signal: stopSignal }).catch(() => undefined)
  }
  err.write('tourniquet watch: stopped\n')
  return EXIT.ok
}
