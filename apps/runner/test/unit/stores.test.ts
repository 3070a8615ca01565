/**
 * The storage seam's contract, held by every implementation the runner ships in src: a read gives
 * the text and a version, a replace succeeds only at the version it names, appends add to the end,
 * a capped read says how much there was. The blob implementation is held to it against Azurite in
 * test/e2e (evidenceState, approvalsBlob).
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileTextStore } from '../../src/stores/fileStore.js'
import { beside, isRemote } from '../../src/stores/location.js'
import { MemoryTextStore } from '../../src/stores/memoryStore.js'
import type { TextStore } from '../../src/stores/textStore.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tq-stores-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

let n = 0
const kinds: Array<[string, () => TextStore]> = [
  ['memory', () => new MemoryTextStore()],
  ['file', () => new FileTextStore(join(dir, `doc-${++n}`, 'state.json'))],
]

describe.each(kinds)('a %s text store', (_kind, make) => {
  it('has nothing to read before the first write', async () => {
    expect(await make().read()).toBeUndefined()
  })

  it('replaces only at the version it names: a writer that read an older version loses', async () => {
    const store = make()
    const first = await store.replaceIf('one', undefined)
    expect(first).toBeDefined()
    // Created since none was found: a second "there is none" writer is refused.
    expect(await store.replaceIf('other', undefined)).toBeUndefined()
    const second = await store.replaceIf('two', first)
    expect(second).toBeDefined()
    expect(second).not.toBe(first)
    expect(await store.replaceIf('stale', first)).toBeUndefined()
    expect(await store.read()).toMatchObject({ text: 'two', version: second, totalBytes: 3 })
  })

  it("answers 'unchanged' to a reader that names the current version, and the text to any other", async () => {
    const store = make()
    const version = await store.replaceIf('{"a":1}', undefined)
    expect(await store.read({ unlessVersion: version as string })).toBe('unchanged')
    expect(await store.read({ unlessVersion: 'another' })).toMatchObject({ text: '{"a":1}' })
  })

  it('appends at the end, creating the document, and a capped read says how much there is', async () => {
    const store = make()
    await store.append('line 1\n')
    await store.append('line 2\n')
    expect(await store.read()).toMatchObject({ text: 'line 1\nline 2\n', totalBytes: 14 })
    expect(await store.read({ maxBytes: 5 })).toMatchObject({ text: 'line ', totalBytes: 14 })
  })
})

describe('a file text store', () => {
  it('neither reads nor writes through a symbolic link', async () => {
    const target = join(dir, 'target')
    await writeFile(target, 'secret')
    const link = join(dir, 'link')
    await symlink(target, link)
    const store = new FileTextStore(link)
    await expect(store.read()).rejects.toThrow(/symbolic link/)
    await expect(store.append('x')).rejects.toThrow(/symbolic link/)
  })
})

describe('store locations', () => {
  it('tells a blob from a path, and puts a store beside another in its path, never in its query', () => {
    expect(isRemote('https://a.blob.core.windows.net/c/l')).toBe(true)
    expect(isRemote('/var/lib/tourniquet/ledger.jsonl')).toBe(false)
    expect(beside('https://a.blob.core.windows.net/c/ledger.jsonl?sv=1&sig=s', '.evidence.json')).toBe(
      'https://a.blob.core.windows.net/c/ledger.jsonl.evidence.json',
    )
    expect(beside('/data/ledger.jsonl', '.evidence.json')).toBe('/data/ledger.jsonl.evidence.json')
  })
})
