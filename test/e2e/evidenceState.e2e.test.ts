/**
 * The evidence state as a blob (decision 015) against a real Azure Storage implementation
 * (Azurite): a save is conditional on what the run loaded, so two overlapping runs cannot move the
 * watermark back, and a cached read is never staler than the blob.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlockBlobClient, type StorageSharedKeyCredential } from '@azure/storage-blob'
import { BlobTextStore, blobClients, type EvidenceState, evidenceStore } from '@tourniquet/runner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Azurite, devAccountCredential, startAzurite } from '../support/azurite.js'

const state = (watermark: string): EvidenceState => ({
  tenantId: 'contoso.example',
  policyDigest: 'digest',
  fullAt: '2026-12-01T00:00:00.000Z',
  watermarks: { users: watermark, detections: watermark },
  refusedAt: undefined,
  users: new Map([
    [
      'u1',
      {
        userId: 'u1',
        userPrincipalName: 'u1@contoso.example',
        risk: { level: 'high', state: 'atRisk', detail: 'none' },
        updated: watermark,
      },
    ],
  ]),
  detections: new Map(),
})

describe('the evidence state in a blob (Azurite)', () => {
  // Each store with its own cache, as two processes would have.
  const stateIn = (url: string) => evidenceStore(new BlobTextStore(url, blobClients(credential)), undefined)
  let dir: string
  let azurite: Azurite
  let credential: StorageSharedKeyCredential
  let n = 0
  const urlOf = () => `${azurite.accountUrl}/tourniquet/ledger-${++n}.jsonl.evidence.json`

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-evidence-'))
    azurite = await startAzurite(undefined, dir)
    await azurite.createContainer('tourniquet')
    credential = await devAccountCredential()
  }, 60_000)
  afterAll(async () => {
    await azurite?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('is created once: of two runs that found none, the second save is dropped', async () => {
    const url = urlOf()
    const first = stateIn(url)
    const second = stateIn(url)
    const a = await first.load()
    const b = await second.load()
    expect(a).toEqual({ state: undefined, version: undefined })
    expect(await first.save(state('2026-12-01T10:00:00.000Z'), a)).toBe(true)
    expect(await second.save(state('2026-12-01T09:00:00.000Z'), b)).toBe(false)
    expect((await second.load()).state?.watermarks.users).toBe('2026-12-01T10:00:00.000Z')
  })

  it('saves only over the version it loaded: an overlapping run cannot move the watermark back', async () => {
    const url = urlOf()
    const store = stateIn(url)
    await store.save(state('2026-12-01T10:00:00.000Z'), await store.load())
    const early = await store.load()
    const late = await stateIn(url).load()
    expect(early.version).toBeDefined()
    expect(await store.save(state('2026-12-01T11:00:00.000Z'), late)).toBe(true)
    expect(await store.save(state('2026-12-01T10:30:00.000Z'), early)).toBe(false)
    const now = await store.load()
    expect(now.state?.watermarks.users).toBe('2026-12-01T11:00:00.000Z')
    expect(now.state?.users.get('u1')?.risk.level).toBe('high')
  })

  it('reads a blob changed behind its back afresh (its cache answers only an unchanged ETag)', async () => {
    const url = urlOf()
    const store = stateIn(url)
    await store.save(state('2026-12-01T10:00:00.000Z'), await store.load())
    expect((await store.load()).state?.watermarks.users).toBe('2026-12-01T10:00:00.000Z')
    const other = stateIn(url)
    await other.save(state('2026-12-01T12:00:00.000Z'), await other.load())
    // Another process (not this one's cache) rewrites the blob.
    const raw = JSON.stringify({
      version: 2,
      tenantId: 'contoso.example',
      policyDigest: 'digest',
      watermarks: { users: '2026-12-01T13:00:00.000Z', detections: '2026-12-01T13:00:00.000Z' },
      users: [],
      detections: [],
    })
    await new BlockBlobClient(url, credential).upload(raw, Buffer.byteLength(raw))
    const loaded = await store.load()
    expect(loaded.state?.watermarks.users).toBe('2026-12-01T13:00:00.000Z')
    expect(loaded.state?.users.size).toBe(0)
  })

  it('a blob that is not a state is reported (naming the field) and replaced by the next save', async () => {
    const url = urlOf()
    const bad = JSON.stringify({
      version: 2,
      tenantId: 'contoso.example',
      policyDigest: 'd',
      watermarks: {},
      users: 'x',
    })
    await new BlockBlobClient(url, credential).upload(bad, Buffer.byteLength(bad))
    const store = stateIn(url)
    const loaded = await store.load()
    expect(loaded.state).toBeUndefined()
    expect(loaded.unusable).toMatch(/users/)
    expect(await store.save(state('2026-12-01T10:00:00.000Z'), loaded)).toBe(true)
    expect((await store.load()).state?.watermarks.users).toBe('2026-12-01T10:00:00.000Z')
  })
})
