import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Fleet } from '../fleet/index.ts';
import { documentBudgetChars, FALLBACK_CONTEXT_TOKENS, fitDocument } from './fit.ts';
import type { TaskRecord } from './journal.ts';
import { planTasks, type Task } from './plan.ts';
import type { PreparedBatch } from './prepare.ts';
import {
  currentRecords,
  finalBlock,
  markdownReport,
  resultEntry,
  resultsJson,
  type BatchSummary,
} from './report.ts';
import { runTasks } from './run.ts';

export interface BatchProgress {
  /** Finished, including tasks resumed from the journal. */
  done: number;
  /** Finished by this run. */
  ran: number;
  total: number;
  failed: number;
  elapsedS: number;
  /** Tasks finished this run per worker. */
  perWorker: Record<string, number>;
}

export interface BatchStartInfo {
  /** Tasks of the job, and how many of them the journal already holds. */
  total: number;
  resumed: number;
  /** To send now (new, changed, or failed before). */
  pending: number;
  contextTokens: number;
  /** Where the context length came from: 'config/probe' or 'assumed' (nobody reported one). */
  contextSource: 'config/probe' | 'assumed';
  budgetChars: number;
  /** Documents cut or split to fit, with how. */
  notices: Array<{ file: string; notice: string }>;
}

export interface BatchHooks {
  onStart?: (info: BatchStartInfo) => void;
  onTask?: (record: TaskRecord, progress: BatchProgress) => void;
  /** Aborting stops the run: finished tasks are kept, in-flight ones are sent again next time. */
  signal?: AbortSignal;
  clock?: Clock;
  /** settings.max_concurrent_batch, used when the options set no maxConcurrent. @default 50 */
  defaultMaxConcurrent?: number;
}

export interface BatchResult {
  summary: BatchSummary;
  /** The job's results (current tasks, each once), as written to the output. */
  records: TaskRecord[];
  failures: TaskRecord[];
  interrupted: boolean;
  /** Every task succeeded and every file was read. */
  ok: boolean;
  /** The older tool's final block plus ours, ready to print. */
  text: string;
}

/** The smallest context among the workers that may serve the job (config, else a probe). */
async function contextLength(
  fleet: Fleet,
  model: string | undefined,
): Promise<{ tokens: number; known: boolean }> {
  const workers = fleet.workers.filter(
    (w) => w.serves(model) && (w.state === 'healthy' || w.state === 'degraded'),
  );
  const values = await Promise.all(
    workers.map(
      async (w) => w.config.contextLength ?? (await w.backend.probe().catch(() => undefined))?.contextLength,
    ),
  );
  const known = values.filter((v): v is number => typeof v === 'number' && v > 0);
  return known.length > 0
    ? { tokens: Math.min(...known), known: true }
    : { tokens: FALLBACK_CONTEXT_TOKENS, known: false };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Runs a prepared job over `fleet`: plans the tasks, skips those the journal holds, sends the
 * rest (committing each to the journal the moment it finishes), then writes the output JSON, the
 * Markdown reports and the JSONL from the journal. The fleet is not closed here.
 */
export async function runBatch(
  prep: PreparedBatch,
  fleet: Fleet,
  hooks: BatchHooks = {},
): Promise<BatchResult> {
  const clock = hooks.clock ?? systemClock;
  const o = prep.options;
  await fleet.ready();
  const ctx = await contextLength(fleet, o.model);
  const longest = prep.prompts.reduce(
    (a, p) => (a.length > p.template.length + (p.system?.length ?? 0) ? a : p.template + (p.system ?? '')),
    '',
  );
  const maxTokens = Math.max(...prep.prompts.map((p) => p.maxTokens));
  const fitted = documentBudgetChars(
    ctx.tokens,
    maxTokens,
    `${o.sharedSystem ?? ''}${longest}${'x'.repeat(400)}`,
  );
  const budget = o.maxChars === undefined ? fitted : Math.min(o.maxChars, fitted);
  const tasks = planTasks(
    prep.jobId,
    prep.docs,
    prep.prompts,
    (d) => fitDocument(d.text, budget, o.longDocs ?? 'chunk'),
    o.fullPrompts,
  );
  const notices = new Map<string, string>();
  for (const t of tasks) if (t.notice !== undefined) notices.set(t.doc.file, t.notice);

  const before = prep.journal.all();
  const pending: Task[] = tasks.filter((t) => before.get(t.id)?.ok !== true);
  const resumed = tasks.length - pending.length;
  hooks.onStart?.({
    total: tasks.length,
    resumed,
    pending: pending.length,
    contextTokens: ctx.tokens,
    contextSource: ctx.known ? 'config/probe' : 'assumed',
    budgetChars: budget,
    notices: [...notices].map(([file, notice]) => ({ file, notice })),
  });

  const jsonl = o.jsonl === undefined ? undefined : resolve(o.cwd, o.jsonl);
  if (jsonl !== undefined) {
    const earlier = currentRecords(tasks, before).filter((r) => r.ok);
    writeFileSync(jsonl, earlier.map((r) => JSON.stringify(resultEntry(r)) + '\n').join(''));
  }

  fleet.resetStats();
  const perWorker: Record<string, number> = {};
  const thisRun: TaskRecord[] = [];
  let done = resumed;
  let failed = 0;
  const t0 = clock.now();
  // Each invocation that sends something is a run; the journal sums their times for the job.
  const run = pending.length > 0 ? prep.journal.startRun(new Date(clock.wallNow()).toISOString()) : undefined;
  const outcome = await runTasks({
    fleet,
    clock,
    tasks: pending,
    maxConcurrent: o.maxConcurrent ?? hooks.defaultMaxConcurrent ?? 50,
    affinity: o.affinity ?? true,
    sharedSystem: o.sharedSystem,
    model: o.model,
    ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
    onTask: (r) => {
      // Committed before anything else looks at it: a crash after this line loses nothing.
      prep.journal.record(r);
      thisRun.push(r);
      if (run !== undefined) prep.journal.noteRun(run, (clock.now() - t0) / 1000, thisRun.length);
      if (jsonl !== undefined) appendFileSync(jsonl, JSON.stringify(resultEntry(r)) + '\n');
      done++;
      if (!r.ok) failed++;
      if (r.worker !== undefined && r.ok) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
      hooks.onTask?.(r, {
        done,
        ran: thisRun.length,
        total: tasks.length,
        failed,
        elapsedS: (clock.now() - t0) / 1000,
        perWorker,
      });
    },
  });

  if (run !== undefined) prep.journal.noteRun(run, outcome.elapsedMs / 1000, thisRun.length);
  const runs = prep.journal.runs();
  const stats = fleet.stats();
  const records = currentRecords(tasks, prep.journal.all());
  const failures = records.filter((r) => !r.ok);
  const summary: BatchSummary = {
    timestamp: new Date(clock.wallNow()).toISOString(),
    files: prep.docs.length,
    prompts: prep.prompts.map((p) => p.template),
    totalTasks: tasks.length,
    successful: records.filter((r) => r.ok).length,
    failed: failures.length,
    pending: tasks.length - records.length,
    resumed,
    totalTimeS: outcome.elapsedMs / 1000,
    tasksThisRun: thisRun.length,
    jobTimeS: runs.elapsedS,
    runs: runs.runs,
    output: o.output ?? 'processing_results.json',
    journal: prep.statePath,
    workers: stats.workers.map((w) => {
      const mine = thisRun.filter((r) => r.ok && r.worker === w.id);
      return {
        id: w.id,
        tasks: mine.length,
        utilisation: w.utilisation,
        promptTokens: mine.reduce((n, r) => n + (r.promptTokens ?? 0), 0),
        cachedTokens: mine.reduce((n, r) => n + (r.cachedTokens ?? 0), 0),
      };
    }),
    skipped: prep.skipped,
    unreadable: prep.unreadable,
    notices: [...notices].map(([file, notice]) => ({ file, notice })),
  };
  writeAtomic(prep.output, JSON.stringify(resultsJson(summary, records), null, 2) + '\n');
  if (o.outDir !== undefined) writeMarkdown(resolve(o.cwd, o.outDir), tasks, records);
  const interrupted = outcome.interrupted > 0 || hooks.signal?.aborted === true;
  return {
    summary,
    records,
    failures,
    interrupted,
    ok: !interrupted && failures.length === 0 && prep.unreadable.length === 0 && summary.pending === 0,
    text: finalBlock(summary, failures),
  };
}

function writeMarkdown(dir: string, tasks: Task[], records: TaskRecord[]): void {
  const byFile = new Map<string, TaskRecord[]>();
  for (const r of records) {
    const list = byFile.get(r.file);
    if (list) list.push(r);
    else byFile.set(r.file, [r]);
  }
  const titles = new Map(tasks.map((t) => [t.doc.file, t.doc.vars.title]));
  for (const [file, list] of byFile) {
    const name = isAbsolute(file)
      ? file.replace(/^[/\\]+/, '').replace(/[/\\:]/g, '_')
      : file.replace(/\.\.[/\\]/g, '');
    const target = join(dir, `${name}.md`);
    mkdirSync(dirname(target), { recursive: true });
    writeAtomic(target, markdownReport(file, titles.get(file) ?? file, list));
  }
}
