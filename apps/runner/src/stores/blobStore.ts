import { RestError } from '@azure/storage-blob'
import type { BlobClients } from './blobClients.js'
import { withoutQuery } from './location.js'
import type { ReadOptions, Stored, TextStore } from './textStore.js'

export interface BlobTextStoreOptions {
  /** The Content-Type a replace writes (the evidence state is JSON). */
  contentType?: string
}

/**
 * A TextStore in an Azure blob: replaced as a block blob with an ETag condition, appended to as an
 * append blob (a document is only ever used one way). A read takes one ranged request, so never
 * more than the cap comes over the wire whatever the blob's size.
 */
export class BlobTextStore implements TextStore {
  readonly location: string

  constructor(
    url: string,
    private readonly blobs: BlobClients,
    private readonly options: BlobTextStoreOptions = {},
  ) {
    this.location = withoutQuery(url)
  }

  async read(options: ReadOptions = {}): Promise<Stored | 'unchanged' | undefined> {
    try {
      const answer = await this.blobs.blockBlob(this.location).download(0, options.maxBytes, {
        conditions: options.unlessVersion ? { ifNoneMatch: options.unlessVersion } : {},
      })
      const text = await streamText(answer.readableStreamBody, options.maxBytes)
      const total = Number(/\/(\d+)$/.exec(answer.contentRange ?? '')?.[1] ?? Buffer.byteLength(text))
      return { text, version: answer.etag ?? '', totalBytes: total }
    } catch (e) {
      if (!(e instanceof RestError)) throw e
      if (e.statusCode === 304) return 'unchanged'
      if (e.statusCode === 404) return undefined
      // 416: an append blob that exists and is empty (no range to read).
      if (e.statusCode === 416) return { text: '', version: '', totalBytes: 0 }
      throw e
    }
  }

  async replaceIf(text: string, version: string | undefined): Promise<string | undefined> {
    try {
      const answer = await this.blobs.blockBlob(this.location).upload(text, Buffer.byteLength(text), {
        conditions: version === undefined ? { ifNoneMatch: '*' } : { ifMatch: version },
        ...(this.options.contentType
          ? { blobHTTPHeaders: { blobContentType: this.options.contentType } }
          : {}),
      })
      return answer.etag ?? ''
    } catch (e) {
      // 412: changed since it was read; 409 BlobAlreadyExists: created since none was found. Any
      // other 409 (BlobImmutableDueToPolicy: a retention policy on the container) is a failure the
      // caller reports, not a lost race.
      if (!(e instanceof RestError)) throw e
      if (e.statusCode === 412 || (e.statusCode === 409 && e.code === 'BlobAlreadyExists')) return undefined
      throw new Error(`${e.statusCode ?? 'error'} ${e.code ?? ''} from Azure Storage`.trim())
    }
  }

  async append(text: string): Promise<void> {
    const blob = this.blobs.appendBlob(this.location)
    await blob.createIfNotExists()
    const body = Buffer.from(text)
    await blob.appendBlock(body, body.length)
  }
}

/** A response body as text, at most `maxBytes` of it. */
async function streamText(body: NodeJS.ReadableStream | undefined, maxBytes?: number): Promise<string> {
  if (body === undefined) return ''
  const chunks: Buffer[] = []
  let read = 0
  for await (const chunk of body) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    chunks.push(maxBytes === undefined ? b : b.subarray(0, Math.max(0, maxBytes - read)))
    read += b.length
    if (maxBytes !== undefined && read >= maxBytes) break
  }
  return Buffer.concat(chunks).toString('utf8')
}
