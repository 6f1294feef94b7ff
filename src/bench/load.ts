import type { Clock } from '../core/clock.ts';
import { randomExponential, type Random } from '../core/random.ts';
import type { Arrival } from './types.ts';

/** Sends request number `index`, due at clock time `scheduledAt`; resolves when it has ended. */
export type SendFn<T> = (index: number, scheduledAt: number) => Promise<T>;

export interface LoadResult<T> {
  samples: T[];
  /** Clock ms when the first request was due and when the last one ended. */
  startedAt: number;
  endedAt: number;
  /** ms each request was sent after it was due. */
  dispatchLagMs: number[];
}

/**
 * Closed loop (the guide's concurrency levels): `concurrency` callers, each sending its next
 * request the moment its last one ended, until `total` were sent. A request is due when its
 * caller became free, so the gap to its actual send is the generator's own dispatch lag.
 * Aborting `signal` stops sending; requests in flight are awaited (the caller cancels them).
 */
export async function closedLoop<T extends { endAt: number }>(
  clock: Clock,
  total: number,
  concurrency: number,
  send: SendFn<T>,
  onSample?: (s: T) => void,
  signal?: AbortSignal,
): Promise<LoadResult<T>> {
  const samples: T[] = [];
  const lag: number[] = [];
  let next = 0;
  const startedAt = clock.now();
  const caller = async () => {
    let free = clock.now();
    // An aborted run sends nothing more; requests in flight end as the caller cancels them.
    while (next < total && !signal?.aborted) {
      const i = next++;
      const sent = clock.now();
      lag.push(sent - free);
      const s = await send(i, sent);
      samples.push(s);
      onSample?.(s);
      free = s.endAt;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, caller));
  return { samples, startedAt, endedAt: clock.now(), dispatchLagMs: lag };
}

/** The clock-relative send times of an open-loop run: evenly spaced, or Poisson arrivals. */
export function schedule(total: number, rate: number, arrival: Arrival, random: Random): number[] {
  const out: number[] = [];
  const mean = 1000 / rate;
  let t = 0;
  for (let i = 0; i < total; i++) {
    out.push(t);
    t += arrival === 'constant' ? mean : randomExponential(random, mean);
  }
  return out;
}

/**
 * Open loop: requests leave on a schedule, whatever the fleet does, and each one's latency counts
 * from its scheduled time (so a slow fleet shows as queueing, not as a lower offered load).
 * Several requests due in the same millisecond go out together, so high rates do not depend on
 * timer resolution. Aborting `signal` stops the schedule; requests already sent are awaited.
 */
export async function openLoop<T>(
  clock: Clock,
  offsets: readonly number[],
  send: SendFn<T>,
  onSample?: (s: T) => void,
  signal?: AbortSignal,
): Promise<LoadResult<T>> {
  const samples: T[] = [];
  const lag: number[] = [];
  const pending: Array<Promise<void>> = [];
  const startedAt = clock.now();
  for (const [i, off] of offsets.entries()) {
    const due = startedAt + off;
    const wait = due - clock.now();
    if (wait >= 1) await clock.sleep(wait, signal).catch(() => undefined);
    if (signal?.aborted) break;
    lag.push(Math.max(0, clock.now() - due));
    pending.push(
      send(i, due).then((s) => {
        samples.push(s);
        onSample?.(s);
      }),
    );
  }
  await Promise.all(pending);
  return { samples, startedAt, endedAt: clock.now(), dispatchLagMs: lag };
}
