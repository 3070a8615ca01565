/**
 * `tourniquet undo --run <runId>`: re-enables the accounts a run disabled, through the same system
 * that disabled them (Entra for cloud users, Defender for Identity in AD for synced ones), after a
 * human decided so. Plan first; --apply acts, through the same apply path as a run. Accounts already
 * enabled are left alone.
 */
import type { Writable } from 'node:stream'
import type { GraphClient } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import { appliedExitCode, applySteps, verifyOptions } from './apply.js'
import { Audit, stepRecord } from './audit.js'
import { clientFromConfig, credentialFor } from './client.js'
import type { RunnerConfig } from './env.js'
import { EXIT } from './exit.js'
import type { Ledger, LedgerEntry } from './ledger/ledger.js'
import { openLedger } from './ledger/open.js'
import { newRunId } from './runId.js'
import type { VerifyOptions } from './verify.js'

export interface UndoOptions {
  config: RunnerConfig
  runId: string
  out: Writable
  err: Writable
  /** Inject a client (tests); otherwise one is built from the configuration. */
  client?: GraphClient
  /** Inject a ledger; otherwise opened from config.ledger. */
  ledger?: Ledger
  stopSignal?: AbortSignal
  verify?: Partial<VerifyOptions>
}

function enableRoute(disabled: Route): Route | undefined {
  if (disabled.kind === 'entra' && disabled.call === 'disable') return { kind: 'entra', call: 'enable' }
  if (disabled.kind === 'defenderForIdentity' && disabled.action === 'disable')
    return { ...disabled, action: 'enable' }
  return undefined
}

/** One enable step per account the run disabled (succeeded or unverified), by user. */
export function undoSteps(entries: readonly LedgerEntry[], runId: string): Step[] {
  const steps = new Map<string, Step>()
  for (const e of entries) {
    if (e.runId !== runId || e.phase !== 'done' || e.action !== 'disable' || !e.routeDetail) continue
    if (e.outcome !== 'succeeded' && e.outcome !== 'unverified') continue
    const route = enableRoute(e.routeDetail)
    if (route)
      steps.set(e.userId, {
        userId: e.userId,
        userPrincipalName: e.userPrincipalName,
        rule: `undo:${runId}`,
        action: 'enable',
        route,
        evidenceKey: `undo:${runId}`,
        evidence: [],
      })
  }
  return [...steps.values()]
}

export async function runUndo(options: UndoOptions): Promise<number> {
  const { config } = options
  const audit = new Audit(options.out, options.err, newRunId(new Date()))
  const ledger = options.ledger ?? (await openLedger(config, () => credentialFor(config)))
  const steps = undoSteps(await ledger.load(), options.runId)
  const end = (exitCode: number, outcome: string): number => {
    audit.summary({ mode: config.mode, outcome, riskyUsers: 0, unmatched: 0, exitCode, durationMs: 0 })
    return exitCode
  }
  if (steps.length === 0) {
    audit.note(
      `tourniquet: run ${options.runId} disabled no account (according to ${ledger.location}); nothing to undo`,
    )
    return end(EXIT.ok, 'nothing to undo')
  }
  let locked = false
  const client = options.client ?? clientFromConfig(config, await credentialFor(config))
  try {
    if (config.mode === 'plan') {
      for (const s of steps)
        audit.step(
          stepRecord(audit.runId, s, 'planned', { reason: `re-enable: disabled by ${options.runId}` }),
        )
      audit.table(`Undo of ${options.runId}: plan only. Re-enable with --apply.`)
      return end(EXIT.ok, 'planned')
    }
    locked = await ledger.acquire()
    if (!locked) {
      audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
      return end(EXIT.ok, 'skipped: another run holds the lease')
    }
    const stopping = (): boolean => options.stopSignal?.aborted === true
    const verify = verifyOptions(stopping(), options.verify)
    const applied = await applySteps(steps, {
      client,
      ledger,
      audit,
      concurrency: config.concurrency,
      stopping,
      verify,
    })
    const counts = audit.counts()
    audit.table(
      `Undo of ${options.runId}: ${counts.succeeded} re-enabled, ${counts.unverified} unverified, ${counts.failed} failed.`,
    )
    return end(appliedExitCode(audit, applied), 'applied')
  } finally {
    if (locked) await ledger.release()
    if (!options.client) await client.close()
  }
}
