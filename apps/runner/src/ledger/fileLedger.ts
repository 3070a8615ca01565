import { appendFile, mkdir, open, readFile, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { openPrivate } from '../privateFile.js'
import { type Ledger, type LedgerEntry, parseLedgerLines } from './ledger.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A local JSON-lines ledger with a lock file beside it (`<path>.lock`, created exclusively). A lock
 * left by a process that no longer exists (a crash, SIGKILL) is taken over.
 */
export class FileLedger implements Ledger {
  readonly location: string
  private readonly lockPath: string
  private locked = false

  constructor(private readonly path: string) {
    this.location = path
    this.lockPath = `${path}.lock`
  }

  async acquire(): Promise<boolean> {
    await mkdir(dirname(this.path), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockPath, 'wx')
        await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }))
        await handle.close()
        this.locked = true
        return true
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const holder = await readFile(this.lockPath, 'utf8').catch(() => '')
        let pid = 0
        try {
          pid = Number((JSON.parse(holder) as { pid?: number }).pid ?? 0)
        } catch {
          // A lock file torn by a crash during its own write: treat as stale.
        }
        if (pid > 0 && alive(pid)) return false
        await unlink(this.lockPath).catch(() => undefined)
      }
    }
    return false
  }

  async release(): Promise<void> {
    if (!this.locked) return
    this.locked = false
    await unlink(this.lockPath).catch(() => undefined)
  }

  async load(): Promise<LedgerEntry[]> {
    const text = await readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return ''
      throw e
    })
    return parseLedgerLines(text, this.path)
  }

  private tail: Promise<void> = Promise.resolve()

  /** Appends are serialized: concurrent groups must not interleave their lines. */
  append(entries: LedgerEntry[]): Promise<void> {
    const turn = this.tail.then(() => this.write(entries))
    this.tail = turn.catch(() => undefined)
    return turn
  }

  private async write(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return
    // Mode 0600, never through a symbolic link: the ledger says what was done to whom.
    const handle = await openPrivate(this.path, 'append')
    try {
      await appendFile(handle, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
      // The intent must be on disk before the request leaves, or a crash could lose it.
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}
