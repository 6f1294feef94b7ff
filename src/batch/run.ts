import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { Fleet } from '../fleet/index.ts';
import { executeTask } from './execute.ts';
import type { TaskRecord } from './journal.ts';
import type { Task } from './plan.ts';

export interface RunTasksOptions {
  fleet: Fleet;
  clock: Clock;
  /** Tasks to send, document by document (planTasks order). */
  tasks: Task[];
  /** Most tasks in flight at once. @default settings.max_concurrent_batch (50) */
  maxConcurrent: number;
  /**
   * Document affinity: every prompt of a document carries the document as its affinity key, the
   * first prompt of a document goes alone and the others follow once it has been prefilled, each
   * to the worker that holds it. false sends every task in order, with no key. @default true
   */
  affinity: boolean;
  sharedSystem: string | undefined;
  model: string | undefined;
  /** Called at once when a task finishes (commit it to the journal here). */
  onTask: (record: TaskRecord) => void;
  /** Aborting stops sending, aborts in-flight requests and resolves (those tasks are not recorded). */
  signal?: AbortSignal;
}

export interface RunOutcome {
  succeeded: number;
  failed: number;
  /** Tasks not finished because the run was interrupted. */
  interrupted: number;
  elapsedMs: number;
}

interface Warm {
  task: Task;
  worker: string;
}

/**
 * Continuous dispatch (no lock-step batches): whenever a task finishes, the next one starts.
 * Tasks wait here rather than in the fleet's queue (at most as many are in flight as the fleet
 * has slots, and never more than maxConcurrent), so that for each slot that frees this picks a
 * task whose document that worker already holds in its prefix cache: first the waiting prompts of
 * documents that worker has prefilled, then the next new document, and only then (at the end of
 * the job) prompts of documents held by a worker that is gone or has a long backlog.
 */
export function runTasks(opts: RunTasksOptions): Promise<RunOutcome> {
  const { fleet, clock } = opts;
  const ac = new AbortController();
  // Every in-flight request listens to this one signal (up to maxConcurrent of them).
  setMaxListeners(0, ac.signal);
  const onAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const t0 = clock.now();
  const outcome: RunOutcome = { succeeded: 0, failed: 0, interrupted: 0, elapsedMs: 0 };
  const total = opts.tasks.length;

  // `cold`: tasks free to go (a document's first prompt, chunked documents, everything without
  // affinity); `gated`: a document's other prompts, until its first prompt has been prefilled.
  const cold: Task[] = [];
  const gated = new Map<string, Task[]>();
  const warm: Warm[] = [];
  if (opts.affinity) {
    const byDoc = new Map<string, Task[]>();
    for (const t of opts.tasks) {
      if (t.parts.length > 1) {
        cold.push(t);
        continue;
      }
      const list = byDoc.get(t.doc.abs);
      if (list) list.push(t);
      else {
        byDoc.set(t.doc.abs, [t]);
        cold.push(t);
      }
    }
    for (const [doc, list] of byDoc) if (list.length > 1) gated.set(doc, list.slice(1));
  } else cold.push(...opts.tasks);

  let inFlight = 0;
  let finished = 0;

  const limit = () => {
    let cap = 0;
    for (const w of fleet.workers) if (w.state === 'healthy' || w.state === 'degraded') cap += w.cap;
    return Math.max(1, Math.min(opts.maxConcurrent, cap));
  };

  const pick = (): { task: Task; first: boolean } | undefined => {
    if (opts.affinity && warm.length > 0) {
      const now = clock.now();
      const free = new Set(fleet.workers.filter((w) => w.freeSlots(now) > 0).map((w) => w.id));
      const i = warm.findIndex((w) => free.has(w.worker));
      if (i >= 0) return { task: warm.splice(i, 1)[0]!.task, first: false };
    }
    const c = cold.shift();
    if (c) return { task: c, first: gated.has(c.doc.abs) };
    // No new documents left. Running a prompt elsewhere costs a full prefill of its document,
    // while its own worker frees a slot within one answer's time: spill only when that worker is
    // gone or has more waiting than it has slots (or nothing at all is running).
    const backlog = new Map<string, number>();
    for (const w of warm) backlog.set(w.worker, (backlog.get(w.worker) ?? 0) + 1);
    const i = warm.findIndex((w) => {
      const rt = fleet.workers.find((x) => x.id === w.worker);
      const alive = rt !== undefined && (rt.state === 'healthy' || rt.state === 'degraded');
      return inFlight === 0 || !alive || (backlog.get(w.worker) ?? 0) > rt.cap;
    });
    return i >= 0 ? { task: warm.splice(i, 1)[0]!.task, first: false } : undefined;
  };

  return new Promise<RunOutcome>((resolve) => {
    const release = (task: Task, worker: string | undefined) => {
      const rest = gated.get(task.doc.abs);
      if (!rest) return;
      gated.delete(task.doc.abs);
      if (worker === undefined) {
        // The first prompt failed before it was prefilled: the next one takes its place.
        const [next, ...others] = rest;
        if (next) cold.unshift(next);
        if (others.length > 0) gated.set(task.doc.abs, others);
      } else {
        for (const t of rest) warm.push({ task: t, worker });
      }
      fill();
    };

    const done = () => {
      if (inFlight > 0) return;
      if (!ac.signal.aborted && (cold.length > 0 || warm.length > 0 || gated.size > 0)) return;
      opts.signal?.removeEventListener('abort', onAbort);
      outcome.interrupted = total - finished;
      outcome.elapsedMs = clock.now() - t0;
      resolve(outcome);
    };

    const start = (task: Task, first: boolean) => {
      inFlight++;
      let worker: string | undefined;
      const onFirst = first
        ? (w: string) => {
            worker = w;
            release(task, w);
          }
        : undefined;
      const ctx = {
        fleet,
        clock,
        sharedSystem: opts.sharedSystem,
        model: opts.model,
        affinity: opts.affinity,
        signal: ac.signal,
      };
      executeTask(ctx, task, onFirst)
        .then((record) => {
          finished++;
          if (record.ok) outcome.succeeded++;
          else outcome.failed++;
          opts.onTask(record);
          if (first) release(task, record.ok ? (worker ?? record.worker) : worker);
        })
        .catch(() => {
          // Interrupted: not a result; the next run sends it again.
        })
        .finally(() => {
          inFlight--;
          fill();
          done();
        });
    };

    const fill = () => {
      while (!ac.signal.aborted && inFlight < limit()) {
        const next = pick();
        if (!next) break;
        start(next.task, next.first);
      }
    };

    fill();
    done();
  });
}
