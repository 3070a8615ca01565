/**
 * Where the approval trail lives: two JSON-lines files beside a file ledger, or two append blobs
 * beside a blob ledger (Storage credential as the ledger's). Appends only; nothing is rewritten.
 * Files are written as the ledger is (mode 0600, never through a symbolic link), and every read
 * stops at a size cap: a trail any approver can append to must not be able to exhaust the job.
 */
import { constants } from 'node:fs'
import { mkdir, open } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { TokenCredential } from '@azure/core-auth'
import type { Credential } from '@tourniquet/core'
import type { z } from 'zod'
import type { RunnerConfig } from '../env.js'
import { ConfigurationError } from '../errors.js'
import { openPrivate } from '../privateFile.js'
import { type Cut, parseTrail, type TrailRead } from './records.js'

/** The most of one trail a read takes: tens of thousands of decisions, far below a job's memory. */
export const TRAIL_MAX_BYTES = 8 * 1024 * 1024

export interface Trail<T> {
  readonly location: string
  load(): Promise<TrailRead<T>>
  append(records: T[]): Promise<void>
}

const lines = (records: unknown[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('')

const isRemote = (at: string): boolean => /^https?:\/\//i.test(at)

class FileTrail<T> implements Trail<T> {
  constructor(
    readonly location: string,
    private readonly schema: z.ZodType<T>,
    private readonly maxBytes: number,
  ) {}
  async load(): Promise<TrailRead<T>> {
    let handle: Awaited<ReturnType<typeof open>>
    try {
      // Read as the ledger is written: not through a symbolic link another user may have planted.
      handle = await open(this.location, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return { records: [], warnings: [], capped: false }
      if (code === 'ELOOP')
        throw new Error(`${this.location} is a symbolic link; refusing to read through it`, { cause: e })
      throw e
    }
    try {
      const { size } = await handle.stat()
      const buffer = Buffer.alloc(Math.min(size, this.maxBytes))
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
      const cut: Cut | undefined =
        size > this.maxBytes ? { readBytes: bytesRead, totalBytes: size } : undefined
      return parseTrail(buffer.subarray(0, bytesRead).toString('utf8'), this.schema, this.location, cut)
    } finally {
      await handle.close()
    }
  }
  async append(records: T[]): Promise<void> {
    if (records.length === 0) return
    await mkdir(dirname(this.location), { recursive: true })
    const handle = await openPrivate(this.location, 'append')
    try {
      await handle.appendFile(lines(records))
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}

class BlobTrail<T> implements Trail<T> {
  readonly location: string
  constructor(
    url: string,
    private readonly schema: z.ZodType<T>,
    private readonly credential: TokenCredential,
    private readonly maxBytes: number,
  ) {
    const u = new URL(url)
    u.search = ''
    this.location = u.toString()
  }
  private async client() {
    const { AppendBlobClient } = await import('@azure/storage-blob')
    return new AppendBlobClient(this.location, this.credential)
  }
  async load(): Promise<TrailRead<T>> {
    const { RestError } = await import('@azure/storage-blob')
    try {
      // One ranged read: never more than the cap comes over the wire, whatever the blob's size.
      const res = await (await this.client()).download(0, this.maxBytes)
      const chunks: Buffer[] = []
      let read = 0
      for await (const chunk of res.readableStreamBody ?? []) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
        chunks.push(b.subarray(0, Math.max(0, this.maxBytes - read)))
        read += b.length
        if (read >= this.maxBytes) break
      }
      const body = Buffer.concat(chunks)
      const total = Number(/\/(\d+)$/.exec(res.contentRange ?? '')?.[1] ?? body.length)
      const cut: Cut | undefined =
        total > body.length ? { readBytes: body.length, totalBytes: total } : undefined
      return parseTrail(body.toString('utf8'), this.schema, this.location, cut)
    } catch (e) {
      // 404: nothing written yet; 416: the blob exists and is empty (no range to read).
      if (e instanceof RestError && (e.statusCode === 404 || e.statusCode === 416))
        return { records: [], warnings: [], capped: false }
      throw e
    }
  }
  async append(records: T[]): Promise<void> {
    if (records.length === 0) return
    const blob = await this.client()
    await blob.createIfNotExists()
    const body = Buffer.from(lines(records))
    await blob.appendBlock(body, body.length)
  }
}

/**
 * A trail's location beside the ledger. A URL is extended in its path, and its query is dropped
 * first: appended to the whole text, the suffix would land in a SAS query string and the trail
 * would resolve to the ledger blob itself.
 */
export function besideLedger(ledger: string, suffix: string): string {
  const url = isRemote(ledger) ? URL.parse(ledger) : null
  if (url === null) return `${ledger}${suffix}`
  url.search = ''
  url.hash = ''
  url.pathname = `${url.pathname}${suffix}`
  return url.toString()
}

/** Where the decisions are read: TOURNIQUET_DECISIONS, or beside a file ledger. */
export function decisionsLocation(config: Pick<RunnerConfig, 'ledger' | 'decisions'>): string {
  if (config.decisions !== undefined) return config.decisions
  // Beside a blob ledger they would sit in the container the job may write, and the job could
  // approve its own requests (decision 012): in Azure the decisions need a container of their own.
  if (isRemote(config.ledger))
    throw new ConfigurationError([
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
 * TOURNIQUET_DECISIONS says. `storage` is asked for only when a trail is a blob: the job's Storage
 * credential in a run, the approver's own sign-in in the trail commands.
 */
export async function openTrails<R, D>(
  where: Pick<RunnerConfig, 'ledger' | 'decisions'>,
  storage: () => Promise<TokenCredential>,
  schemas: { request: z.ZodType<R>; decision: z.ZodType<D> },
  options: TrailOptions = {},
): Promise<{ requests: Trail<R>; decisions: Trail<D> }> {
  const maxBytes = options.maxBytes ?? TRAIL_MAX_BYTES
  const requestsAt = besideLedger(where.ledger, '.approvals.jsonl')
  const decisionsAt = decisionsLocation(where)
  let credential: TokenCredential | undefined
  const openOne = async <T>(at: string, schema: z.ZodType<T>): Promise<Trail<T>> => {
    if (!isRemote(at)) return new FileTrail(at, schema, maxBytes)
    credential ??= await storage()
    return new BlobTrail(at, schema, credential, maxBytes)
  }
  return {
    requests: await openOne(requestsAt, schemas.request),
    decisions: await openOne(decisionsAt, schemas.decision),
  }
}

/** The job's Storage credential for the trails (a run, doctor): the ledger's, from the app's credential. */
export function jobStorage(
  config: RunnerConfig,
  credential: () => Promise<Credential>,
): () => Promise<TokenCredential> {
  return async () => {
    const { storageCredential } = await import('../ledger/blobLedger.js')
    return storageCredential(config, await credential())
  }
}
