import type { TaskRecord } from './journal.ts';
import type { Task } from './plan.ts';

/** Per-worker figures of a run. */
export interface WorkerSummary {
  id: string;
  /** Tasks this run finished on it. */
  tasks: number;
  /** Share of the run's wall time it had at least one request in flight (0-1). */
  utilisation: number;
  promptTokens: number;
  cachedTokens: number;
}

export interface BatchSummary {
  /** ISO time the output was written. */
  timestamp: string;
  files: number;
  prompts: string[];
  totalTasks: number;
  successful: number;
  failed: number;
  /** Tasks not run yet (interrupted). */
  pending: number;
  /** Finished in an earlier run and taken from the journal (not sent again). */
  resumed: number;
  /**
   * Seconds this run (this invocation) took, and the tasks it finished: `total_time_seconds` and
   * `tasks_per_second` are this run's, so the speed is what the fleet delivered, not inflated by
   * tasks taken from the journal.
   */
  totalTimeS: number;
  tasksThisRun: number;
  /** Seconds of every run of the job so far summed (this one included), and how many runs that was. */
  jobTimeS: number;
  runs: number;
  output: string;
  journal: string;
  workers: WorkerSummary[];
  skipped: Array<{ file: string; reason: string }>;
  unreadable: Array<{ file: string; reason: string }>;
  notices: Array<{ file: string; notice: string }>;
}

const pct = (n: number, d: number) => (d > 0 ? (n / d) * 100 : 0);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The records of the current tasks, in task order, each exactly once. */
export function currentRecords(tasks: Task[], journal: Map<string, TaskRecord>): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const t of tasks) {
    const r = journal.get(t.id);
    if (r) out.push(r);
  }
  return out;
}

/** One entry of `results[]`: the older tool's fields first, then ours. */
export function resultEntry(r: TaskRecord): Record<string, unknown> {
  return {
    file: r.file,
    prompt_template: r.promptTemplate,
    prompt: r.prompt,
    timestamp: r.timestamp,
    success: r.ok,
    ...(r.ok
      ? { response: { model: r.model ?? null, response: r.response ?? '' } }
      : { error: r.error ?? 'failed' }),
    prompt_name: r.promptName,
    worker: r.worker ?? null,
    usage: {
      prompt_tokens: r.promptTokens ?? 0,
      completion_tokens: r.completionTokens ?? 0,
      cached_tokens: r.cachedTokens ?? 0,
    },
    timings: {
      latency_s: round(r.latencyS),
      ttft_s: r.ttftS === undefined ? null : round(r.ttftS),
      queued_s: round(r.queuedS),
    },
    requests: r.requests,
    attempts: r.attempts,
    ...(r.notice === undefined ? {} : { notice: r.notice }),
  };
}

/** `processing_results.json`: every field and unit of the older tool, plus what this one measures. */
export function resultsJson(s: BatchSummary, records: TaskRecord[]): Record<string, unknown> {
  const prompt = s.workers.reduce((n, w) => n + w.promptTokens, 0);
  const cached = s.workers.reduce((n, w) => n + w.cachedTokens, 0);
  return {
    timestamp: s.timestamp,
    files_processed: s.files,
    prompts_used: s.prompts,
    total_tasks: s.totalTasks,
    successful: s.successful,
    failed: s.failed,
    success_rate: round(pct(s.successful, s.totalTasks), 2),
    total_time_seconds: round(s.totalTimeS),
    tasks_per_second: round(s.totalTimeS > 0 ? s.tasksThisRun / s.totalTimeS : 0),
    results: records.map(resultEntry),
    tasks_this_run: s.tasksThisRun,
    job_time_seconds: round(s.jobTimeS),
    runs: s.runs,
    pending_tasks: s.pending,
    resumed_tasks: s.resumed,
    workers: s.workers.map((w) => ({
      id: w.id,
      tasks: w.tasks,
      utilisation: round(w.utilisation),
      prompt_tokens: w.promptTokens,
      cached_tokens: w.cachedTokens,
    })),
    prefix_cache: {
      prompt_tokens: prompt,
      cached_tokens: cached,
      saved_fraction: round(prompt > 0 ? cached / prompt : 0),
    },
    skipped_files: s.skipped,
    unreadable_files: s.unreadable,
    notices: s.notices,
    journal: s.journal,
  };
}

/** The older tool's progress line: `Progress: 10.0% (50/500) | Elapsed: 30.2s | ETA: 272.1s`. */
export function progressLine(done: number, total: number, elapsedS: number, ranThisRun = done): string {
  const eta = ranThisRun > 0 ? (elapsedS / ranThisRun) * (total - done) : 0;
  return `Progress: ${pct(done, total).toFixed(1)}% (${done}/${total}) | Elapsed: ${elapsedS.toFixed(1)}s | ETA: ${eta.toFixed(1)}s`;
}

const RULE = '='.repeat(60);

/** The older tool's final block, plus per-worker utilisation, prefix-cache savings and failures. */
export function finalBlock(s: BatchSummary, failures: TaskRecord[]): string {
  const lines = [
    '',
    RULE,
    s.pending > 0 ? 'PROCESSING INTERRUPTED' : 'PROCESSING COMPLETE',
    RULE,
    `Files processed: ${s.files}`,
    `Total tasks: ${s.totalTasks}`,
    `Successful: ${s.successful}`,
    `Failed: ${s.failed}`,
    `Success rate: ${pct(s.successful, s.totalTasks).toFixed(1)}%`,
    `Total time: ${s.totalTimeS.toFixed(1)}s` +
      (s.runs > 1 ? ` (this run; the job took ${s.jobTimeS.toFixed(1)}s over ${s.runs} runs)` : ''),
    `Average speed: ${(s.totalTimeS > 0 ? s.tasksThisRun / s.totalTimeS : 0).toFixed(2)} tasks/sec` +
      (s.resumed > 0 ? ` (this run's ${s.tasksThisRun} tasks)` : ''),
  ];
  if (s.resumed > 0) lines.push(`Resumed: ${s.resumed} tasks from the journal (not sent again)`);
  if (s.pending > 0) lines.push(`Not run yet: ${s.pending} tasks`);
  if (s.workers.length > 0) {
    lines.push('', 'Worker utilization:');
    for (const w of s.workers) {
      lines.push(
        `  ${w.id}: ${w.tasks} tasks, ${(w.utilisation * 100).toFixed(1)}% busy, ` +
          `prefix cache ${pct(w.cachedTokens, w.promptTokens).toFixed(1)}% of ${w.promptTokens} prompt tokens`,
      );
    }
    const prompt = s.workers.reduce((n, w) => n + w.promptTokens, 0);
    const cached = s.workers.reduce((n, w) => n + w.cachedTokens, 0);
    lines.push(
      `Prefix cache: ${cached} of ${prompt} prompt tokens served from the workers' caches (${pct(cached, prompt).toFixed(1)}%)` +
        (prompt > 0 && cached === 0 ? ' - the workers report none (or do not report cached tokens)' : ''),
    );
  }
  for (const n of s.notices) lines.push(`Notice: ${n.file}: ${n.notice}`);
  for (const f of s.skipped) lines.push(`Skipped: ${f.file}: ${f.reason}`);
  for (const f of s.unreadable) lines.push(`Unreadable: ${f.file}: ${f.reason}`);
  if (failures.length > 0) {
    lines.push('', `Failed tasks (${failures.length}; run the same command again to retry them):`);
    for (const f of failures.slice(0, 50))
      lines.push(`  ${f.file} [${f.promptName}]: ${f.error ?? 'failed'}`);
    if (failures.length > 50) lines.push(`  ... and ${failures.length - 50} more (see the output file)`);
  }
  lines.push(`Results saved to: ${s.output}`, '');
  return lines.join('\n');
}

/** One Markdown report per document: the prompts as sections. */
export function markdownReport(file: string, title: string, records: TaskRecord[]): string {
  const out = [`# ${title}`, '', `Source: \`${file}\``, ''];
  for (const r of records) {
    out.push(`## ${r.promptName}`, '');
    if (r.notice) out.push(`> ${r.notice}`, '');
    out.push(r.ok ? (r.response ?? '').trim() : `**Failed:** ${r.error ?? 'unknown error'}`, '');
  }
  return out.join('\n');
}
