/**
 * The ledger in Azure Storage, in segments (decision 010). An append blob takes at most 50,000
 * blocks and every append is one, so a single blob would refuse every write after some weeks at a
 * one-minute schedule. Segment 0 is the ledger's own blob; segment n > 0 is `<ledger>.<n>`, and
 * `<ledger>.<n>.snapshot` (a block blob, written in one request before the segment is used) holds
 * the last line per (user, action, evidence) of everything before it. A run reads the newest
 * snapshot and segment only, and starts the next segment long before the limit.
 *
 * The lease is on the segment being written, and every append carries its lease id and the
 * position it expects: a run whose lease expired cannot write another line, and a failed renewal
 * aborts `lost`, which stops the run like SIGTERM. The Storage clients come from the session (one
 * credential for every store); the ledger never builds one.
 */
import type { AppendBlobClient, BlobLeaseClient, BlockBlobClient } from '@azure/storage-blob'
import { RestError } from '@azure/storage-blob'
import { LeaseLostError } from '../errors.js'
import type { BlobClients } from '../stores/blobClients.js'
import { withoutQuery } from '../stores/location.js'
import {
  type Ledger,
  type LedgerEntry,
  type LedgerHeadroom,
  type LockState,
  latestInOrder,
  ledgerText,
  parseLedgerLines,
  SerialWrites,
} from './ledger.js'

const LEASE_SECONDS = 60
/** Azure's limit of blocks in one append blob. */
export const APPEND_BLOB_MAX_BLOCKS = 50_000
/** A segment ends well before the limit; what a run reads stays small. */
const SEGMENT_BLOCKS = 40_000
const SEGMENT_BYTES = 64 * 1024 * 1024

export interface BlobLedgerOptions {
  url: string
  blobs: BlobClients
  /** Appends a segment takes before the next is started (tests use a few; at most 50,000). */
  segmentBlocks?: number
  segmentBytes?: number
}

const isStatus = (e: unknown, ...codes: number[]): boolean =>
  e instanceof RestError && codes.includes(e.statusCode ?? 0)

/** The segment this ledger writes: its blob, its lease, and how full it is. */
interface Held {
  n: number
  blob: AppendBlobClient
  lease: BlobLeaseClient
  leaseId: string
  blocks: number
  bytes: number
}

export class BlobLedger implements Ledger {
  readonly location: string
  private readonly blobs: BlobClients
  private readonly segmentBlocks: number
  private readonly segmentBytes: number
  private readonly lostController = new AbortController()
  readonly lost: AbortSignal = this.lostController.signal
  private lostReason: string | undefined
  private held: Held | undefined
  private renewTimer: NodeJS.Timeout | undefined
  private readonly writes = new SerialWrites()

  constructor(options: BlobLedgerOptions) {
    this.location = withoutQuery(options.url)
    this.blobs = options.blobs
    this.segmentBlocks = Math.min(options.segmentBlocks ?? SEGMENT_BLOCKS, APPEND_BLOB_MAX_BLOCKS - 1)
    this.segmentBytes = options.segmentBytes ?? SEGMENT_BYTES
  }

  private segment(n: number): AppendBlobClient {
    return this.blobs.appendBlob(n === 0 ? this.location : `${this.location}.${n}`)
  }

  private snapshot(n: number): BlockBlobClient {
    return this.blobs.blockBlob(`${this.location}.${n}.snapshot`)
  }

  /** The newest segment: the highest n whose snapshot exists (it is written before the segment is used). */
  private async newest(): Promise<number> {
    let n = 0
    while (await this.snapshot(n + 1).exists()) n++
    return n
  }

  async acquire(): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const n = await this.newest()
      const blob = this.segment(n)
      await blob.createIfNotExists()
      const lease = blob.getBlobLeaseClient()
      try {
        await lease.acquireLease(LEASE_SECONDS)
      } catch (e) {
        if (isStatus(e, 409)) return false
        throw e
      }
      // A rotation may have finished between finding the segment and leasing it: follow it.
      if (!(await this.snapshot(n + 1).exists())) {
        await this.hold(n, blob, lease)
        return true
      }
      await lease.releaseLease().catch(() => undefined)
    }
    return false
  }

  private async hold(n: number, blob: AppendBlobClient, lease: BlobLeaseClient): Promise<void> {
    const props = await blob.getProperties({ conditions: { leaseId: lease.leaseId } })
    this.held = {
      n,
      blob,
      lease,
      leaseId: lease.leaseId,
      blocks: props.blobCommittedBlockCount ?? 0,
      bytes: props.contentLength ?? 0,
    }
    clearInterval(this.renewTimer)
    // Renew well before expiry. A renewal that fails means another run may hold the ledger now:
    // the run stops (finishes what is in flight, starts nothing new), never acts on regardless.
    this.renewTimer = setInterval(
      () =>
        void lease.renewLease().catch((e: unknown) => this.lose(`renewal failed: ${(e as Error).message}`)),
      (LEASE_SECONDS * 1000) / 3,
    )
    this.renewTimer.unref()
  }

  private lose(reason: string): void {
    clearInterval(this.renewTimer)
    this.lostReason ??= reason
    this.lostController.abort()
  }

  headroom(): LedgerHeadroom | undefined {
    if (!this.held) return undefined
    return { segment: this.held.n, blocksLeft: Math.max(0, this.segmentBlocks - this.held.blocks) }
  }

  async release(): Promise<void> {
    clearInterval(this.renewTimer)
    await this.writes.idle()
    await this.held?.lease.releaseLease().catch(() => undefined)
    this.held = undefined
  }

  /** The newest segment's lease, read from its properties: nothing is created or leased. */
  async lockState(): Promise<LockState> {
    const n = await this.newest()
    try {
      const props = await this.segment(n).getProperties()
      return props.leaseState === 'leased'
        ? { held: true, detail: `segment ${n} is leased (${props.leaseDuration ?? 'fixed'} lease)` }
        : { held: false, detail: `segment ${n} is not leased` }
    } catch (e) {
      if (isStatus(e, 404))
        return { held: false, detail: 'the ledger blob does not exist yet (the first run creates it)' }
      throw e
    }
  }

  /** The newest snapshot and segment: everything a run needs, never the whole history. */
  async load(): Promise<LedgerEntry[]> {
    const n = this.held?.n ?? (await this.newest())
    const before = n === 0 ? '' : await text(this.snapshot(n))
    return [
      ...parseLedgerLines(before, `${this.location}.${n}.snapshot`),
      ...parseLedgerLines(await text(this.segment(n)), this.location),
    ]
  }

  /** Appends are serialized: one writer per lease, and each append names the position it expects. */
  append(entries: LedgerEntry[]): Promise<void> {
    return this.writes.run(() => this.write(entries))
  }

  private async write(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return
    const body = Buffer.from(ledgerText(entries))
    if (this.lostReason !== undefined) throw new LeaseLostError(this.location, this.lostReason)
    if (!this.held) throw new LeaseLostError(this.location, 'no lease is held')
    if (this.held.blocks + 1 > this.segmentBlocks || this.held.bytes + body.length > this.segmentBytes)
      await this.rotate()
    const held = this.held
    try {
      const r = await held.blob.appendBlock(body, body.length, {
        conditions: { leaseId: held.leaseId, appendPosition: held.bytes },
      })
      held.blocks = r.blobCommittedBlockCount ?? held.blocks + 1
      held.bytes += body.length
    } catch (e) {
      // 412/409: the lease is gone or another writer appended: this run no longer owns the ledger.
      if (!isStatus(e, 409, 412)) throw e
      this.lose(`a write was refused (${(e as RestError).code ?? (e as RestError).statusCode})`)
      throw new LeaseLostError(this.location, this.lostReason ?? 'a write was refused')
    }
  }

  /**
   * Starts segment n+1: leases it, writes the snapshot (which makes it the newest), then lets go of
   * segment n. A run looking meanwhile finds a leased segment either way, so never two writers.
   */
  private async rotate(): Promise<void> {
    const held = this.held as Held
    const next = held.n + 1
    const compact = latestInOrder(await this.load())
    const blob = this.segment(next)
    await blob.createIfNotExists()
    const lease = blob.getBlobLeaseClient()
    try {
      await lease.acquireLease(LEASE_SECONDS)
    } catch (e) {
      if (!isStatus(e, 409)) throw e
      this.lose(`segment ${next} is leased by another run`)
      throw new LeaseLostError(this.location, this.lostReason ?? 'rotation refused')
    }
    const body = ledgerText(compact)
    await this.snapshot(next).upload(body, Buffer.byteLength(body))
    await this.hold(next, blob, lease)
    await held.lease.releaseLease().catch(() => undefined)
  }
}

/** A blob's text; '' when it does not exist. */
async function text(blob: AppendBlobClient | BlockBlobClient): Promise<string> {
  try {
    return (await blob.downloadToBuffer()).toString('utf8')
  } catch (e) {
    if (isStatus(e, 404)) return ''
    throw e
  }
}
