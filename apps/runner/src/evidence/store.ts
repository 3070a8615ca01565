/**
 * Where the evidence state lives: `<ledger>.evidence.json`, a file beside a file ledger or a block
 * blob beside a blob ledger (the ledger's Storage credential). A save is conditional on the version
 * the run loaded (the blob's ETag, the file's size and time): two overlapping runs, a plan run
 * beside an apply run say, cannot make the watermark go back; the later save is dropped and the
 * next run re-reads from the saved watermark. Nothing is lost either way: the state is a cache.
 */
import { readFile, rename, stat } from 'node:fs/promises'
import type { TokenCredential } from '@azure/core-auth'
import type { StorageSharedKeyCredential } from '@azure/storage-blob'
import type { Credential } from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'
import { isRunnerError } from '../errors.js'
import { openPrivate } from '../privateFile.js'
import { copyState, type EvidenceState, parseState, serializeState } from './state.js'

/**
 * The state this process last loaded or saved at each location, by version: `tourniquet watch`
 * reads a 10,000-user state every 15 s, and parsing and checking it costs more than the run's reads.
 * Handed out as copies: a run changes the users it touches in place.
 */
const known = new Map<string, { version: string; state: EvidenceState }>()

function remember(location: string, version: string, state: EvidenceState): void {
  known.set(location, { version, state: copyState(state) })
}

/** The state at `version` if this process knows it already. */
function recalled(location: string, version: string): Loaded | undefined {
  const k = known.get(location)
  return k?.version === version ? { state: copyState(k.state), version } : undefined
}

/** The state parsed, or why it cannot be used: a cache of Graph, so never a failed run. */
function parsed(raw: string, location: string, version: string): Loaded {
  try {
    const state = parseState(raw, location)
    remember(location, version, state)
    return { state, version }
  } catch (e) {
    if (!isRunnerError(e) || e.code !== 'TQ_RUNNER_STATE_UNUSABLE') throw e
    return { state: undefined, version, unusable: e.message }
  }
}

export interface Loaded {
  /** Undefined when there is no state yet, or it cannot be used. */
  state: EvidenceState | undefined
  /** Why the stored state cannot be used (it is then replaced by the next save). */
  unusable?: string
  /** The version the save is conditional on (undefined: there must still be none). */
  version: string | undefined
}

export interface EvidenceStore {
  readonly location: string
  load(): Promise<Loaded>
  /** Saves when the stored version is still `loaded.version`; false when another run saved first. */
  save(state: EvidenceState, loaded: Loaded): Promise<boolean>
}

/** `<ledger>.evidence.json`; for a blob, the name gets the suffix, not the URL's query. */
export function evidenceLocation(ledger: string): string {
  const url = /^https?:\/\//i.test(ledger) ? URL.parse(ledger) : null
  if (url === null) return `${ledger}.evidence.json`
  url.pathname = `${url.pathname}.evidence.json`
  return url.toString()
}

class FileStore implements EvidenceStore {
  constructor(readonly location: string) {}

  private async version(): Promise<string | undefined> {
    const s = await stat(this.location).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    return s === undefined ? undefined : `${s.size}:${s.mtimeMs}`
  }

  async load(): Promise<Loaded> {
    const version = await this.version()
    if (version === undefined) return { state: undefined, version }
    const again = recalled(this.location, version)
    if (again) return again
    const raw = await readFile(this.location, 'utf8')
    return parsed(raw, this.location, version)
  }

  async save(state: EvidenceState, loaded: Loaded): Promise<boolean> {
    if ((await this.version()) !== loaded.version) return false
    // Written whole to a private temporary file, then renamed: a reader never sees half a state.
    const temporary = `${this.location}.${process.pid}.tmp`
    const handle = await openPrivate(temporary, 'truncate')
    try {
      await handle.writeFile(serializeState(state))
    } finally {
      await handle.close()
    }
    await rename(temporary, this.location)
    const saved = await this.version()
    if (saved !== undefined) remember(this.location, saved, state)
    return true
  }
}

/** The state as a block blob beside a blob ledger; exported for tests against a real Storage (Azurite). */
export class BlobStore implements EvidenceStore {
  readonly location: string
  constructor(
    url: string,
    private readonly credential: TokenCredential | StorageSharedKeyCredential,
  ) {
    const u = new URL(url)
    u.search = ''
    this.location = u.toString()
  }

  private async client() {
    const { BlockBlobClient } = await import('@azure/storage-blob')
    return new BlockBlobClient(this.location, this.credential as TokenCredential)
  }

  async load(): Promise<Loaded> {
    const { RestError } = await import('@azure/storage-blob')
    const blob = await this.client()
    // A watch iteration downloads the state only when it changed (304 otherwise).
    const cached = known.get(this.location)?.version
    try {
      const answer = await blob.download(0, undefined, {
        conditions: cached ? { ifNoneMatch: cached } : {},
      })
      const raw = (await streamText(answer.readableStreamBody)) ?? ''
      return parsed(raw, this.location, answer.etag as string)
    } catch (e) {
      if (!(e instanceof RestError)) throw e
      const again = e.statusCode === 304 && cached ? recalled(this.location, cached) : undefined
      if (again) return again
      if (e.statusCode === 404) return { state: undefined, version: undefined }
      throw e
    }
  }

  async save(state: EvidenceState, loaded: Loaded): Promise<boolean> {
    const { RestError } = await import('@azure/storage-blob')
    const raw = serializeState(state)
    try {
      const answer = await (await this.client()).upload(raw, Buffer.byteLength(raw), {
        conditions: loaded.version === undefined ? { ifNoneMatch: '*' } : { ifMatch: loaded.version },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      })
      remember(this.location, answer.etag as string, state)
      return true
    } catch (e) {
      // 412: changed since we read it; 409 BlobAlreadyExists: created since we found none. Any
      // other 409 (BlobImmutableDueToPolicy: a retention policy on the container) is a failure the
      // run reports, not a lost race: every later run would otherwise collect in full, silently.
      if (!(e instanceof RestError)) throw e
      if (e.statusCode === 412 || (e.statusCode === 409 && e.code === 'BlobAlreadyExists')) return false
      throw new Error(`${e.statusCode ?? 'error'} ${e.code ?? ''} from Azure Storage`.trim())
    }
  }
}

async function streamText(body: NodeJS.ReadableStream | undefined): Promise<string | undefined> {
  if (body === undefined) return undefined
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** The store beside the configured ledger. */
export async function openEvidenceStore(
  config: RunnerConfig,
  credential: () => Promise<Credential>,
): Promise<EvidenceStore> {
  const at = config.collection.location ?? evidenceLocation(config.ledger)
  if (!/^https?:\/\//i.test(at)) return new FileStore(at)
  const { storageCredential } = await import('../ledger/blobLedger.js')
  return new BlobStore(at, storageCredential(config, await credential()))
}
