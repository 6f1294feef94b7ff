/** Measurement (DESIGN.md "Measurement"): the guide's benchmark, comparison and report. */
export {
  runBenchmark,
  BenchmarkRun,
  BENCH_DEFAULTS,
  type BenchmarkOptions,
  type BenchmarkDeps,
  type BenchEvents,
  type LevelStart,
  type Phase,
} from './run.ts';
export { builtinPrompts, syntheticPrompts, filePrompts, type PromptSource } from './prompts.ts';
export { closedLoop, openLoop, schedule, type LoadResult, type SendFn } from './load.ts';
export { sendAndRecord, type Sample, type SendOptions } from './recorder.ts';
export { aggregateLevel, jainIndex, type LevelInput } from './aggregate.ts';
export { explainLevel, explainScaling } from './explain.ts';
export { scalingPlan, scalingResult } from './scaling.ts';
export { judgeSelfCheck, processMonitor, type ProcessLoad, type ProcessMonitor } from './self-check.ts';
export { assertWritable, readResults, writeJson } from './results-file.ts';
export {
  compareResults,
  formatComparison,
  formatComparisonMarkdown,
  labelFor,
  type Comparison,
  type CompareRow,
} from './compare.ts';
export { renderHtmlReport, loadChartJs } from './html.ts';
export { printRun, formatLevel, formatScalingSummary, formatComplete } from './print.ts';
export { trackProgress, type ProgressOptions } from './progress.ts';
export type * from './types.ts';
