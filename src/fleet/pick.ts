import type { Random } from '../core/random.ts';
import type { WorkerRuntime } from './worker.ts';

/** Relative difference under which two scores count as a tie (broken by the seeded random): measurement noise must not decide. */
const TIE = 0.02;

/**
 * Picks the free worker with the lowest expected completion time for a request, or undefined
 * when none is free. The affinity worker wins whenever it has a free slot. Expected time is the
 * learned idle service time scaled by how loaded the worker already is (continuous batching
 * slows every running sequence). Ties break by the seeded random, never by list order.
 */
export function pickWorker(
  candidates: readonly WorkerRuntime[],
  req: { promptTokens: number; outputTokens: number },
  exclude: ReadonlySet<string> | undefined,
  affinity: WorkerRuntime | undefined,
  now: number,
  random: Random,
): WorkerRuntime | undefined {
  if (
    affinity &&
    !exclude?.has(affinity.id) &&
    affinity.freeSlots(now) > 0 &&
    candidates.includes(affinity)
  ) {
    return affinity;
  }
  let best: WorkerRuntime | undefined;
  let bestScore = Infinity;
  let ties = 0;
  for (const w of candidates) {
    if (w.freeSlots(now) <= 0 || exclude?.has(w.id)) continue;
    const score = w.rates.expectedMs(req.promptTokens, req.outputTokens) * (1 + w.inFlight / w.cap);
    if (best === undefined || score < bestScore * (1 - TIE)) {
      best = w;
      bestScore = score;
      ties = 1;
    } else if (score <= bestScore * (1 + TIE)) {
      // Reservoir sampling: each of the tied workers ends up chosen with equal probability.
      ties++;
      if (random.next() * ties < 1) best = w;
    }
  }
  return best;
}

/**
 * A tail hedge is worth starting only when the idle worker is expected to finish the request at
 * least this many times sooner than the attempt already running elsewhere will: a duplicate that
 * wins by a little is not worth the upstream work it throws away.
 */
const HEDGE_RATIO = 1.5;

/** A running attempt that a free worker could duplicate (see Scheduler, "tail hedges"). */
export interface HedgeCandidate {
  readonly worker: WorkerRuntime;
  readonly spec: {
    readonly model: string | undefined;
    readonly promptTokens: number;
    readonly outputTokens: number;
    readonly exclude?: ReadonlySet<string> | undefined;
  };
  /** Clock time the attempt was dispatched. */
  readonly startedAt: number;
}

/**
 * The running attempt that `worker` (which has a free slot and nothing queued for it) would speed
 * up the most by starting it afresh, or undefined when no attempt would finish clearly sooner:
 * the attempt's expected time left on its own worker must exceed HEDGE_RATIO times the full time
 * it would take here. Both sides come from the learned rates, so a worker that is not faster
 * (or not yet measured) never triggers a hedge.
 */
export function pickHedge<T extends HedgeCandidate>(
  worker: WorkerRuntime,
  candidates: Iterable<T>,
  now: number,
): T | undefined {
  let best: T | undefined;
  let bestGain = 0;
  for (const c of candidates) {
    if (c.worker === worker || !worker.serves(c.spec.model) || c.spec.exclude?.has(worker.id)) continue;
    const { promptTokens, outputTokens } = c.spec;
    const left = c.startedAt + c.worker.rates.expectedMs(promptTokens, outputTokens) - now;
    const here = worker.rates.expectedMs(promptTokens, outputTokens);
    const gain = left - here;
    if (left > here * HEDGE_RATIO && gain > bestGain) {
      best = c;
      bestGain = gain;
    }
  }
  return best;
}
