/**
 * The session owns what a command opens: the credential is read once, a lease it took is given back
 * when it ends (also after an error), and what a long-running process keeps across sessions (the
 * Storage credential, the parsed state) lives in a cache it disposes itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSession, SessionCache } from '../../src/engine/session.js'
import { loadConfig } from '../../src/env.js'
import { FileLedger } from '../../src/ledger/fileLedger.js'

const BASE = {
  AZURE_TENANT_ID: '72f988bf-0000-4000-a000-000000000001',
  AZURE_CLIENT_ID: 'a11c0000-0000-4000-a000-00000000c11e',
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tq-session-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('a session', () => {
  it('reads a certificate credential once: a second use does not read the file again', async () => {
    const pem = join(dir, 'app.pem')
    await writeFile(pem, '-----BEGIN PRIVATE KEY-----\nfirst\n-----END PRIVATE KEY-----\n')
    const config = loadConfig(
      {},
      { ...BASE, AZURE_CLIENT_CERTIFICATE_PATH: pem, TOURNIQUET_LEDGER: join(dir, 'l1') },
    )
    await using session = openSession(config)
    const first = await session.credential()
    await writeFile(pem, 'changed on disk')
    expect(await session.credential()).toBe(first)
    expect(first).toMatchObject({ kind: 'certificate', pem: expect.stringContaining('first') })
  })

  it('gives the lease back when it ends, even when the command failed', async () => {
    const ledger = join(dir, 'l2.jsonl')
    const config = loadConfig({}, { ...BASE, AZURE_CLIENT_SECRET: 's', TOURNIQUET_LEDGER: ledger })
    const attempt = async () => {
      await using session = openSession(config)
      expect(await session.lease()).toBe(true)
      // Another holder is refused while the session holds it.
      expect(await new FileLedger(ledger).acquire()).toBe(false)
      throw new Error('the command failed')
    }
    await expect(attempt()).rejects.toThrow('the command failed')
    const next = new FileLedger(ledger)
    expect(await next.acquire()).toBe(true)
    await next.release()
  })

  it('stops when asked to, or when its ledger lost the lease', async () => {
    const config = loadConfig({}, { ...BASE, AZURE_CLIENT_SECRET: 's', TOURNIQUET_LEDGER: join(dir, 'l3') })
    const stop = new AbortController()
    const lost = new AbortController()
    const ledger = Object.assign(new FileLedger(join(dir, 'l3')), { lost: lost.signal })
    await using session = openSession(config, { stopSignal: stop.signal, ledger })
    expect(session.stopping()).toBe(false)
    await session.ledger()
    lost.abort()
    expect(session.stopping()).toBe(true)
    stop.abort()
    expect(session.stopping()).toBe(true)
  })
})

describe('a session cache', () => {
  it('keeps one Storage credential for the process and one parsed state per location', async () => {
    const cache = new SessionCache()
    let made = 0
    let closed = 0
    const make = () => {
      made++
      return { getToken: async () => null, close: async () => void closed++ }
    }
    expect(cache.storageCredential(make)).toBe(cache.storageCredential(make))
    expect(made).toBe(1)
    expect(cache.stateCache('a')).toBe(cache.stateCache('a'))
    expect(cache.stateCache('a')).not.toBe(cache.stateCache('b'))
    await cache[Symbol.asyncDispose]()
    expect(closed).toBe(1)
  })
})
