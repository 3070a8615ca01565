/**
 * One session per command: it opens the credential (read once: a certificate file is read once),
 * the Graph clients, the Storage clients, the stores and the ledger's lease, each at first use, and
 * closes or releases every one of them when the command ends (`await using`). Nothing of it lives in
 * module scope. `tourniquet watch` keeps a SessionCache across its runs on purpose: one Storage
 * credential per process, and the parsed evidence state while it is unchanged.
 */
import type { Credential, GraphClient, GraphClientOptions, TransportOptions } from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'
import {
  type EvidenceStore,
  evidenceLocation,
  evidenceStore,
  StateCache,
  type StateIo,
} from '../evidence/store.js'
import { BlobLedger } from '../ledger/blobLedger.js'
import { FileLedger } from '../ledger/fileLedger.js'
import type { Ledger, LedgerHeadroom } from '../ledger/ledger.js'
import {
  type BlobClients,
  blobClients,
  type StorageCredential,
  storageCredential,
} from '../stores/blobClients.js'
import { isRemote } from '../stores/location.js'
import { openTextStore } from '../stores/open.js'
import { clientFromConfig, credentialFor } from './client.js'

type SharedBudgets = GraphClientOptions['sharedBudgets']

/**
 * What outlives one session in a long-running process (`tourniquet watch`): the Storage credential
 * (one token provider and connection pool per process, not one per run) and the evidence state as
 * last parsed. The process disposes it when it stops.
 */
export class SessionCache implements AsyncDisposable {
  private storage: StorageCredential | undefined
  private readonly states = new Map<string, StateCache>()

  storageCredential(make: () => StorageCredential): StorageCredential {
    this.storage ??= make()
    return this.storage
  }

  stateCache(location: string): StateCache {
    let cache = this.states.get(location)
    if (cache === undefined) {
      cache = new StateCache()
      this.states.set(location, cache)
    }
    return cache
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.storage?.close()
    this.storage = undefined
  }
}

export interface SessionOptions {
  /** Set when a stop is requested (SIGTERM): in-flight steps finish, nothing new starts. */
  stopSignal?: AbortSignal | undefined
  /** Kept across sessions by a long-running process; otherwise the session's own. */
  cache?: SessionCache | undefined
  /** Injected (the demo, tests): used as is and never closed by the session. */
  client?: GraphClient | undefined
  ledger?: Ledger | undefined
  evidence?: EvidenceStore | undefined
  /** Trust in a private CA for the Graph client (the demo's fake tenant). */
  transport?: TransportOptions | undefined
}

export class Session implements AsyncDisposable {
  private credentialRead: Promise<Credential> | undefined
  private blobsMade: BlobClients | undefined
  private ownStorage: StorageCredential | undefined
  private ledgerOpened: Ledger | undefined
  private evidenceOpened: EvidenceStore | undefined
  private readonly clients: GraphClient[] = []
  private leased = false

  constructor(
    readonly config: RunnerConfig,
    private readonly options: SessionOptions = {},
  ) {}

  /** The app's credential, read once (a certificate file is read at the first use). */
  credential(): Promise<Credential> {
    this.credentialRead ??= credentialFor(this.config)
    return this.credentialRead
  }

  /** Whether the ledger's lease was lost (a renewal failed): another run may own the shared state now. */
  leaseLost(): boolean {
    return this.ledgerOpened?.lost?.aborted === true
  }

  /** Whether the command must start nothing new: SIGTERM, or the ledger's lease was lost. */
  stopping(): boolean {
    return this.options.stopSignal?.aborted === true || this.leaseLost()
  }

  get stopSignal(): AbortSignal | undefined {
    return this.options.stopSignal
  }

  /** Whether the Graph client was injected (then the session cannot build another from settings). */
  get injectedClient(): boolean {
    return this.options.client !== undefined
  }

  /** The Graph client: the injected one, or one built from the settings and closed with the session. */
  async graph(sharedBudgets?: SharedBudgets): Promise<GraphClient> {
    if (this.options.client) return this.options.client
    const client = clientFromConfig(
      this.config,
      await this.credential(),
      this.options.transport,
      sharedBudgets,
    )
    this.clients.push(client)
    return client
  }

  /** The Storage clients, on one credential: the cache's in a long-running process. */
  readonly blobs = async (): Promise<BlobClients> => {
    if (this.blobsMade) return this.blobsMade
    const credential = await this.credential()
    const make = () => storageCredential(this.config, credential)
    if (this.options.cache) {
      this.blobsMade = blobClients(this.options.cache.storageCredential(make))
      return this.blobsMade
    }
    this.ownStorage ??= make()
    this.blobsMade = blobClients(this.ownStorage)
    return this.blobsMade
  }

  /** The ledger (not yet leased): a file, or a blob in Azure Storage. */
  async ledger(): Promise<Ledger> {
    if (this.ledgerOpened) return this.ledgerOpened
    const { config } = this
    this.ledgerOpened =
      this.options.ledger ??
      (isRemote(config.ledger)
        ? new BlobLedger({ url: config.ledger, blobs: await this.blobs() })
        : new FileLedger(config.ledger, { maxRuntimeMs: config.maxRuntimeMs }))
    return this.ledgerOpened
  }

  /** Takes the ledger's lease for the session (released when it ends); false when another run holds it. */
  async lease(): Promise<boolean> {
    const ledger = await this.ledger()
    this.leased = await ledger.acquire()
    return this.leased
  }

  /** What the evidence state cost this run (bytes read and written, time); undefined when it was not opened. */
  stateIo(): StateIo | undefined {
    return this.evidenceOpened === undefined ? undefined : { ...this.evidenceOpened.io }
  }

  /** The evidence state's store: TOURNIQUET_EVIDENCE, or beside the ledger. */
  async evidence(): Promise<EvidenceStore> {
    if (this.evidenceOpened) return this.evidenceOpened
    const at = this.config.collection.location ?? evidenceLocation(this.config.ledger)
    const cache = this.options.cache?.stateCache(at) ?? new StateCache()
    this.evidenceOpened =
      this.options.evidence ??
      evidenceStore(await openTextStore(at, this.blobs, { contentType: 'application/json' }), cache)
    return this.evidenceOpened
  }

  /** The blob ledger's room left, while the lease is still held (for the summary line). */
  headroom(): LedgerHeadroom | undefined {
    return this.ledgerOpened?.headroom?.()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.leased) await this.ledgerOpened?.release()
    this.leased = false
    await Promise.all(this.clients.splice(0).map((c) => c.close()))
    await this.ownStorage?.close()
    this.ownStorage = undefined
  }
}

export const openSession = (config: RunnerConfig, options: SessionOptions = {}): Session =>
  new Session(config, options)
