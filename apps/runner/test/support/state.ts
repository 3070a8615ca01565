/**
 * The evidence state as a writer of it sees it, for tests that forge one: read through the runner's
 * own parser (version 4: a head and a body of columns), handed out in version 2's shape (one object
 * per record), which runs still read. A forged version 2 document is input exactly as a forged
 * version 4 one is.
 */
import { readFile } from 'node:fs/promises'
import { parseState } from '../../src/evidence/state.js'

// biome-ignore lint/suspicious/noExplicitAny: a forger edits whatever it likes
export type ForgeableState = Record<string, any> & { users: any[]; detections: any[] }

export async function readAsVersion2(at: string): Promise<ForgeableState> {
  const saved = parseState(await readFile(at, 'utf8'), at)
  return {
    ...saved,
    version: 2,
    users: [...saved.users.values()],
    detections: [...saved.detections.values()],
  }
}
