import { constants } from 'node:fs'
import { mkdir, open, rename, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { openPrivate } from './privateFile.js'
import type { ReadOptions, Stored, TextStore } from './textStore.js'

/**
 * A TextStore in a local file, written as the ledger is (mode 0600, never through a symbolic link)
 * and read without following one. The version is the file's size and modification time.
 */
export class FileTextStore implements TextStore {
  constructor(readonly location: string) {}

  private async version(): Promise<string | undefined> {
    const s = await stat(this.location).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    return s === undefined ? undefined : `${s.size}:${s.mtimeMs}`
  }

  async read(options: ReadOptions = {}): Promise<Stored | 'unchanged' | undefined> {
    let handle: Awaited<ReturnType<typeof open>>
    try {
      // Not through a symbolic link another local user may have planted.
      handle = await open(this.location, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return undefined
      if (code === 'ELOOP')
        throw new Error(`${this.location} is a symbolic link; refusing to read through it`, { cause: e })
      throw e
    }
    try {
      const s = await handle.stat()
      const version = `${s.size}:${s.mtimeMs}`
      if (options.unlessVersion === version) return 'unchanged'
      const buffer = Buffer.alloc(Math.min(s.size, options.maxBytes ?? s.size))
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
      return { text: buffer.subarray(0, bytesRead).toString('utf8'), version, totalBytes: s.size }
    } finally {
      await handle.close()
    }
  }

  async replaceIf(text: string, version: string | undefined): Promise<string | undefined> {
    if ((await this.version()) !== version) return undefined
    await mkdir(dirname(this.location), { recursive: true })
    // Written whole to a private temporary file, then renamed: a reader never sees half a document.
    const temporary = `${this.location}.${process.pid}.tmp`
    const handle = await openPrivate(temporary, 'truncate')
    try {
      await handle.writeFile(text)
    } finally {
      await handle.close()
    }
    await rename(temporary, this.location)
    return this.version()
  }

  async append(text: string): Promise<void> {
    await mkdir(dirname(this.location), { recursive: true })
    const handle = await openPrivate(this.location, 'append')
    try {
      await handle.appendFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}
