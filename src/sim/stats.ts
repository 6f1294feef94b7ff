import type { Engine } from './engine.ts';
import type { SimRequestLog, SimStats, SimType } from './types.ts';

/** Request counters and the bounded request log; the engine holds the model's own counters. */
export class StatsRecorder {
  requests = 0;
  completed = 0;
  failed = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly #limit: number;
  #log: SimRequestLog[] = [];

  constructor(logLimit: number) {
    this.#limit = logLimit;
  }

  /** Counts an arriving request; the peak is taken by sample() (see Admission for why). */
  arrive(): void {
    this.requests++;
    this.inFlight++;
  }

  sample(): void {
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  finish(entry: SimRequestLog): void {
    this.inFlight--;
    if (entry.outcome === 'ok') this.completed++;
    else this.failed++;
    if (this.#limit === 0) return;
    this.#log.push(entry);
    // Trim in bulk so keeping the last `limit` entries costs O(1) per request.
    if (this.#log.length >= this.#limit * 2) this.#log = this.#log.slice(this.#log.length - this.#limit);
  }

  /** Forgets counters and the log; requests still in flight keep counting. */
  reset(): void {
    this.requests = 0;
    this.completed = 0;
    this.failed = 0;
    this.maxInFlight = this.inFlight;
    this.#log = [];
  }

  snapshot(id: string, type: SimType, engine: Engine): SimStats {
    const log =
      this.#log.length > this.#limit ? this.#log.slice(this.#log.length - this.#limit) : [...this.#log];
    log.sort((a, b) => a.id - b.id);
    const c = engine.counters;
    return {
      id,
      type,
      requests: this.requests,
      completed: this.completed,
      failed: this.failed,
      inFlight: this.inFlight,
      running: engine.running,
      queued: engine.queued,
      maxInFlight: this.maxInFlight,
      maxRunning: c.maxRunning,
      maxQueued: c.maxQueued,
      cacheHits: c.cacheHits,
      cacheHitTokens: c.cacheHitTokens,
      prefillTokens: c.prefillTokens,
      decodeTokens: c.decodeTokens,
      log,
    };
  }
}
