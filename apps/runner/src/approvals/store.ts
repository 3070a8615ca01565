/**
 * Where the approval trail lives: two JSON-lines files beside a file ledger, or two append blobs
 * beside a blob ledger (Storage credential as the ledger's). Appends only; nothing is rewritten.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { TokenCredential } from '@azure/core-auth'
import type { Credential } from '@tourniquet/core'
import type { z } from 'zod'
import type { RunnerConfig } from '../env.js'
import { parseTrail } from './records.js'

export interface Trail<T> {
  readonly location: string
  load(): Promise<T[]>
  append(records: T[]): Promise<void>
}

const lines = (records: unknown[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('')

class FileTrail<T> implements Trail<T> {
  constructor(
    readonly location: string,
    private readonly schema: z.ZodType<T>,
  ) {}
  async load(): Promise<T[]> {
    const text = await readFile(this.location, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return ''
      throw e
    })
    return parseTrail(text, this.schema, this.location)
  }
  async append(records: T[]): Promise<void> {
    if (records.length === 0) return
    await mkdir(dirname(this.location), { recursive: true })
    await appendFile(this.location, lines(records), { mode: 0o600 })
  }
}

class BlobTrail<T> implements Trail<T> {
  readonly location: string
  constructor(
    url: string,
    private readonly schema: z.ZodType<T>,
    private readonly credential: TokenCredential,
  ) {
    const u = new URL(url)
    u.search = ''
    this.location = u.toString()
  }
  private async client() {
    const { AppendBlobClient } = await import('@azure/storage-blob')
    return new AppendBlobClient(this.location, this.credential)
  }
  async load(): Promise<T[]> {
    const { RestError } = await import('@azure/storage-blob')
    try {
      const buffer = await (await this.client()).downloadToBuffer()
      return parseTrail(buffer.toString('utf8'), this.schema, this.location)
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return []
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

/** The two trails for a configuration: requests beside the ledger, decisions where TOURNIQUET_DECISIONS says. */
export async function openTrails<R, D>(
  config: RunnerConfig,
  credential: () => Promise<Credential>,
  schemas: { request: z.ZodType<R>; decision: z.ZodType<D> },
): Promise<{ requests: Trail<R>; decisions: Trail<D> }> {
  const requestsAt = `${config.ledger}.approvals.jsonl`
  const decisionsAt = config.decisions ?? `${config.ledger}.decisions.jsonl`
  const remote = (at: string): boolean => /^https?:\/\//i.test(at)
  let storage: TokenCredential | undefined
  const open = async <T>(at: string, schema: z.ZodType<T>): Promise<Trail<T>> => {
    if (!remote(at)) return new FileTrail(at, schema)
    if (!storage) {
      const { storageCredential } = await import('../ledger/blobLedger.js')
      storage = storageCredential(config, await credential())
    }
    return new BlobTrail(at, schema, storage)
  }
  return {
    requests: await open(requestsAt, schemas.request),
    decisions: await open(decisionsAt, schemas.decision),
  }
}
