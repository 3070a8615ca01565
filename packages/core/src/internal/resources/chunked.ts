import { isAbortedError } from '../../errors.js'

export interface ChunkSuccess {
  ids: string[]
  requestId: string | undefined
  clientRequestId: string | undefined
}
export interface ChunkFailure {
  ids: string[]
  error: Error
}
/** Outcome of a bulk call split into chunks: which ids went through in which request, which did not. */
export interface BulkResult {
  succeeded: ChunkSuccess[]
  failed: ChunkFailure[]
}

export function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size))
  return out
}

/**
 * Runs `send` for each chunk in order. One chunk's failure does not stop the others (each id's
 * outcome is reported); an abort does.
 */
export async function runChunks(
  ids: readonly string[],
  size: number,
  send: (ids: string[]) => Promise<{ requestId: string | undefined; clientRequestId: string | undefined }>,
): Promise<BulkResult> {
  const result: BulkResult = { succeeded: [], failed: [] }
  for (const part of chunk([...new Set(ids)], size)) {
    try {
      const r = await send(part)
      result.succeeded.push({ ids: part, ...r })
    } catch (error) {
      if (isAbortedError(error)) throw error
      result.failed.push({ ids: part, error: error as Error })
    }
  }
  return result
}
