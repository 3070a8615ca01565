/**
 * The blob ledger as state that must not stall (issue #16 items 4 and 5), driven directly against a
 * real Azure Storage implementation (Azurite, plain HTTP, the development account key): segments
 * past the block limit, and a writer that lost its lease.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppendBlobClient, BlobServiceClient, type StorageSharedKeyCredential } from '@azure/storage-blob'
import { BlobLedger, blobClients, type LedgerEntry } from '@tourniquet/runner'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Azurite, devAccountCredential, startAzurite } from '../support/azurite.js'

const entry = (i: number, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  runId: 'r1',
  at: '2026-12-01T00:00:00.000Z',
  phase: 'done',
  userId: `user-${i}`,
  userPrincipalName: `user${i}@contoso.example`,
  action: 'revokeSessions',
  evidenceKey: `k${i}`,
  evidence: [`d${i}`],
  route: 'entra:revokeSignInSessions',
  outcome: 'succeeded',
  ...over,
})

describe('the blob ledger over time (Azurite)', () => {
  let dir: string
  let azurite: Azurite
  let credential: StorageSharedKeyCredential
  let n = 0
  const urlOf = () => `${azurite.accountUrl}/tourniquet/ledger-${++n}.jsonl`

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-blob-'))
    azurite = await startAzurite(undefined, dir)
    await azurite.createContainer('tourniquet')
    credential = await devAccountCredential()
  }, 60_000)
  afterAll(async () => {
    await azurite?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Breaks whatever lease the ledger holds, as an expiry would, wherever it is kept. */
  async function breakLeases(url: string): Promise<void> {
    const container = new BlobServiceClient(azurite.accountUrl, credential).getContainerClient('tourniquet')
    const name = new URL(url).pathname.split('/').at(-1) as string
    for await (const b of container.listBlobsFlat({ prefix: name }))
      await container
        .getBlobClient(b.name)
        .getBlobLeaseClient()
        .breakLease(0)
        .catch(() => undefined)
  }

  it('keeps taking appends past its segment limit, reads only the newest segment, and reports its headroom', async () => {
    const url = urlOf()
    const ledger = new BlobLedger({ url, blobs: blobClients(credential), segmentBlocks: 5 })
    expect(await ledger.acquire()).toBe(true)
    // 23 appends: more than four segments' worth of blocks.
    for (let i = 0; i < 23; i++) await ledger.append([entry(i)])
    const headroom = ledger.headroom?.()
    expect(headroom?.segment).toBeGreaterThanOrEqual(4)
    expect(headroom?.blocksLeft).toBeGreaterThanOrEqual(0)
    expect(headroom?.blocksLeft).toBeLessThan(5)
    await ledger.release()
    // The next run sees every line's last word, though no blob holds more than five appends.
    const next = new BlobLedger({ url, blobs: blobClients(credential), segmentBlocks: 5 })
    expect(await next.acquire()).toBe(true)
    const loaded = await next.load()
    expect(new Set(loaded.map((e) => e.userId))).toEqual(
      new Set(Array.from({ length: 23 }, (_, i) => `user-${i}`)),
    )
    const current = new AppendBlobClient(`${url}.${headroom?.segment}`, credential)
    expect((await current.getProperties()).blobCommittedBlockCount).toBeLessThanOrEqual(5)
    await next.release()
  })

  it('a writer whose lease was lost cannot write another line; the new holder can', async () => {
    const url = urlOf()
    const a = new BlobLedger({ url, blobs: blobClients(credential) })
    expect(await a.acquire()).toBe(true)
    await a.append([entry(1)])
    await breakLeases(url)
    const b = new BlobLedger({ url, blobs: blobClients(credential) })
    expect(await b.acquire()).toBe(true)
    await expect(a.append([entry(2)])).rejects.toMatchObject({ code: 'TQ_RUNNER_LEASE_LOST' })
    await b.append([entry(3)])
    expect((await b.load()).map((e) => e.userId)).toEqual(['user-1', 'user-3'])
    await b.release()
    await a.release()
  })

  it('a failed lease renewal aborts `lost`, which stops the run', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const url = urlOf()
    const a = new BlobLedger({ url, blobs: blobClients(credential) })
    expect(await a.acquire()).toBe(true)
    await breakLeases(url)
    const b = new BlobLedger({ url, blobs: blobClients(credential) })
    expect(await b.acquire()).toBe(true)
    const lost = new Promise((resolve) => a.lost?.addEventListener('abort', resolve))
    vi.advanceTimersByTime(20_000)
    await lost
    expect(a.lost?.aborted).toBe(true)
    await expect(a.append([entry(2)])).rejects.toThrow(/lost the lease .*renewal failed/)
    await b.release()
    await a.release()
  })
})
