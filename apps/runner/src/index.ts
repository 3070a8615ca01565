/** @tourniquet/runner: the remediation job as a library (the CLI is dist/cli.js). */

export type { RunOptions, RunResult } from './commands/run.js'
export { runJob } from './commands/run.js'
export type { UndoOptions } from './commands/undo.js'
export { runUndo } from './commands/undo.js'
export type { Applied, ApplyContext } from './engine/apply.js'
export { applySteps } from './engine/apply.js'
export { clientFromConfig, credentialFor } from './engine/client.js'
export { collectSignals } from './engine/collect.js'
export type { StepOutcome } from './engine/execute.js'
export { executeSteps } from './engine/execute.js'
export type { Lane } from './engine/lanes.js'
export { GROUP_MAX, LANES, laneOf } from './engine/lanes.js'
export { SessionCache } from './engine/session.js'
export type { CallOutcome, LedgerOutcome, LedgerPhase, SettledStatus, StepStatus } from './engine/status.js'
export { CALL_OUTCOMES, LEDGER_OUTCOMES, SETTLED_STATUSES, STEP_STATUSES } from './engine/status.js'
export { verifyEffects } from './engine/verify.js'
export type { ConfigOverrides, CredentialConfig, RunnerConfig } from './env.js'
export { loadConfig } from './env.js'
export type { RunnerErrorCode, SettingProblem } from './errors.js'
export {
  isRunnerError,
  LedgerCorruptError,
  NoOutcomeError,
  RUNNER_ERROR_CODES,
  RunnerError,
  SettingsError,
} from './errors.js'
export type { EvidenceState } from './evidence/state.js'
export type { EvidenceStore, Loaded } from './evidence/store.js'
export { evidenceLocation, evidenceStore, StateCache } from './evidence/store.js'
export type { ExitCode } from './exit.js'
export { EXIT } from './exit.js'
export { BlobLedger } from './ledger/blobLedger.js'
export { FileLedger } from './ledger/fileLedger.js'
export type { Ledger, LedgerEntry } from './ledger/ledger.js'
export { latestByKey, ledgerKey } from './ledger/ledger.js'
export type { StepRecord, Summary } from './outputs/audit.js'
export { Audit, stepRecord } from './outputs/audit.js'
export type { Audience, Setting, SettingName } from './settings.js'
export { SETTING_NAMES, SETTINGS, settingOf } from './settings.js'
export type { BlobClients } from './stores/blobClients.js'
export { blobClients } from './stores/blobClients.js'
export { BlobTextStore } from './stores/blobStore.js'
export { FileTextStore } from './stores/fileStore.js'
export { MemoryTextStore } from './stores/memoryStore.js'
export type { Stored, TextStore } from './stores/textStore.js'
