import type { Credential } from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'
import { FileLedger } from './fileLedger.js'
import type { Ledger } from './ledger.js'

/** A file path opens a local ledger; an https URL a blob ledger in Azure Storage. */
export async function openLedger(
  config: RunnerConfig,
  credential: () => Promise<Credential>,
): Promise<Ledger> {
  if (/^https?:\/\//i.test(config.ledger)) {
    const { openBlobLedger } = await import('./blobLedger.js')
    return openBlobLedger(config, await credential())
  }
  return new FileLedger(config.ledger, { maxRuntimeMs: config.maxRuntimeMs })
}
