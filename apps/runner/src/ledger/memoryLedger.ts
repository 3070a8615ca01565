import { MemoryTextStore } from '../stores/memoryStore.js'
import type { TextStore } from '../stores/textStore.js'
import { type Ledger, type LedgerEntry, ledgerText, parseLedgerLines, SerialWrites } from './ledger.js'

export interface MemoryLedgerOptions {
  /** Lines the ledger starts with (as if earlier runs had written them). */
  entries?: readonly LedgerEntry[]
  /** Sees every append once it is written (tests stop a run at a chosen point with it). */
  onAppend?: (entries: LedgerEntry[]) => void
}

/**
 * The ledger in memory, with the same format and the same lease rule as the others: its lines go
 * through the storage seam as text and are parsed back on every load, and a second holder is
 * refused while the lease is held. The demo's and the tests' ledger.
 */
export class MemoryLedger implements Ledger {
  readonly location: string
  private readonly store: TextStore
  private held = false
  private readonly writes = new SerialWrites()
  private readonly onAppend: ((entries: LedgerEntry[]) => void) | undefined

  constructor(options: MemoryLedgerOptions = {}) {
    this.store = new MemoryTextStore('memory:ledger', ledgerText(options.entries ?? []))
    this.location = this.store.location
    this.onAppend = options.onAppend
  }

  async acquire(): Promise<boolean> {
    if (this.held) return false
    this.held = true
    return true
  }

  async release(): Promise<void> {
    await this.writes.idle()
    this.held = false
  }

  async load(): Promise<LedgerEntry[]> {
    const stored = await this.store.read()
    return stored === undefined || stored === 'unchanged' ? [] : parseLedgerLines(stored.text, this.location)
  }

  append(entries: LedgerEntry[]): Promise<void> {
    return this.writes.run(async () => {
      if (entries.length === 0) return
      await this.store.append(ledgerText(entries))
      this.onAppend?.(entries)
    })
  }
}
