import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileLedger, type LedgerEntry, latestByKey } from '../src/index.js'

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  runId: 'r1',
  at: '2026-01-01T00:00:00Z',
  phase: 'intent',
  userId: 'u',
  userPrincipalName: 'u@c.com',
  action: 'disable',
  evidenceKey: 'e',
  route: 'entra:disable',
  ...over,
})

describe('file ledger', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-ledger-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('appends and reads back; the latest entry per user, action and evidence wins', async () => {
    const ledger = new FileLedger(join(dir, 'l.jsonl'))
    await ledger.append([entry(), entry({ userId: 'v' })])
    await ledger.append([entry({ phase: 'done', outcome: 'succeeded' })])
    const latest = latestByKey(await ledger.load())
    expect(latest.get('u|disable|e')).toMatchObject({ phase: 'done', outcome: 'succeeded' })
    expect(latest.get('v|disable|e')).toMatchObject({ phase: 'intent' })
  })

  it('lets one holder take the lock at a time', async () => {
    const a = new FileLedger(join(dir, 'l.jsonl'))
    const b = new FileLedger(join(dir, 'l.jsonl'))
    expect(await a.acquire()).toBe(true)
    expect(await b.acquire()).toBe(false)
    await a.release()
    expect(await b.acquire()).toBe(true)
    await b.release()
  })

  it('takes over a lock left by a process that no longer exists', async () => {
    const child = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => child.on('exit', r))
    await writeFile(join(dir, 'l.jsonl.lock'), JSON.stringify({ pid: child.pid, at: 'then' }))
    const ledger = new FileLedger(join(dir, 'l.jsonl'))
    expect(await ledger.acquire()).toBe(true)
    expect(JSON.parse(await readFile(join(dir, 'l.jsonl.lock'), 'utf8')).pid).toBe(process.pid)
    await ledger.release()
  })

  it('tolerates a torn last line (a crash mid-write) but not corruption in the middle', async () => {
    const path = join(dir, 'l.jsonl')
    await writeFile(path, `${JSON.stringify(entry())}\n{"runId":"r2","at`)
    expect(await new FileLedger(path).load()).toHaveLength(1)
    await writeFile(path, `${JSON.stringify(entry())}\nnot json\n${JSON.stringify(entry())}\n`)
    await expect(new FileLedger(path).load()).rejects.toThrow(/line 2 of the ledger is not JSON/)
  })
})
