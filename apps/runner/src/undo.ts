/**
 * `tourniquet undo --run <runId>`: re-enables the accounts a run disabled, through the same system
 * that disabled them (Entra for cloud users, Defender for Identity in AD for synced ones), after a
 * human decided so. Plan first; --apply acts. Accounts already enabled are left alone.
 */
import type { Writable } from 'node:stream'
import type { GraphClient } from '@tourniquet/core'
import type { Route, Step } from '@tourniquet/policy'
import { Audit, stepRecord } from './audit.js'
import type { RunnerConfig } from './env.js'
import { executeSteps, settledEntries } from './execute.js'
import { openLedger } from './ledger/open.js'
import { clientFromConfig, credentialFor, EXIT, newRunId } from './run.js'
import { Verifier } from './verify.js'

export interface UndoOptions {
  config: RunnerConfig
  runId: string
  out: Writable
  err: Writable
  client?: GraphClient
  stopSignal?: AbortSignal
}

function enableRoute(disabled: Route): Route | undefined {
  if (disabled.kind === 'entra' && disabled.call === 'disable') return { kind: 'entra', call: 'enable' }
  if (disabled.kind === 'defenderForIdentity' && disabled.action === 'disable')
    return { ...disabled, action: 'enable' }
  return undefined
}

export async function runUndo(options: UndoOptions): Promise<number> {
  const { config } = options
  const undoRunId = newRunId(new Date())
  const audit = new Audit(options.out, options.err, undoRunId)
  const ledger = await openLedger(config, () => credentialFor(config))
  const entries = await ledger.load()
  const disabled = new Map<string, Step>()
  for (const e of entries) {
    if (e.runId !== options.runId || e.phase !== 'done' || e.action !== 'disable' || !e.routeDetail) continue
    if (e.outcome !== 'succeeded' && e.outcome !== 'unverified') continue
    const route = enableRoute(e.routeDetail)
    if (route)
      disabled.set(e.userId, {
        userId: e.userId,
        userPrincipalName: e.userPrincipalName,
        rule: `undo:${options.runId}`,
        action: 'enable',
        route,
        evidenceKey: `undo:${options.runId}`,
      })
  }
  const finish = (exitCode: number, outcome: string): number => {
    audit.summary({ mode: config.mode, outcome, riskyUsers: 0, unmatched: 0, exitCode, durationMs: 0 })
    return exitCode
  }
  if (disabled.size === 0) {
    audit.note(
      `tourniquet: run ${options.runId} disabled no account (according to ${ledger.location}); nothing to undo`,
    )
    return finish(EXIT.ok, 'nothing to undo')
  }
  let locked = false
  const client = options.client ?? clientFromConfig(config, await credentialFor(config))
  try {
    const steps = [...disabled.values()]
    if (config.mode === 'plan') {
      for (const s of steps)
        audit.step(stepRecord(undoRunId, s, 'planned', { reason: `re-enable: disabled by ${options.runId}` }))
      audit.table(`Undo of ${options.runId}: plan only. Re-enable with --apply.`)
      return finish(EXIT.ok, 'planned')
    }
    locked = await ledger.acquire()
    if (!locked) {
      audit.note(`tourniquet: skipped: another run holds the lease on ${ledger.location}`)
      return finish(EXIT.ok, 'skipped: another run holds the lease')
    }
    const stopping = (): boolean => options.stopSignal?.aborted === true
    const verifier = new Verifier(client, steps, { attempts: 3, delayMs: 2_000 })
    const { notStarted } = await executeSteps(steps, {
      client,
      ledger,
      runId: undoRunId,
      concurrency: config.concurrency,
      stopping,
      onOutcomes: (done) => verifier.add(done),
    })
    const final = await verifier.finish()
    await ledger.append(settledEntries(undoRunId, final))
    for (const f of final)
      audit.step(
        stepRecord(undoRunId, f.outcome.step, f.status, {
          reason: f.reason,
          graphRequestId: f.outcome.graphRequestId,
          correlationId: f.outcome.correlationId,
        }),
      )
    for (const s of notStarted)
      audit.step(
        stepRecord(undoRunId, s, 'skipped', { reason: 'not started: the run was asked to stop (SIGTERM)' }),
      )
    const counts = audit.counts()
    audit.table(
      `Undo of ${options.runId}: ${counts.succeeded} re-enabled, ${counts.unverified} unverified, ${counts.failed} failed.`,
    )
    return finish(counts.failed > 0 || notStarted.length > 0 ? EXIT.stepsFailed : EXIT.ok, 'applied')
  } finally {
    if (locked) await ledger.release()
    if (!options.client) await client.close()
  }
}
