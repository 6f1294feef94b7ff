import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { Fleet } from '../fleet/index.ts';
import { Board, type Picked } from './board.ts';
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

/**
 * Continuous dispatch (no lock-step batches): whenever a task finishes, the next one starts.
 * Tasks wait here rather than in the fleet's queue (at most as many are in flight as the fleet
 * has slots, and never more than maxConcurrent), so that for each slot that frees the Board
 * (board.ts) picks a task whose document that worker already holds in its prefix cache, and
 * names the worker in the request; near the end it places the last documents and splits their
 * prompts so that the workers finish together (docs/batch.md "Speed").
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
  let finished = 0;
  const board = new Board({
    fleet,
    clock,
    tasks: opts.tasks,
    affinity: opts.affinity,
    maxConcurrent: opts.maxConcurrent,
  });
  const ctx = {
    fleet,
    clock,
    sharedSystem: opts.sharedSystem,
    model: opts.model,
    affinity: opts.affinity,
    signal: ac.signal,
  };

  return new Promise<RunOutcome>((resolve) => {
    const done = () => {
      if (board.inFlight > 0) return;
      if (!ac.signal.aborted && !board.empty) return;
      opts.signal?.removeEventListener('abort', onAbort);
      outcome.interrupted = total - finished;
      outcome.elapsedMs = clock.now() - t0;
      resolve(outcome);
    };

    const start = (p: Picked) => {
      board.sent(p);
      const startedAt = clock.now();
      let worker: string | undefined;
      const onFirst = (w: string) => {
        worker = w;
        board.firstToken(p, w, clock.now() - startedAt);
        fill();
      };
      let ok = false;
      executeTask(ctx, p.task, onFirst, p.worker)
        .then((record) => {
          finished++;
          ok = record.ok;
          if (record.ok) {
            worker ??= record.worker;
            outcome.succeeded++;
          } else outcome.failed++;
          opts.onTask(record);
        })
        .catch(() => {
          // Interrupted: not a result; the next run sends it again.
        })
        .finally(() => {
          board.ended(p, ok, worker, clock.now() - startedAt);
          // A first prompt that failed before its first token hands over to the next prompt.
          if (p.first) board.release(p.task, worker);
          fill();
          done();
        });
    };

    const fill = () => {
      while (!ac.signal.aborted && board.inFlight < board.limit()) {
        const next = board.pick();
        if (!next) break;
        start(next);
      }
    };

    fill();
    done();
  });
}
