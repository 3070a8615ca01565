/**
 * The storage seam: one text document that can be read with its version, replaced only while it is
 * still at a version, and appended to. The evidence state (replaced whole) and the approval trails
 * (appended) are formats over it; a file, a blob and memory implement it.
 */

export interface Stored {
  text: string
  /** What a conditional replace names (an ETag, or a file's size and time). */
  version: string
  /** The whole document's size: more than `text` when a read was capped. */
  totalBytes: number
}

export interface ReadOptions {
  /** Read at most this many bytes from the start. */
  maxBytes?: number
  /** When the document is still at this version, answer 'unchanged' without its text. */
  unlessVersion?: string
}

export interface TextStore {
  /** For lines and messages: never holds a credential (a SAS query is dropped). */
  readonly location: string
  /** The document, 'unchanged' (see ReadOptions), or undefined when nothing is stored yet. */
  read(options?: ReadOptions): Promise<Stored | 'unchanged' | undefined>
  /**
   * Replaces the document while it is still at `version` (undefined: while there is none) and
   * returns the new version; undefined when another writer changed it first.
   */
  replaceIf(text: string, version: string | undefined): Promise<string | undefined>
  /** Appends at the end (creates the document when there is none). */
  append(text: string): Promise<void>
}
