/**
 * `tourniquet watch`: one long-running process that runs the job every interval (default 15 s)
 * instead of waiting for the next scheduled execution (a Container Apps job takes ~30 s just to
 * start). Each iteration is a whole run (its own lease, ledger, audit lines and summary), so nothing
 * is acted on twice across iterations or alongside a scheduled job. It keeps its Identity Protection
 * use under a share of the job's rate on average (default 20%): other tools share that budget. A
 * failed iteration is logged and the next one comes; only a configuration or policy error on the
 * first iteration ends it (exit 2). SIGTERM stops the current iteration's reads at once (nothing is
 * sent on a half-read state), lets its in-flight steps finish, then exits 0.
 */

import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSharedBudget, type SharedBudget } from '@tourniquet/core'
import { formatDuration } from '@tourniquet/policy'
import { SessionCache } from '../engine/session.js'
import type { RunnerConfig } from '../env.js'
import { EXIT } from '../exit.js'
import { onceUntilChanged } from '../outputs/notify/message.js'
import { runJob } from './run.js'

export interface WatchOptions {
  config: RunnerConfig
  out: Writable
  err: Writable
  stopSignal: AbortSignal
}

/**
 * Requests the watch may send at the job's pace before the share holds it back: a busy run needs
 * about 4 (read, confirm, read back) and 2 more per user it acted on without reading this run (the
 * fresh facts); quiet runs refill it between arrivals.
 */
export const WATCH_BURST = 8

/** Every how many runs the watch reads the changed risky users when no detection changed. */
export const RISKY_USERS_EVERY = 4

/**
 * The watch's Identity Protection budget across its runs: on average its share of the job's rate
 * (TOURNIQUET_IDENTITY_PROTECTION_RPS, by default 0.95 of the tenant's 1 request/s, so the default
 * share 0.2 is 19% of the tenant's budget), in bursts of at most WATCH_BURST requests at the job's
 * pace. A strict cap at the share would make every busy run wait ~5 s a request; an average with a
 * small burst costs other apps the same over any minute. A share of the configured rate, not of a
 * fixed 1/s, so a lower rate (a tenant shared with other tools) or a faster fake tenant scale it alike.
 */
export function watchShare(config: RunnerConfig): { perSecond: number; budget: SharedBudget } {
  const perSecond = config.identityProtectionRps * config.watch.share
  return { perSecond, budget: createSharedBudget({ capacity: WATCH_BURST, refillPerSecond: perSecond }) }
}

export async function runWatch({ config, out, err, stopSignal }: WatchOptions): Promise<number> {
  const share = watchShare(config)
  err.write(
    `tourniquet watch: a ${config.mode} run every ${formatDuration(config.watch.intervalMs)}, Identity Protection at most ${share.perSecond.toFixed(2)} request/s on average (bursts of ${WATCH_BURST}); SIGTERM stops after the current run\n`,
  )
  // Every 15 s, a failure that persists would be a message each time: told once, then on a change.
  const tellable = onceUntilChanged()
  // One Storage credential and the parsed evidence state across runs (session.ts), released at the end.
  await using cache = new SessionCache()
  for (let iteration = 1; !stopSignal.aborted; iteration++) {
    const started = Date.now()
    // A quiet run costs two Identity Protection requests, most of the share: the changed risky
    // users are read every fourth run (once a minute at the default interval, as often as the job
    // reads them) and in between only by a run whose changed detections name someone, so a new
    // detection is still seen within one interval.
    const riskyUsers = (iteration - 1) % RISKY_USERS_EVERY === 0 ? 'always' : 'onNewDetections'
    try {
      const result = await runJob({
        config,
        out,
        err,
        stopSignal,
        sharedBudgets: { identityProtection: share.budget },
        riskyUsers,
        cache,
        tellable,
        // A person at a terminal sees the long runs only: a quiet run every 15 s would flicker.
        progress: 'full',
      })
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
