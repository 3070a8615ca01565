import type { ReadOptions, Stored, TextStore } from './textStore.js'

/** A TextStore in memory: the demo's and the tests' storage, with the same conditional semantics. */
export class MemoryTextStore implements TextStore {
  private text: string | undefined
  private generation = 0

  constructor(
    readonly location = 'memory',
    initial?: string,
  ) {
    if (initial !== undefined) this.set(initial)
  }

  private set(text: string): string {
    this.text = text
    this.generation++
    return `m${this.generation}`
  }

  async read(options: ReadOptions = {}): Promise<Stored | 'unchanged' | undefined> {
    if (this.text === undefined) return undefined
    const version = `m${this.generation}`
    if (options.unlessVersion === version) return 'unchanged'
    const bytes = Buffer.from(this.text)
    const max = options.maxBytes ?? bytes.length
    return { text: bytes.subarray(0, max).toString('utf8'), version, totalBytes: bytes.length }
  }

  async replaceIf(text: string, version: string | undefined): Promise<string | undefined> {
    const current = this.text === undefined ? undefined : `m${this.generation}`
    if (current !== version) return undefined
    return this.set(text)
  }

  async append(text: string): Promise<void> {
    this.set(`${this.text ?? ''}${text}`)
  }
}
