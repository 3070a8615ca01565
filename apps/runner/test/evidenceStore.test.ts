/**
 * The evidence state in a file (decision 015): what this process loaded or saved is reused while the
 * file is unchanged (a watch iteration does not parse 10,000 users again), handed out as copies a run
 * may change, and read afresh when another process wrote the file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EvidenceState } from '../src/evidence/state.js'
import { serializeState } from '../src/evidence/state.js'
import { type EvidenceStore, evidenceStore } from '../src/evidence/store.js'
import { FileTextStore } from '../src/stores/fileStore.js'

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
      },
    ],
  ]),
  detections: new Map(),
})

describe('the evidence state in a file', () => {
  let dir: string
  let store: EvidenceStore
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-evidence-'))
    store = evidenceStore(new FileTextStore(join(dir, 'ledger.jsonl.evidence.json')))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('hands out copies: a run that changes what it loaded does not change the next load', async () => {
    expect(await store.save(state('2026-12-01T10:00:00.000Z'), await store.load())).toBe(true)
    const first = await store.load()
    const user = first.state?.users.get('u1')
    if (user) user.directory = { accountEnabled: false, onPremisesSyncEnabled: false, userType: 'Member' }
    first.state?.users.delete('u1')
    const second = await store.load()
    expect(second.version).toBe(first.version)
    expect(second.state?.users.get('u1')?.directory).toBeUndefined()
  })

  it('reads a file another process wrote afresh, and saves only over the version it loaded', async () => {
    expect(await store.save(state('2026-12-01T10:00:00.000Z'), await store.load())).toBe(true)
    const stale = await store.load()
    await writeFile(
      join(dir, 'ledger.jsonl.evidence.json'),
      serializeState(state('2026-12-01T12:30:00.000Z')),
    )
    const fresh = await store.load()
    expect(fresh.state?.watermarks.users).toBe('2026-12-01T12:30:00.000Z')
    expect(await store.save(state('2026-12-01T11:00:00.000Z'), stale)).toBe(false)
    expect(await store.save(state('2026-12-01T13:00:00.000Z'), fresh)).toBe(true)
    expect((await store.load()).state?.watermarks.users).toBe('2026-12-01T13:00:00.000Z')
  })
})
