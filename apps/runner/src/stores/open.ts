import type { BlobClients } from './blobClients.js'
import { BlobTextStore, type BlobTextStoreOptions } from './blobStore.js'
import { FileTextStore } from './fileStore.js'
import { isRemote } from './location.js'
import type { TextStore } from './textStore.js'

/**
 * The one place "a file or a blob" is decided for a document. `blobs` is asked for only when the
 * location is a blob: a run that keeps everything in files never builds a Storage credential.
 */
export async function openTextStore(
  location: string,
  blobs: () => Promise<BlobClients>,
  options: BlobTextStoreOptions = {},
): Promise<TextStore> {
  if (!isRemote(location)) return new FileTextStore(location)
  return new BlobTextStore(location, await blobs(), options)
}
