/**
 * The evidence state as a document in a TextStore (stores/): `<ledger>.evidence.json` beside a file
 * ledger, or the blob TOURNIQUET_EVIDENCE names. A save is conditional on the version the run loaded:
 * two overlapping runs, a plan run beside an apply run say, cannot make the watermark go back; the
 * later save is dropped and the next run re-reads from the saved watermark. Nothing is lost either
 * way: the state is a cache.
 */
import { isRunnerError } from '../errors.js'
import { beside } from '../stores/location.js'
import type { TextStore } from '../stores/textStore.js'
import { parseDocument, type StateDocument, stateOf, storedForm } from './format.js'
import type { EvidenceState } from './state.js'

/** `<ledger>.evidence.json`: where the state lives unless TOURNIQUET_EVIDENCE says otherwise. */
export const evidenceLocation = (ledger: string): string => beside(ledger, '.evidence.json')

export interface Loaded {
  /** Undefined when there is no state yet, or it cannot be used. */
  state: EvidenceState | undefined
  /** Why the stored state cannot be used (it is then replaced by the next save). */
  unusable?: string
  /** The version the save is conditional on (undefined: there must still be none). */
  version: string | undefined
  /** Stored in an older format: saved in the current one even when nothing changed. */
  outdated?: boolean
}

/** What the state cost a run: bytes read and written, and the time spent reading, checking and writing it. */
export interface StateIo {
  bytesRead: number
  bytesWritten: number
  ms: number
}

export interface EvidenceStore {
  readonly location: string
  load(): Promise<Loaded>
  /** Saves when the stored version is still `loaded.version`; false when another run saved first. */
  save(state: EvidenceState, loaded: Loaded): Promise<boolean>
  /** What loads and saves through this store have cost so far. */
  readonly io: Readonly<StateIo>
}

/**
 * The state last loaded or saved, by version: `tourniquet watch` reads a large state every 15 s,
 * and parsing and checking it costs more than the run's reads. Owned by the session (watch keeps
 * one across its runs). It keeps the checked document (columns of strings and numbers that no run
 * changes, and the body once a run parsed it) and hands out a fresh state made from it, since a run
 * changes the users it touches.
 */
export class StateCache {
  private known: { version: string; document: StateDocument } | undefined

  remember(version: string, document: StateDocument): void {
    this.known = { version, document }
  }

  /** The version a read may be answered 'unchanged' for. */
  get version(): string | undefined {
    return this.known?.version
  }

  recall(version: string): Loaded | undefined {
    const k = this.known
    return k?.version === version ? loadedOf(k.document, version) : undefined
  }
}

const loadedOf = (document: StateDocument, version: string): Loaded => ({
  state: stateOf(document),
  version,
  ...(document.stored < 4 ? { outdated: true } : {}),
})

/** The state document over a store; `cache` saves parsing an unchanged document again. */
export function evidenceStore(text: TextStore, cache = new StateCache()): EvidenceStore {
  const io: StateIo = { bytesRead: 0, bytesWritten: 0, ms: 0 }
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    try {
      return await work()
    } finally {
      io.ms += performance.now() - started
    }
  }
  /** The state parsed, or why it cannot be used: a cache of Graph, so never a failed run. */
  const parsed = (raw: string, version: string): Loaded => {
    io.bytesRead += Buffer.byteLength(raw)
    try {
      const document = parseDocument(raw, text.location)
      const loaded = loadedOf(document, version)
      cache.remember(version, document)
      return loaded
    } catch (e) {
      if (!isRunnerError(e) || e.code !== 'TQ_RUNNER_STATE_UNUSABLE') throw e
      return { state: undefined, version, unusable: e.message }
    }
  }
  return {
    location: text.location,
    io,
    load: () =>
      timed(async (): Promise<Loaded> => {
        const cached = cache.version
        // A watch iteration reads the state only when it changed ('unchanged' otherwise).
        const stored = await text.read(cached === undefined ? {} : { unlessVersion: cached })
        if (stored === undefined) return { state: undefined, version: undefined }
        if (stored === 'unchanged') {
          const again = cached === undefined ? undefined : cache.recall(cached)
          if (again) return again
          return parsed(await textOf(text), cached as string)
        }
        return parsed(stored.text, stored.version)
      }),
    save: (state: EvidenceState, loaded: Loaded) =>
      timed(async (): Promise<boolean> => {
        const { text: raw, document } = storedForm(state, text.location)
        const version = await text.replaceIf(raw, loaded.version)
        if (version === undefined) return false
        io.bytesWritten += Buffer.byteLength(raw)
        cache.remember(version, document)
        return true
      }),
  }
}

/** The whole document (after an 'unchanged' the cache no longer explains). */
async function textOf(text: TextStore): Promise<string> {
  const stored = await text.read()
  return stored === undefined || stored === 'unchanged' ? '' : stored.text
}
