/**
 * The batch's dispatch decisions, as pure functions of a snapshot (the Board in board.ts keeps
 * the queues and asks these): when the job is in its endgame, where a last document goes, and
 * when a prompt should leave the worker that holds its document.
 */

/** Measured during the run (ms): a new document's time to first token, and one cached prompt's answer. */
export interface Estimates {
  prefillMs: number;
  answerMs: number;
}

/** One worker as dispatch sees it. */
export interface WorkerLoad {
  id: string;
  /** Healthy or degraded: it takes requests. */
  alive: boolean;
  cap: number;
  inFlight: number;
  freeSlots: number;
  /**
   * Prompts waiting for this worker: released ones (their document is in its cache), and the
   * held-back prompts of documents being prefilled there.
   */
  queued: number;
  /** New documents whose first prompt is prefilling there (each holds its slot for a prefill more). */
  prefilling: number;
  /** Documents with prompts waiting for this worker, or prefilling there. @default 0 */
  openDocs?: number | undefined;
  /** This worker's own measured times, once it has both; otherwise the run's. */
  est?: Estimates | undefined;
  /**
   * What each of its requests in flight has left (ms), when known; otherwise each counts as an
   * answer and each document prefilling as a prefill more.
   */
  running?: number[] | undefined;
  /**
   * For each queued prompt, ms until it may start: 0 when released, else what is left of its
   * document's prefill. @default all 0
   */
  readyIn?: number[] | undefined;
}

/** What is left of the job. */
export interface WorkLeft {
  /** New documents (first prompts not sent). */
  newDocs: number;
  /** Tasks not sent yet: new documents, their held-back prompts, and released prompts. */
  waiting: number;
  inFlight: number;
}

/**
 * A spill puts one more document into the target's prefix cache. It goes only to a worker with at
 * most this many documents open (prompts waiting there, or prefilling), so that it does not push
 * out a document whose prompts are still queued there (each is prefilled again if it does; with
 * no limit, measured on 50 and 200 papers: 5 s more in a quarter of the runs).
 */
export const MAX_OPEN_FOR_SPILL = 3;

/** A running mean. */
export function runningMean(): { n: number; mean: number; add: (x: number) => void } {
  const m = {
    n: 0,
    mean: 0,
    add(x: number) {
      m.n++;
      m.mean += (x - m.mean) / m.n;
    },
  };
  return m;
}

/**
 * The endgame: the work left, spread over `slots`, is within a new document's critical path (its
 * prefill and answer, then its other prompts' answers) plus two answers of margin: a prefill and
 * four answers. From then on new documents go before released prompts, or the last ones would
 * run alone at the end. Never before both times are measured. (Three answers left slots idle
 * while the last documents prefilled; five opened them too early: see docs/performance.md.)
 */
export function inEndgame(est: Estimates | undefined, left: WorkLeft, slots: number): boolean {
  if (est === undefined || left.newDocs === 0) return false;
  const work = left.newDocs * est.prefillMs + (left.waiting + left.inFlight / 2) * est.answerMs;
  return work / Math.max(1, slots) <= est.prefillMs + 4 * est.answerMs;
}

/**
 * Time (ms) until a worker's slots have done what is queued on them, spread over its slots, at
 * its own measured times when it has them (a slower machine's backlog lasts longer).
 */
export function backlogMs(w: WorkerLoad, est: Estimates): number {
  const e = w.est ?? est;
  const inFlight = w.running
    ? w.running.reduce((n, ms) => n + ms, 0)
    : w.inFlight * e.answerMs + w.prefilling * e.prefillMs;
  return (inFlight + w.queued * e.answerMs) / Math.max(1, w.cap);
}

/**
 * When (ms from now) a worker's last slot is done with what is in flight and queued there, slot by
 * slot: each queued prompt (one answer) starts on the slot that frees first, once it is ready.
 * `add`: a request of that many ms started now on the first free slot; `remove`: the readiness of
 * a queued prompt taken away. (backlogMs spreads the work evenly; near the end that misses that
 * the last round may hold a single prompt, which ends a whole answer later.)
 */
export function finishMs(
  w: WorkerLoad,
  est: Estimates,
  change: { add?: number; remove?: number } = {},
): number {
  const e = w.est ?? est;
  const slots = w.running ? [...w.running] : Array.from({ length: w.inFlight }, () => e.answerMs);
  while (slots.length < w.cap) slots.push(0);
  const ready = w.readyIn ? [...w.readyIn] : Array.from({ length: w.queued }, () => 0);
  if (change.remove !== undefined) {
    const i = ready.indexOf(change.remove);
    ready.splice(i >= 0 ? i : ready.length - 1, 1);
  }
  slots.sort((a, b) => a - b);
  if (change.add !== undefined && slots.length > 0) slots[0] = slots[0]! + change.add;
  ready.sort((a, b) => a - b);
  for (const r of ready) {
    slots.sort((a, b) => a - b);
    slots[0] = Math.max(slots[0]!, r) + e.answerMs;
  }
  return Math.max(0, ...slots);
}

/**
 * The alive worker with a free slot whose backlog ends first (before anything is measured: the
 * lowest share of its slots in use); undefined when no slot is free. Ties go to the first listed.
 */
export function lightestFree(
  workers: readonly WorkerLoad[],
  est: Estimates | undefined,
): WorkerLoad | undefined {
  let best: WorkerLoad | undefined;
  let bestScore = Infinity;
  for (const w of workers) {
    if (!w.alive || w.freeSlots <= 0) continue;
    const score = est === undefined ? w.inFlight / Math.max(1, w.cap) : backlogMs(w, est);
    if (score < bestScore) {
      best = w;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Where a last document goes now: the free worker whose backlog ends first, provided it is within
 * half an answer of the least backlog of all (a worker with no free slot may be lighter: its
 * slots free soon). Undefined: hold the document; the busier workers run their own prompts, and
 * it goes once a slot frees where the work ends first, so that the workers finish together. The
 * batch names this worker in the request (RequestOptions.preferWorker): left to the fleet, a last
 * document could land on any free worker, even the busiest. (Holding documents until the least
 * loaded of all has a free slot was tried: slots idle, 7 % slower on the guide's job.)
 */
export function placeLastDocument(workers: readonly WorkerLoad[], est: Estimates): string | undefined {
  const alive = workers.filter((w) => w.alive);
  if (alive.length === 0) return undefined;
  const least = Math.min(...alive.map((w) => backlogMs(w, est)));
  const free = lightestFree(alive, est);
  return free && backlogMs(free, est) <= least + est.answerMs / 2 ? free.id : undefined;
}

/**
 * Whether a released prompt must run on another worker whatever it costs: its worker is gone,
 * nothing at all is running (nothing else would ever send it), or, before both times are
 * measured, more prompts wait for its worker than it has slots. Otherwise spilling is a question
 * of balance: see worthSpilling and worthMoving.
 */
export function mustSpill(
  owner: WorkerLoad | undefined,
  est: Estimates | undefined,
  nothingRunning: boolean,
): boolean {
  if (nothingRunning || owner === undefined || !owner.alive) return true;
  return est === undefined && owner.queued > owner.cap;
}

/**
 * Whether a free slot on `free` should take a prompt that waits for `owner` (released there, or
 * held back while its document prefills there), paying a prefill of the document on `free`: the
 * prompt, started now, ends before the owner's work would (by half an answer); taking it does not
 * make `free` end later than the owner would, in work spread over the slots; and `free` has room
 * in its prefix cache (MAX_OPEN_FOR_SPILL). This is what splits the last documents' prompts over
 * the workers when one of them got a document more than the others.
 */
export function worthSpilling(free: WorkerLoad, owner: WorkerLoad, est: Estimates): boolean {
  if ((free.openDocs ?? 0) > MAX_OPEN_FOR_SPILL) return false;
  const f = free.est ?? est;
  const o = owner.est ?? est;
  const ownerEnd = backlogMs(owner, est);
  const spill = f.prefillMs + f.answerMs;
  return (
    spill + o.answerMs / 2 <= ownerEnd &&
    backlogMs(free, est) + spill / Math.max(1, free.cap) <= ownerEnd - o.answerMs / Math.max(1, owner.cap)
  );
}

/**
 * Whether a free slot on `free`, which already holds the document (an earlier prompt of it ran
 * there), should take a released prompt of it from `owner`, at the cost of one answer: only when
 * the later of the two workers then finishes sooner, slot by slot (finishMs), by a tenth of an
 * answer. A move never makes the end later.
 */
export function worthMoving(free: WorkerLoad, owner: WorkerLoad, est: Estimates): boolean {
  const before = Math.max(finishMs(owner, est), finishMs(free, est));
  const after = Math.max(
    finishMs(owner, est, { remove: 0 }),
    finishMs(free, est, { add: (free.est ?? est).answerMs }),
  );
  return after <= before - est.answerMs / 10;
}
