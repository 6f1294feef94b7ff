import type { Clock } from '../core/clock.ts';
import type { Fleet } from '../fleet/index.ts';
import {
  finishMs,
  inEndgame,
  lightestFree,
  mustSpill,
  placeLastDocument,
  runningMean,
  worthMoving,
  worthSpilling,
  type Estimates,
  type WorkerLoad,
} from './dispatch.ts';
import type { Task } from './plan.ts';

/** A task chosen for a free slot. */
export interface Picked {
  task: Task;
  /** A document's first prompt: its other prompts wait for it to be prefilled. */
  first: boolean;
  /** Where it goes (RequestOptions.preferWorker); undefined: the fleet chooses. */
  worker: string | undefined;
  /** Its document is not in that worker's cache: it prefills it again there. */
  spill: boolean;
}

interface Warm {
  task: Task;
  worker: string;
}

type Mean = ReturnType<typeof runningMean>;

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function addToSet<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const set = m.get(k);
  if (set) set.add(v);
  else m.set(k, new Set([v]));
}

function addTo(m: Map<string, Mean>, k: string, ms: number): void {
  let mean = m.get(k);
  if (!mean) m.set(k, (mean = runningMean()));
  mean.add(ms);
}

/** The worker to name for a task: none for a chunked document (its parts go where the fleet puts them). */
function single(task: Task, worker: string | undefined): string | undefined {
  return task.parts.length === 1 ? worker : undefined;
}

/** Removes and returns the task with the longest document: its prefill is the longest critical path. */
function takeLongest(tasks: Task[]): Task {
  let best = 0;
  const size = (t: Task) => t.parts.reduce((n, p) => n + p.length, 0);
  for (let i = 1; i < tasks.length; i++) if (size(tasks[i]!) > size(tasks[best]!)) best = i;
  return tasks.splice(best, 1)[0]!;
}

/**
 * The tasks waiting to be sent, and what the batch knows of each worker: which documents it
 * holds, what it runs and has queued, and how long a prefill and an answer take there (measured
 * this run). `pick` chooses the next task for a free slot and the worker it goes to (docs/batch.md
 * "Speed"); runTasks reports back what happens to it.
 */
export class Board {
  readonly #fleet: Fleet;
  readonly #clock: Clock;
  readonly #affinity: boolean;
  readonly #maxConcurrent: number;
  /** Free to go: a document's first prompt, chunked documents, everything without affinity. */
  readonly #cold: Task[] = [];
  /** A document's other prompts, until its first prompt has been prefilled. */
  readonly #gated = new Map<string, Task[]>();
  /** Released prompts, each waiting for the worker that holds its document. */
  readonly #warm: Warm[] = [];
  /** Documents whose first prompt is prefilling: where, since when. */
  readonly #opening = new Map<string, { worker: string; at: number }>();
  /** Workers known to hold each document in their prefix cache. */
  readonly #holders = new Map<string, Set<string>>();
  /** Requests in flight: where (when the batch named it), since when, whether they prefill. */
  readonly #running = new Map<Task, { worker: string | undefined; at: number; prefills: boolean }>();
  readonly #prefill = runningMean();
  readonly #answer = runningMean();
  readonly #prefillBy = new Map<string, Mean>();
  readonly #answerBy = new Map<string, Mean>();
  inFlight = 0;

  constructor(opts: { fleet: Fleet; clock: Clock; tasks: Task[]; affinity: boolean; maxConcurrent: number }) {
    this.#fleet = opts.fleet;
    this.#clock = opts.clock;
    this.#affinity = opts.affinity;
    this.#maxConcurrent = opts.maxConcurrent;
    if (!opts.affinity) {
      this.#cold.push(...opts.tasks);
      return;
    }
    const byDoc = new Map<string, Task[]>();
    for (const t of opts.tasks) {
      if (t.parts.length > 1) this.#cold.push(t);
      else {
        if (!byDoc.has(t.doc.abs)) this.#cold.push(t);
        pushTo(byDoc, t.doc.abs, t);
      }
    }
    for (const [doc, list] of byDoc) if (list.length > 1) this.#gated.set(doc, list.slice(1));
  }

  /** Nothing is left to send (some may still be in flight). */
  get empty(): boolean {
    return this.#cold.length === 0 && this.#warm.length === 0 && this.#gated.size === 0;
  }

  /** Most tasks in flight: the alive workers' slots, at most maxConcurrent. */
  limit(): number {
    let cap = 0;
    for (const w of this.#fleet.workers) if (w.state === 'healthy' || w.state === 'degraded') cap += w.cap;
    return Math.max(1, Math.min(this.#maxConcurrent, cap));
  }

  /**
   * The next task for a free slot, and the worker it goes to: with affinity the batch names the
   * worker in every request (RequestOptions.preferWorker), so that what it counts as each
   * worker's load is where the work really is. In order: in the endgame, the longest new document
   * where the work ends first; once every document is open, a prompt that ends the job sooner
   * elsewhere (rebalance); a released prompt for the worker that holds its document; the next
   * new document; a prompt whose worker is gone.
   */
  pick(): Picked | undefined {
    const est = this.#estimates();
    // Endgame: a new document's critical path (its prefill, then its other prompts' answers) is
    // the longest work left. Once the work left, spread over the fleet's slots, is about that
    // long, the last new documents go ahead of the waiting prompts of open documents, which then
    // fill the slots while those prefill; started after them, the last documents would run
    // alone at the end while the other slots idle. Only then: opening documents earlier would
    // keep more open at once than the workers' prefix caches hold.
    const eg = this.#affinity && this.#cold.length > 0 && this.#endgame(est);
    if (eg) {
      const loads = this.loads();
      const place = est === undefined ? undefined : placeLastDocument(loads, est);
      if (place !== undefined || this.inFlight === 0 || est === undefined) {
        const task = takeLongest(this.#cold);
        const worker = single(task, place ?? lightestFree(loads, est)?.id);
        return { task, first: this.#gated.has(task.doc.abs), worker, spill: false };
      }
    }
    if (this.#affinity && this.#cold.length === 0) {
      const moved = this.#rebalance(est);
      if (moved) return moved;
    }
    if (this.#affinity && this.#warm.length > 0) {
      const now = this.#clock.now();
      const free = new Set(this.#fleet.workers.filter((w) => w.freeSlots(now) > 0).map((w) => w.id));
      const i = this.#warm.findIndex((w) => free.has(w.worker));
      if (i >= 0) {
        const w = this.#warm.splice(i, 1)[0]!;
        return { task: w.task, first: false, worker: w.worker, spill: false };
      }
    }
    // In the endgame a last document waits for a slot where the work ends first.
    if (eg) return undefined;
    const task = this.#cold.shift();
    if (task) {
      const worker = this.#affinity ? single(task, lightestFree(this.loads(), est)?.id) : undefined;
      return { task, first: this.#gated.has(task.doc.abs), worker, spill: false };
    }
    const all = this.loads();
    const byId = new Map(all.map((w) => [w.id, w]));
    for (let i = this.#warm.length - 1; i >= 0; i--) {
      if (mustSpill(byId.get(this.#warm[i]!.worker), est, this.inFlight === 0)) {
        const task = this.#warm.splice(i, 1)[0]!.task;
        return { task, first: false, worker: lightestFree(all, est)?.id, spill: true };
      }
    }
    return undefined;
  }

  /** A picked task was sent. */
  sent(p: Picked): void {
    const now = this.#clock.now();
    this.inFlight++;
    if (p.first && p.worker !== undefined) this.#opening.set(p.task.doc.abs, { worker: p.worker, at: now });
    this.#running.set(p.task, { worker: p.worker, at: now, prefills: p.first || p.spill });
  }

  /** Its first token came from `worker` after `ms`: the document is in that worker's cache now. */
  firstToken(p: Picked, worker: string, ms: number): void {
    addToSet(this.#holders, p.task.doc.abs, worker);
    if (!p.first) return;
    this.#prefill.add(ms);
    addTo(this.#prefillBy, worker, ms);
    this.release(p.task, worker);
  }

  /** It ended after `ms`: `ok` with an answer from `worker`, or not (failed or interrupted). */
  ended(p: Picked, ok: boolean, worker: string | undefined, ms: number): void {
    this.inFlight--;
    this.#running.delete(p.task);
    // One answer over a cached document (a spilled prompt prefilled its document again).
    if (ok && !p.first && !p.spill && this.#affinity && p.task.parts.length === 1) {
      this.#answer.add(ms);
      if (worker !== undefined) addTo(this.#answerBy, worker, ms);
    }
  }

  /**
   * A document's first prompt was prefilled on `worker` (its other prompts go there now), or
   * failed before that (undefined: the next prompt takes its place as the first).
   */
  release(task: Task, worker: string | undefined): void {
    const rest = this.#gated.get(task.doc.abs);
    if (!rest) return;
    this.#gated.delete(task.doc.abs);
    this.#opening.delete(task.doc.abs);
    if (worker === undefined) {
      const [next, ...others] = rest;
      if (next) this.#cold.unshift(next);
      if (others.length > 0) this.#gated.set(task.doc.abs, others);
    } else {
      for (const t of rest) this.#warm.push({ task: t, worker });
    }
  }

  /** Every worker as dispatch sees it now. */
  loads(): WorkerLoad[] {
    const now = this.#clock.now();
    const global = this.#estimates();
    const readyIn = new Map<string, number[]>();
    const open = new Map<string, Set<string>>();
    const prefilling = new Map<string, number>();
    for (const w of this.#warm) {
      pushTo(readyIn, w.worker, 0);
      addToSet(open, w.worker, w.task.doc.abs);
    }
    for (const [doc, o] of this.#opening) {
      addToSet(open, o.worker, doc);
      prefilling.set(o.worker, (prefilling.get(o.worker) ?? 0) + 1);
      const left = this.#prefillLeft(doc, now);
      for (let i = this.#gated.get(doc)?.length ?? 0; i > 0; i--) pushTo(readyIn, o.worker, left);
    }
    // What each request in flight has left, at its worker's times (a tenth of an answer at least:
    // one that takes longer than expected still ends soon).
    const running = new Map<string, number[]>();
    for (const r of this.#running.values()) {
      if (r.worker === undefined) continue;
      const e = this.#estimatesOf(r.worker) ?? global;
      if (e === undefined) continue;
      const total = r.prefills ? e.prefillMs + e.answerMs : e.answerMs;
      pushTo(running, r.worker, Math.max(total - (now - r.at), e.answerMs / 10));
    }
    return this.#fleet.workers.map((w) => {
      const mine = running.get(w.id) ?? [];
      return {
        id: w.id,
        alive: w.state === 'healthy' || w.state === 'degraded',
        cap: w.cap,
        inFlight: w.inFlight,
        freeSlots: w.freeSlots(now),
        queued: readyIn.get(w.id)?.length ?? 0,
        prefilling: prefilling.get(w.id) ?? 0,
        openDocs: open.get(w.id)?.size ?? 0,
        est: this.#estimatesOf(w.id),
        // Known only when everything in flight there is the batch's own.
        running: global !== undefined && mine.length === w.inFlight ? mine : undefined,
        readyIn: readyIn.get(w.id),
      };
    });
  }

  /**
   * Once every document is open: a free slot takes a prompt waiting for the worker whose work
   * ends last, when that ends the job sooner. First a released prompt of a document the free
   * worker already holds (it costs one answer there: worthMoving), else one that pays a prefill
   * there (worthSpilling): a held-back prompt of the document that worker opened last, else its
   * last released prompt. So when one worker got a document more than the others, its prompts
   * are split over the workers instead of running as a round of their own at the end.
   */
  #rebalance(est: Estimates | undefined): Picked | undefined {
    if (est === undefined) return undefined;
    const all = this.loads();
    const free = lightestFree(all, est);
    if (!free) return undefined;
    const owners = all
      .filter((w) => w.alive && w.id !== free.id && w.queued > 0)
      .map((w) => ({ w, end: finishMs(w, est) }))
      .sort((a, b) => b.end - a.end);
    for (const { w: owner } of owners) {
      for (let i = this.#warm.length - 1; i >= 0; i--) {
        const w = this.#warm[i]!;
        if (w.worker !== owner.id || !this.#holders.get(w.task.doc.abs)?.has(free.id)) continue;
        if (!worthMoving(free, owner, est)) break;
        this.#warm.splice(i, 1);
        return { task: w.task, first: false, worker: free.id, spill: false };
      }
      if (!worthSpilling(free, owner, est)) continue;
      let doc: string | undefined;
      for (const [d, o] of this.#opening) if (o.worker === owner.id && this.#gated.get(d)?.length) doc = d;
      // (An emptied list stays until the document's first prompt releases it, see release.)
      if (doc !== undefined)
        return { task: this.#gated.get(doc)!.pop()!, first: false, worker: free.id, spill: true };
      for (let i = this.#warm.length - 1; i >= 0; i--) {
        if (this.#warm[i]!.worker !== owner.id) continue;
        return { task: this.#warm.splice(i, 1)[0]!.task, first: false, worker: free.id, spill: true };
      }
    }
    return undefined;
  }

  #endgame(est: Estimates | undefined): boolean {
    let waiting = this.#warm.length + this.#cold.length;
    for (const list of this.#gated.values()) waiting += list.length;
    return inEndgame(est, { newDocs: this.#cold.length, waiting, inFlight: this.inFlight }, this.limit());
  }

  /** ms until a document opening somewhere is prefilled there (its held-back prompts may go then). */
  #prefillLeft(doc: string, now: number): number {
    const o = this.#opening.get(doc);
    const e = o === undefined ? undefined : (this.#estimatesOf(o.worker) ?? this.#estimates());
    return o === undefined || e === undefined ? 0 : Math.max(0, e.prefillMs - (now - o.at));
  }

  /** This run's measured times, once both are. */
  #estimates(): Estimates | undefined {
    const p = this.#prefill;
    const a = this.#answer;
    return p.n > 0 && a.n > 0 ? { prefillMs: p.mean, answerMs: a.mean } : undefined;
  }

  /** The same on one worker, so that a slower machine's backlog counts as longer. */
  #estimatesOf(worker: string): Estimates | undefined {
    const p = this.#prefillBy.get(worker);
    const a = this.#answerBy.get(worker);
    return p && a ? { prefillMs: p.mean, answerMs: a.mean } : undefined;
  }
}
