import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { Fleet } from '../fleet/index.ts';
import {
  freeSlotOnLeastLoaded,
  inEndgame,
  runningMean,
  shouldSpill,
  type Estimates,
  type WorkerLoad,
} from './dispatch.ts';
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

/** Removes and returns the task with the longest document: its prefill is the longest critical path. */
function takeLongest(tasks: Task[]): Task {
  let best = 0;
  const size = (t: Task) => t.parts.reduce((n, p) => n + p.length, 0);
  for (let i = 1; i < tasks.length; i++) if (size(tasks[i]!) > size(tasks[best]!)) best = i;
  return tasks.splice(best, 1)[0]!;
}

/**
 * Continuous dispatch (no lock-step batches): whenever a task finishes, the next one starts.
 * Tasks wait here rather than in the fleet's queue (at most as many are in flight as the fleet
 * has slots, and never more than maxConcurrent), so that for each slot that frees this picks a
 * task whose document that worker already holds in its prefix cache: first the waiting prompts of
 * documents that worker has prefilled, then the next new document, and only then (at the end of
 * the job) prompts of documents held by a worker that is gone or has a long backlog. Near the end
 * (the endgame, see pick) new documents go before waiting prompts.
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
  // Measured this run: a new document's time to its first token (its prefill) and the time of a
  // prompt over a document already cached (one answer).
  const prefill = runningMean();
  const answer = runningMean();
  const estimates = (): Estimates | undefined =>
    prefill.n > 0 && answer.n > 0 ? { prefillMs: prefill.mean, answerMs: answer.mean } : undefined;

  const limit = () => {
    let cap = 0;
    for (const w of fleet.workers) if (w.state === 'healthy' || w.state === 'degraded') cap += w.cap;
    return Math.max(1, Math.min(opts.maxConcurrent, cap));
  };

  // Documents whose first prompt is prefilling, and the worker it most likely went to (the one
  // with a free slot when it was sent; the fleet sends there): their held-back prompts will queue
  // there, so they count towards its load before they are released.
  const opening = new Map<string, string>();

  const loads = (): WorkerLoad[] => {
    const now = clock.now();
    const queued = new Map<string, number>();
    for (const w of warm) queued.set(w.worker, (queued.get(w.worker) ?? 0) + 1);
    const prefilling = new Map<string, number>();
    for (const [doc, id] of opening) {
      queued.set(id, (queued.get(id) ?? 0) + (gated.get(doc)?.length ?? 0));
      prefilling.set(id, (prefilling.get(id) ?? 0) + 1);
    }
    return fleet.workers.map((w) => ({
      id: w.id,
      alive: w.state === 'healthy' || w.state === 'degraded',
      cap: w.cap,
      inFlight: w.inFlight,
      freeSlots: w.freeSlots(now),
      queued: queued.get(w.id) ?? 0,
      prefilling: prefilling.get(w.id) ?? 0,
    }));
  };

  const endgame = (): boolean => {
    let waiting = warm.length + cold.length;
    for (const list of gated.values()) waiting += list.length;
    const left = { newDocs: cold.length, waiting, inFlight };
    return inEndgame(estimates(), left, limit());
  };

  const pick = (): { task: Task; first: boolean } | undefined => {
    // Endgame: a new document's critical path (its prefill, then its other prompts' answers) is
    // the longest work left. Once the work left, spread over the fleet's slots, is about that
    // long, the last new documents go ahead of the waiting prompts of open documents, which then
    // fill the slots while those prefill; started after them, the last documents would run
    // alone at the end while the other slots idle. Only then: opening documents earlier would
    // keep more open at once than the workers' prefix caches hold. A last document goes only to
    // a worker about as lightly loaded as any; a busier one runs its own prompts, or waits for
    // them (it has more left than the others), so that the workers finish together.
    const eg = opts.affinity && cold.length > 0 && endgame();
    const est = estimates();
    if (eg && (inFlight === 0 || est === undefined || freeSlotOnLeastLoaded(loads(), est))) {
      const c = takeLongest(cold);
      return { task: c, first: gated.has(c.doc.abs) };
    }
    if (opts.affinity && warm.length > 0) {
      const now = clock.now();
      const free = new Set(fleet.workers.filter((w) => w.freeSlots(now) > 0).map((w) => w.id));
      const i = warm.findIndex((w) => free.has(w.worker));
      if (i >= 0) return { task: warm.splice(i, 1)[0]!.task, first: false };
    }
    if (eg) return undefined;
    const c = cold.shift();
    if (c) return { task: c, first: gated.has(c.doc.abs) };
    // No new documents left: a released prompt runs elsewhere only when that beats waiting.
    const byId = new Map(loads().map((w) => [w.id, w]));
    for (let i = warm.length - 1; i >= 0; i--) {
      if (shouldSpill(byId.get(warm[i]!.worker), estimates(), inFlight === 0))
        return { task: warm.splice(i, 1)[0]!.task, first: false };
    }
    return undefined;
  };

  return new Promise<RunOutcome>((resolve) => {
    const release = (task: Task, worker: string | undefined) => {
      const rest = gated.get(task.doc.abs);
      if (!rest) return;
      gated.delete(task.doc.abs);
      opening.delete(task.doc.abs);
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
      if (first) {
        const free = loads()
          .filter((w) => w.alive && w.freeSlots > 0)
          .sort((a, b) => a.inFlight / a.cap - b.inFlight / b.cap)[0];
        if (free) opening.set(task.doc.abs, free.id);
      }
      inFlight++;
      let worker: string | undefined;
      const startedAt = clock.now();
      const onFirst = first
        ? (w: string) => {
            worker = w;
            prefill.add(clock.now() - startedAt);
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
          if (record.ok && !first && opts.affinity && task.parts.length === 1)
            answer.add(clock.now() - startedAt);
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
