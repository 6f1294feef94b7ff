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
