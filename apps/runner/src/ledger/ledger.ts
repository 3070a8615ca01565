/**
 * The ledger remembers what was done to whom for which evidence, across runs and across a crash:
 * an intent is written before a destructive call leaves, the outcome after. It also holds the lock
 * that keeps two overlapping runs from acting at once.
 */
import {
  DEFENDER_ACTIONS,
  ENTRA_CALLS,
  IDENTITY_PROTECTION_CALLS,
  type Route,
  routeName,
  type Step,
} from '@tourniquet/policy'
import { z } from 'zod'
import { LEDGER_OUTCOMES, LEDGER_PHASES, type LedgerOutcome, type LedgerPhase } from '../engine/status.js'
import { LedgerCorruptError } from '../errors.js'

export type { LedgerOutcome, LedgerPhase } from '../engine/status.js'

export interface LedgerEntry {
  runId: string
  at: string
  phase: LedgerPhase
  userId: string
  userPrincipalName: string
  action: string
  evidenceKey: string
  /**
   * The detection ids the step acted on (decision 010). Lines written before it carry none and
   * match by `evidenceKey` only.
   */
  evidence?: string[]
  route: string
  outcome?: LedgerOutcome
  graphRequestId?: string | null
  correlationId?: string | null
  /** The full route, so `undo` can reverse a step through the same system. */
  routeDetail?: Route
  /**
   * Set when the step's subject is not a user: `userId` then holds the service principal's object
   * id and `userPrincipalName` its display name. Lines written before it are users' lines.
   */
  subject?: { kind: 'servicePrincipal'; appId?: string | undefined; objectId?: string | undefined }
  /** removeCredentials: what was removed (key ids and hints, never a secret), which undo cannot restore. */
  credentials?: LedgerCredential[]
}

/** A credential a step removed: enough to name it to a person, nothing to restore it with. */
export interface LedgerCredential {
  kind: 'password' | 'key'
  keyId: string
  hint?: string | undefined
  displayName?: string | undefined
}

export interface Ledger {
  /** Where the ledger lives, for the summary (never contains a credential). */
  readonly location: string
  /** Takes the run lock; false when another run holds it. */
  acquire(): Promise<boolean>
  /** Set by `acquire` when it took over a stale lock: what it found, for a warning line. */
  readonly takenOver?: string | undefined
  /** Aborted when the hold on the ledger is lost (a lease renewal failed): start nothing new. */
  readonly lost?: AbortSignal
  /** What the ledger can still take before it must be compacted, for the summary (blob ledger). */
  headroom?(): LedgerHeadroom | undefined
  release(): Promise<void>
  /**
   * Whether a run holds the lock now, read without taking it (doctor): taking it, even briefly,
   * would make a scheduled run that starts meanwhile skip.
   */
  lockState?(): Promise<LockState>
  load(): Promise<LedgerEntry[]>
  append(entries: LedgerEntry[]): Promise<void>
}

export interface LockState {
  held: boolean
  /** Who holds it and since when, or why it would be taken over, when that can be read. */
  detail: string
}

export interface LedgerHeadroom {
  /** Appends left in the current segment before the next one is started. */
  blocksLeft: number
  /** The current segment's number (0: the ledger's own blob). */
  segment: number
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
    evidence: [...step.evidence],
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

const id = z.string().min(1).max(256)
const ROUTE = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('identityProtection'), call: z.enum(IDENTITY_PROTECTION_CALLS) }),
  z.object({ kind: z.literal('entra'), call: z.enum(ENTRA_CALLS) }),
  z.object({
    kind: z.literal('defenderForIdentity'),
    action: z.enum(DEFENDER_ACTIONS),
    identityAccountId: id,
    accountId: id,
    identityProvider: z.literal('activeDirectory'),
  }),
])

/**
 * One ledger line. The ledger is input like any other (a blob anyone with write access to the
 * container can edit, decision 010): each line is checked before `undo` or a run trusts it.
 */
const LEDGER_ENTRY = z.object({
  runId: id,
  at: z.iso.datetime({ offset: true }),
  phase: z.enum(LEDGER_PHASES),
  userId: id,
  userPrincipalName: z.string().max(1024),
  action: id,
  evidenceKey: id,
  evidence: z.array(id).optional(),
  route: id,
  outcome: z.enum(LEDGER_OUTCOMES).optional(),
  graphRequestId: z.string().max(256).nullable().optional(),
  correlationId: z.string().max(256).nullable().optional(),
  routeDetail: ROUTE.optional(),
  subject: z
    .object({
      kind: z.literal('servicePrincipal'),
      appId: id.optional(),
      objectId: id.optional(),
    })
    .optional(),
  credentials: z
    .array(
      z.object({
        kind: z.enum(['password', 'key']),
        keyId: id,
        hint: z.string().max(64).optional(),
        displayName: z.string().max(1024).optional(),
      }),
    )
    .max(1_000)
    .optional(),
})

/** The first problem zod found in a line, as `field: message`. */
function problemOf(error: z.ZodError): string {
  const issue = error.issues[0]
  const field = issue?.path.join('.') || 'line'
  return `${field}: ${issue?.message ?? 'invalid'}`
}

/**
 * The last line of each (user, action, evidence), in the order those lines were written: what a
 * snapshot keeps, so a reader of the snapshot decides exactly as a reader of the whole ledger.
 */
export function latestInOrder(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const last = new Map<string, number>()
  entries.forEach((e, i) => {
    last.set(ledgerKey(e), i)
  })
  return [...last.values()].sort((a, b) => a - b).map((i) => entries[i] as LedgerEntry)
}

/** Ledger lines as the stores hold them: one JSON object per line. */
export const ledgerText = (entries: readonly LedgerEntry[]): string =>
  entries.map((e) => `${JSON.stringify(e)}\n`).join('')

export function parseLedgerLines(text: string, location: string): LedgerEntry[] {
  const out: LedgerEntry[] = []
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      // A torn last line (a crash mid-write) is expected and harmless; anything else is corruption.
      if (i < lines.length - 2) throw new LedgerCorruptError(location, i + 1)
      return
    }
    const parsed = LEDGER_ENTRY.safeParse(value)
    if (!parsed.success) throw new LedgerCorruptError(location, i + 1, problemOf(parsed.error))
    out.push(parsed.data as LedgerEntry)
  })
  return out
}

/** Runs appends one after another: concurrent groups must never interleave their lines. */
export class SerialWrites {
  private tail: Promise<void> = Promise.resolve()

  run(write: () => Promise<void>): Promise<void> {
    const turn = this.tail.then(write)
    this.tail = turn.catch(() => undefined)
    return turn
  }

  /** Settles when every write queued so far has ended. */
  idle(): Promise<void> {
    return this.tail
  }
}
