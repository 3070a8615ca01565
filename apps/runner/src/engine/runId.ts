import { randomBytes } from 'node:crypto'

/** A run's id: its start time (sortable, readable in the ledger) and a random suffix (two runs in one second). */
export function newRunId(now: Date): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}z-${randomBytes(3).toString('hex')}`
}
