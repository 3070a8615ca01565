/**
 * Files the runner writes that hold the tenant's state (the ledger, the report): readable by the job's
 * user only, and never written through a symbolic link, so another local user can neither read them
 * nor point them at a file of their choosing.
 */
import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'

const { O_WRONLY, O_CREAT, O_APPEND, O_TRUNC, O_NOFOLLOW } = constants

/** Opens `path` for writing with mode 0600, refusing a symbolic link (ELOOP) with a clear message. */
export async function openPrivate(path: string, how: 'append' | 'truncate'): Promise<FileHandle> {
  const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (how === 'append' ? O_APPEND : O_TRUNC)
  let handle: FileHandle
  try {
    handle = await open(path, flags, 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new Error(`${path} is a symbolic link; refusing to write through it`, { cause: e })
    throw e
  }
  // The mode given to open applies only to a new file; an existing one is narrowed too, when it is
  // ours to change (EPERM: another user's file we may write; leave its mode to its owner).
  await handle.chmod(0o600).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPERM') return
    await handle.close()
    throw e
  })
  return handle
}
