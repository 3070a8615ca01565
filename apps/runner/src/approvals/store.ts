/**
 * Where the approval trail lives: two JSON-lines files beside a file ledger, or two append blobs
 * beside a blob ledger (Storage credential as the ledger's). Appends only; nothing is rewritten.
 * Files are written as the ledger is (mode 0600, never through a symbolic link), and every read
 * stops at a size cap: a trail any approver can append to must not be able to exhaust the job.
 */
import type { z } from 'zod'
import type { RunnerConfig } from '../env.js'
import { SettingsError } from '../errors.js'
import type { BlobClients } from '../stores/blobClients.js'
import { beside, isRemote } from '../stores/location.js'
import { openTextStore } from '../stores/open.js'
import type { TextStore } from '../stores/textStore.js'
import { type Cut, parseTrail, type TrailRead } from './records.js'

/** The most of one trail a read takes: tens of thousands of decisions, far below a job's memory. */
export const TRAIL_MAX_BYTES = 8 * 1024 * 1024

export interface Trail<T> {
  readonly location: string
  load(): Promise<TrailRead<T>>
  append(records: T[]): Promise<void>
}

const lines = (records: unknown[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('')

/** A trail of JSON lines over a store: read up to a cap, appended to, never rewritten. */
export function trailOver<T>(store: TextStore, schema: z.ZodType<T>, maxBytes = TRAIL_MAX_BYTES): Trail<T> {
  return {
    location: store.location,
    async load(): Promise<TrailRead<T>> {
      const stored = await store.read({ maxBytes })
      if (stored === undefined || stored === 'unchanged') return { records: [], warnings: [], capped: false }
      const readBytes = Buffer.byteLength(stored.text)
      const cut: Cut | undefined =
        stored.totalBytes > readBytes ? { readBytes, totalBytes: stored.totalBytes } : undefined
      return parseTrail(stored.text, schema, store.location, cut)
    },
    async append(records: T[]): Promise<void> {
      if (records.length > 0) await store.append(lines(records))
    },
  }
}

/** A trail's location beside the ledger (a URL's query dropped, see stores/location.ts). */
export const besideLedger = beside

/** Where the decisions are read: TOURNIQUET_DECISIONS, or beside a file ledger. */
export function decisionsLocation(config: Pick<RunnerConfig, 'ledger' | 'decisions'>): string {
  if (config.decisions !== undefined) return config.decisions
  // Beside a blob ledger they would sit in the container the job may write, and the job could
  // approve its own requests (decision 012): in Azure the decisions need a container of their own.
  if (isRemote(config.ledger))
    throw new SettingsError([
      {
        variable: 'TOURNIQUET_DECISIONS',
        message:
          'is not set, and the ledger is a blob: decisions beside it would be writable by the job itself; set it to a blob in the decisions container (pulumi up sets it)',
      },
    ])
  return besideLedger(config.ledger, '.decisions.jsonl')
}

export interface TrailOptions {
  /** The read cap per trail (TRAIL_MAX_BYTES unless a test says otherwise). */
  maxBytes?: number
}

/**
 * The two trails for a configuration: requests beside the ledger, decisions where
 * TOURNIQUET_DECISIONS says. `blobs` is asked for only when a trail is a blob: the session's Storage
 * clients in a run, the approver's own sign-in in the trail commands.
 */
export async function openTrails<R, D>(
  where: Pick<RunnerConfig, 'ledger' | 'decisions'>,
  blobs: () => Promise<BlobClients>,
  schemas: { request: z.ZodType<R>; decision: z.ZodType<D> },
  options: TrailOptions = {},
): Promise<{ requests: Trail<R>; decisions: Trail<D> }> {
  const maxBytes = options.maxBytes ?? TRAIL_MAX_BYTES
  const requests = await openTextStore(besideLedger(where.ledger, '.approvals.jsonl'), blobs)
  const decisions = await openTextStore(decisionsLocation(where), blobs)
  return {
    requests: trailOver(requests, schemas.request, maxBytes),
    decisions: trailOver(decisions, schemas.decision, maxBytes),
  }
}
