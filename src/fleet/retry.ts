import type { Random } from '../core/random.ts';

/** First retry waits about this long (ms); each later one doubles, up to MAX. */
const BASE_MS = 50;
const MAX_MS = 2000;

/** Capped exponential backoff with jitter in [50 %, 100 %] of the step (attempt = failures so far). */
export function backoffMs(attempt: number, random: Random): number {
  const step = Math.min(MAX_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return step * (0.5 + 0.5 * random.next());
}
