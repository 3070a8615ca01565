import { randomUUID } from 'node:crypto'
import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { LedgerLockedError } from '../errors.js'
import { FileTextStore } from '../stores/fileStore.js'
import {
  type Ledger,
  type LedgerEntry,
  type LockState,
  ledgerText,
  parseLedgerLines,
  SerialWrites,
} from './ledger.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * What a lock file says about its holder. Older versions wrote no host (they ran on this one) and no
 * incarnation (their process is gone: any process that wrote one is this version or later).
 */
interface Holder {
  host: string | undefined
  pid: number
  at: string
  incarnation: string | undefined
}

function readHolder(text: string): Holder | undefined {
  try {
    const v = JSON.parse(text) as Partial<Holder>
    if (typeof v.pid !== 'number' || typeof v.at !== 'string') return undefined
    return {
      host: typeof v.host === 'string' ? v.host : undefined,
      pid: v.pid,
      at: v.at,
      incarnation: typeof v.incarnation === 'string' ? v.incarnation : undefined,
    }
  } catch {
    // A lock file torn by a crash during its own write.
    return undefined
  }
}

export interface FileLedgerOptions {
  /** The job's maximum runtime: a lock older than this outlived its run (TOURNIQUET_MAX_RUNTIME). */
  maxRuntimeMs?: number
  /** This machine's name (tests stand in for another host). */
  host?: string
  now?: () => number
}

/**
 * This process among every process that ever had its pid: in a container every run is pid 1, so a
 * lock naming our pid was written by us only if it also names this incarnation (a constant, not state).
 */
const INCARNATION = randomUUID()

/** How long a run may hold the lock when no maximum runtime is given (the job's default). */
const DEFAULT_MAX_RUNTIME_MS = 20 * 60_000

/**
 * A local JSON-lines ledger with a lock file beside it (`<path>.lock`, created exclusively, naming
 * host, pid and when it was taken). A lock is taken over when it outlived the maximum runtime, when
 * its process is gone, or when its pid is our own (in a container every run is pid 1, so "pid 1 is
 * alive" proves nothing). A lock from another host that is younger than the maximum runtime cannot
 * be checked: acquiring throws, so the run exits non-zero instead of skipping silently (decision 010).
 */
export class FileLedger implements Ledger {
  readonly location: string
  takenOver: string | undefined
  private readonly lockPath: string
  /** The ledger's lines: the storage seam's file (the lock file beside it is this class's own). */
  private readonly store: FileTextStore
  private readonly maxRuntimeMs: number
  private readonly host: string
  private readonly now: () => number
  private locked = false

  constructor(
    private readonly path: string,
    options: FileLedgerOptions = {},
  ) {
    this.location = path
    this.lockPath = `${path}.lock`
    this.store = new FileTextStore(path)
    this.maxRuntimeMs = options.maxRuntimeMs ?? DEFAULT_MAX_RUNTIME_MS
    this.host = options.host ?? hostname()
    this.now = options.now ?? Date.now
  }

  async acquire(): Promise<boolean> {
    await mkdir(dirname(this.path), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockPath, 'wx')
        const holder: Holder = {
          host: this.host,
          pid: process.pid,
          at: new Date(this.now()).toISOString(),
          incarnation: INCARNATION,
        }
        await handle.writeFile(JSON.stringify(holder))
        await handle.close()
        this.locked = true
        return true
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const holder = readHolder(await readFile(this.lockPath, 'utf8').catch(() => ''))
        const stale = this.staleness(holder)
        if (stale === 'held') return false
        this.takenOver = `took over the ledger lock ${this.lockPath}: ${stale}`
        await unlink(this.lockPath).catch(() => undefined)
      }
    }
    return false
  }

  async lockState(): Promise<LockState> {
    const text = await readFile(this.lockPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (text === undefined) return { held: false, detail: 'no lock file' }
    const holder = readHolder(text)
    const who = holder ? `host ${holder.host ?? 'unknown'}, pid ${holder.pid}, since ${holder.at}` : 'unknown'
    try {
      const stale = this.staleness(holder)
      return stale === 'held'
        ? { held: true, detail: `held by ${who}` }
        : { held: false, detail: `a stale lock the next run takes over (${stale})` }
    } catch {
      // Another host's lock within the maximum runtime: its run may be going on.
      return { held: true, detail: `held by ${who}` }
    }
  }

  /** Why the lock can be taken over, or 'held' when its run may still be going; throws when unknowable. */
  private staleness(holder: Holder | undefined): string {
    if (!holder) return 'the lock file is unreadable (torn by a crash)'
    const who = `host ${holder.host ?? 'unknown'}, pid ${holder.pid}, since ${holder.at}`
    const age = this.now() - Date.parse(holder.at)
    if (!(age <= this.maxRuntimeMs)) return `held by ${who}, longer than the maximum runtime`
    const here = holder.host === undefined || holder.host === this.host
    if (!here)
      throw new LedgerLockedError(this.lockPath, who, new Date(Date.parse(holder.at) + this.maxRuntimeMs))
    // Written by this very process (another session of `watch`, or a run still going): held.
    if (holder.pid === process.pid && holder.incarnation === INCARNATION) return 'held'
    if (holder.pid === process.pid) return `held by ${who}: that pid is this process, so its holder is gone`
    if (holder.pid <= 0 || !alive(holder.pid)) return `held by ${who}, a process that no longer exists`
    return 'held'
  }

  async release(): Promise<void> {
    if (!this.locked) return
    this.locked = false
    await unlink(this.lockPath).catch(() => undefined)
  }

  async load(): Promise<LedgerEntry[]> {
    const stored = await this.store.read()
    return parseLedgerLines(stored === undefined || stored === 'unchanged' ? '' : stored.text, this.path)
  }

  private readonly writes = new SerialWrites()

  /** Appends are serialized: concurrent groups must not interleave their lines. */
  append(entries: LedgerEntry[]): Promise<void> {
    return this.writes.run(() => this.write(entries))
  }

  private async write(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return
    // Mode 0600, never through a symbolic link, synced before the call leaves (the store does all
    // three): the intent must be on disk before the request leaves, or a crash could lose it.
    await this.store.append(ledgerText(entries))
  }
}
