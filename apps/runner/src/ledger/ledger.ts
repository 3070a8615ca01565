/**
 * The ledger remembers what was done to whom for which evidence, across runs and across a crash:
 * an intent is written before a destructive call leaves, the outcome after. It also holds the lock
 * that keeps two overlapping runs from acting at once.
 */
import { type Route, routeName, type Step } from '@tourniquet/policy'
import { LedgerCorruptError } from '../errors.js'
import type { LedgerOutcome, LedgerPhase } from '../status.js'

export type { LedgerOutcome, LedgerPhase } from '../status.js'

export interface LedgerEntry {
  runId: string
  at: string
  phase: LedgerPhase
  userId: string
  userPrincipalName: string
  action: string
  evidenceKey: string
  route: string
  outcome?: LedgerOutcome
  graphRequestId?: string | null
  correlationId?: string | null
  /** The full route, so `undo` can reverse a step through the same system. */
  routeDetail?: Route
}

export interface Ledger {
  /** Where the ledger lives, for the summary (never contains a credential). */
  readonly location: string
  /** Takes the run lock; false when another run holds it. */
  acquire(): Promise<boolean>
  release(): Promise<void>
  load(): Promise<LedgerEntry[]>
  append(entries: LedgerEntry[]): Promise<void>
}

export const ledgerKey = (e: { userId: string; action: string; evidenceKey: string }): string =>
  `${e.userId}|${e.action}|${e.evidenceKey}`

/** The ledger's line for a step of this run. */
export function ledgerEntry(
  runId: string,
  step: Step,
  phase: LedgerPhase,
  outcome?: LedgerOutcome,
  extra: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    runId,
    at: new Date().toISOString(),
    phase,
    userId: step.userId,
    userPrincipalName: step.userPrincipalName,
    action: step.action,
    evidenceKey: step.evidenceKey,
    route: routeName(step.route),
    routeDetail: step.route,
    ...(outcome ? { outcome } : {}),
    ...extra,
  }
}

/** The last word on each (user, action, evidence): what a new run must respect. */
export function latestByKey(entries: readonly LedgerEntry[]): Map<string, LedgerEntry> {
  const out = new Map<string, LedgerEntry>()
  for (const e of entries) out.set(ledgerKey(e), e)
  return out
}

export function parseLedgerLines(text: string, location: string): LedgerEntry[] {
  const out: LedgerEntry[] = []
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    try {
      out.push(JSON.parse(line) as LedgerEntry)
    } catch {
      // A torn last line (a crash mid-write) is expected and harmless; anything else is corruption.
      if (i < lines.length - 2) throw new LedgerCorruptError(location, i + 1)
    }
  })
  return out
}
