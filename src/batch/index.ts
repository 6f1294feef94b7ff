/** `fleet batch`: prompts over a folder of documents, resumable, as fast as the fleet allows (docs/batch.md). */
export {
  BUILTIN_PRESETS,
  findPreset,
  loadPresetsFile,
  parsePresets,
  promptsFromTemplates,
} from './presets.ts';
export type { Preset, PromptSpec } from './presets.ts';
export {
  PLACEHOLDERS,
  buildMessages,
  buildCombineMessages,
  checkTemplate,
  renderTemplate,
  type ResolvedPrompt,
} from './template.ts';
export { DEFAULT_EXTENSIONS, discoverFiles, normaliseExtensions, type FoundFile } from './discover.ts';
export { extractDocument, htmlToText, looksBinary, type Extracted } from './extract.ts';
export {
  documentBudgetChars,
  fitDocument,
  FALLBACK_CONTEXT_TOKENS,
  type Fitted,
  type LongDocMode,
} from './fit.ts';
export { Journal, type JobIdentity, type TaskRecord } from './journal.ts';
export { jobIdentity, planTasks, taskId, type DocumentInfo, type Task } from './plan.ts';
export { DEFAULT_MAX_TOKENS, prepareBatch, type BatchOptions, type PreparedBatch } from './prepare.ts';
export { runTasks, type RunOutcome, type RunTasksOptions } from './run.ts';
export {
  runBatch,
  type BatchHooks,
  type BatchProgress,
  type BatchResult,
  type BatchStartInfo,
} from './job.ts';
export { finalBlock, progressLine, resultsJson, type BatchSummary, type WorkerSummary } from './report.ts';
