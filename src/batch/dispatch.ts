/**
 * The batch's dispatch decisions, as pure functions of a snapshot (runTasks keeps the queues and
 * asks these): when the job is in its endgame, where a last document should go, and when a
 * prompt should leave the worker that holds its document.
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
}

/** What is left of the job. */
export interface WorkLeft {
  /** New documents (first prompts not sent). */
  newDocs: number;
  /** Tasks not sent yet: new documents, their held-back prompts, and released prompts. */
  waiting: number;
  inFlight: number;
}

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
 * prefill and answer, then its other prompts' answers) plus one answer of margin. From then on
 * new documents go before released prompts, or the last ones would run alone at the end. Never
 * before both times are measured.
 */
export function inEndgame(est: Estimates | undefined, left: WorkLeft, slots: number): boolean {
  if (est === undefined || left.newDocs === 0) return false;
  const work = left.newDocs * est.prefillMs + (left.waiting + left.inFlight / 2) * est.answerMs;
  return work / Math.max(1, slots) <= est.prefillMs + 3 * est.answerMs;
}

/** Time (ms) until a worker's slots have done what is queued on them, spread over its slots. */
const backlogMs = (w: WorkerLoad, est: Estimates) =>
  ((w.queued + w.inFlight) * est.answerMs + w.prefilling * est.prefillMs) / Math.max(1, w.cap);

/**
 * Whether a worker with a free slot (where a new document would go now) has about the least work
 * left of all, within half an answer: a last document belongs where slots free first; a busier
 * worker runs its own released prompts and leaves the document to the others. (Requiring every
 * free worker to qualify, since the fleet picks among them, was tried: it holds documents back
 * while slots idle, and measured 7 % slower on the guide's job.)
 */
export function freeSlotOnLeastLoaded(workers: readonly WorkerLoad[], est: Estimates): boolean {
  const alive = workers.filter((w) => w.alive);
  if (alive.length === 0) return true;
  const least = Math.min(...alive.map((w) => backlogMs(w, est)));
  return alive.some((w) => w.freeSlots > 0 && backlogMs(w, est) <= least + est.answerMs / 2);
}

/**
 * Whether a released prompt should run on another worker, paying a full prefill of its document
 * there: its worker is gone, nothing at all is running, or the answers queued on its worker take
 * more rounds than a prefill and two answers elsewhere (one answer of margin: a spill that loses
 * its bet becomes the job's tail). Until both times are measured: more waiting than slots.
 */
export function shouldSpill(
  owner: WorkerLoad | undefined,
  est: Estimates | undefined,
  nothingRunning: boolean,
): boolean {
  if (nothingRunning || owner === undefined || !owner.alive) return true;
  if (est === undefined) return owner.queued > owner.cap;
  return Math.ceil(owner.queued / Math.max(1, owner.cap)) * est.answerMs > est.prefillMs + 2 * est.answerMs;
}
