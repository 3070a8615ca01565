/** @tourniquet/runner: the remediation job as a library (the CLI is dist/cli.js). */

export type { Applied, ApplyContext } from './apply.js'
export { applySteps } from './apply.js'
export type { StepRecord, Summary } from './audit.js'
export { Audit, stepRecord } from './audit.js'
export { clientFromConfig, credentialFor } from './client.js'
export { collectSignals } from './collect.js'
export type { ConfigOverrides, CredentialConfig, RunnerConfig } from './env.js'
export { loadConfig } from './env.js'
export type { ConfigProblem, RunnerErrorCode } from './errors.js'
export {
  ConfigurationError,
  isRunnerError,
  LedgerCorruptError,
  NoOutcomeError,
  RUNNER_ERROR_CODES,
  RunnerError,
} from './errors.js'
export type { EvidenceState } from './evidence/state.js'
export type { EvidenceStore, Loaded } from './evidence/store.js'
export { evidenceLocation, evidenceStore, StateCache } from './evidence/store.js'
export type { StepOutcome } from './execute.js'
export { executeSteps } from './execute.js'
export type { ExitCode } from './exit.js'
export { EXIT } from './exit.js'
export type { Lane } from './lanes.js'
export { GROUP_MAX, LANES, laneOf } from './lanes.js'
export { BlobLedger } from './ledger/blobLedger.js'
export { FileLedger } from './ledger/fileLedger.js'
export type { Ledger, LedgerEntry } from './ledger/ledger.js'
export { latestByKey, ledgerKey } from './ledger/ledger.js'
export type { RunOptions, RunResult } from './run.js'
export { runJob } from './run.js'
export { SessionCache } from './session.js'
export type { CallOutcome, LedgerOutcome, LedgerPhase, SettledStatus, StepStatus } from './status.js'
export { CALL_OUTCOMES, LEDGER_OUTCOMES, SETTLED_STATUSES, STEP_STATUSES } from './status.js'
export type { BlobClients } from './stores/blobClients.js'
export { blobClients } from './stores/blobClients.js'
export { BlobTextStore } from './stores/blobStore.js'
export { FileTextStore } from './stores/fileStore.js'
export { MemoryTextStore } from './stores/memoryStore.js'
export type { Stored, TextStore } from './stores/textStore.js'
export type { UndoOptions } from './undo.js'
export { runUndo } from './undo.js'
export { verifyEffects } from './verify.js'
