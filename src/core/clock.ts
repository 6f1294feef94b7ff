import type { AbortLike } from './cancel.ts';
/**
 * Time is injected (DESIGN.md): library code asks a Clock, never `Date` or the global timers,
 * so tests can drive it with fake timers.
 */
export type TimerHandle = { readonly __timer: unique symbol } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Monotonic milliseconds (performance.now()); use for durations. */
  now(): number;
  /** Wall-clock milliseconds since the epoch; use for timestamps people read. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortLike): Promise<void>;
}

/**
 * The real clock. It reads the globals on every call (not once at import), so vitest's fake
 * timers, installed after import, still take effect.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as ReturnType<typeof setTimeout>);
  },
  sleep: (ms, signal) => sleepWith(systemClock, ms, signal),
};

export function sleepWith(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, ms: number, signal?: AbortLike) {
  // Rejects with the abort reason as is, like every AbortSignal-based API.
  /* eslint-disable @typescript-eslint/prefer-promise-reject-errors */
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    /* eslint-enable @typescript-eslint/prefer-promise-reject-errors */
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
