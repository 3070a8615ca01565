/**
 * The ledger in Azure Storage: an append blob of JSON lines, written with conditional appends
 * (appendPosition: a write that would interleave with another fails instead), and a lease on a lock
 * blob beside it that keeps two overlapping runs from acting at once. Authentication is a
 * TokenCredential backed by the same msal setup as the Graph client (managed identity in Azure).
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import { AppendBlobClient, type BlobLeaseClient, BlockBlobClient, RestError } from '@azure/storage-blob'
import { type Credential, createTokenProvider } from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'
import { type Ledger, type LedgerEntry, parseLedgerLines } from './ledger.js'

const LEASE_SECONDS = 60

export interface BlobLedgerOptions {
  url: string
  credential: TokenCredential
}

export class BlobLedger implements Ledger {
  readonly location: string
  private readonly blob: AppendBlobClient
  private readonly lockBlob: BlockBlobClient
  private lease: BlobLeaseClient | undefined
  private renewTimer: NodeJS.Timeout | undefined

  constructor(options: BlobLedgerOptions) {
    const url = new URL(options.url)
    url.search = ''
    this.location = url.toString()
    this.blob = new AppendBlobClient(this.location, options.credential)
    this.lockBlob = new BlockBlobClient(`${this.location}.lock`, options.credential)
  }

  async acquire(): Promise<boolean> {
    await this.lockBlob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((e: unknown) => {
      // 409: it exists already, which is fine; anything else is a real failure.
      if (!(e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412))) throw e
    })
    const lease = this.lockBlob.getBlobLeaseClient()
    try {
      await lease.acquireLease(LEASE_SECONDS)
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 409) return false
      throw e
    }
    this.lease = lease
    // Renew well before expiry; a run longer than the lease must keep it.
    this.renewTimer = setInterval(
      () => void lease.renewLease().catch(() => undefined),
      (LEASE_SECONDS * 1000) / 3,
    )
    this.renewTimer.unref()
    await this.blob.createIfNotExists()
    return true
  }

  async release(): Promise<void> {
    clearInterval(this.renewTimer)
    await this.lease?.releaseLease().catch(() => undefined)
    this.lease = undefined
  }

  async load(): Promise<LedgerEntry[]> {
    try {
      const buffer = await this.blob.downloadToBuffer()
      return parseLedgerLines(buffer.toString('utf8'), this.location)
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return []
      throw e
    }
  }

  async append(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return
    const body = Buffer.from(entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
    for (let attempt = 0; ; attempt++) {
      const props = await this.blob.getProperties()
      try {
        await this.blob.appendBlock(body, body.length, {
          conditions: { appendPosition: props.contentLength ?? 0 },
        })
        return
      } catch (e) {
        // 412: someone appended between our read and write; read the new length and try again.
        if (!(e instanceof RestError && e.statusCode === 412) || attempt >= 4) throw e
      }
    }
  }
}

/**
 * The Storage credential, through the same msal setup as Graph, for the storage.azure.com audience:
 * the job's managed identity when TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID names it (in Azure, the
 * identity infra grants Storage Blob Data Contributor on the ledger container), else Graph's credential.
 */
export function storageCredential(config: RunnerConfig, credential: Credential): TokenCredential {
  const provider = createTokenProvider({
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential:
      config.managedIdentityClientId === undefined
        ? credential
        : { kind: 'managedIdentity', clientId: config.managedIdentityClientId },
    cloud: config.cloud,
    authorityHost: config.authorityHost,
    resource: 'https://storage.azure.com',
  })
  return {
    async getToken(): Promise<AccessToken> {
      const t = await provider.getToken({ forceRefresh: false })
      return { token: t.token, expiresOnTimestamp: t.expiresOnMs }
    },
  }
}

export function openBlobLedger(config: RunnerConfig, credential: Credential): Ledger {
  return new BlobLedger({ url: config.ledger, credential: storageCredential(config, credential) })
}
