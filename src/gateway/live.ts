import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Fleet, FleetStats, WorkerStateEvent } from '../fleet/index.ts';
import type { RecentRequests, RequestRecord } from './recent.ts';
import { copyWith } from '../core/objects.ts';

export interface LiveWorker {
  id: string;
  type: string;
  model: string;
  state: string;
  reason: string;
  inFlight: number;
  cap: number;
  completed: number;
  failed: number;
  /** Requests finished per second over the last interval. */
  reqPerSec: number;
  /** Output tokens per second over the last interval. */
  tokensPerSec: number;
  p50Ms: number;
  p95Ms: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  utilisation: number;
}

/** What `/fleet/events` sends every interval (event `stats`) and the dashboard draws. */
export interface LiveSnapshot {
  /** Wall-clock ms. */
  at: number;
  intervalMs: number;
  queue: { depth: number; maxDepth: number; waitP95Ms: number };
  totals: FleetStats['totals'] & { reqPerSec: number; tokensPerSec: number };
  workers: LiveWorker[];
  /** Requests finished since the previous snapshot (the first one: the latest few). */
  recent: RequestRecord[];
}

type Listener = (event: 'stats' | 'worker', data: LiveSnapshot | WorkerStateEvent) => void;

/**
 * One sampler shared by every `/fleet/events` subscriber: it ticks only while someone listens,
 * and turns the fleet's cumulative counters into per-interval rates.
 */
export class LiveFeed {
  readonly #listeners = new Set<Listener>();
  readonly #closers = new Map<Listener, () => void>();
  #timer: TimerHandle | undefined;
  #prev = new Map<string, { done: number; tokens: number }>();
  #prevAt = 0;
  #seq = 0;
  readonly #onState = (e: WorkerStateEvent) => this.#emit('worker', e);

  constructor(
    readonly fleet: Fleet,
    readonly recent: RecentRequests,
    readonly clock: Clock,
    /** ms between snapshots. @default 1000 */
    readonly intervalMs = 1000,
  ) {}

  /**
   * Subscribes; the listener gets a first snapshot at once, `onClose` runs if the feed closes.
   * Returns the unsubscribe function.
   */
  subscribe(l: Listener, onClose: () => void = () => undefined): () => void {
    if (this.#listeners.size === 0) this.#start();
    this.#listeners.add(l);
    this.#closers.set(l, onClose);
    l('stats', this.#snapshot(this.recent.since(Math.max(0, this.recent.lastSeq - 20)), false));
    return () => {
      this.#closers.delete(l);
      if (!this.#listeners.delete(l)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Ends every subscription (each one's `onClose` runs): the gateway is shutting down. */
  close(): void {
    const closers = [...this.#closers.values()];
    this.#listeners.clear();
    this.#closers.clear();
    this.#stop();
    for (const fn of closers) fn();
  }

  #start(): void {
    this.fleet.on('worker:state', this.#onState);
    this.#prevAt = this.clock.now();
    this.#seq = this.recent.lastSeq;
    this.#prev.clear();
    for (const w of this.fleet.stats().workers)
      this.#prev.set(w.id, { done: w.completed + w.failed, tokens: w.outputTokens });
    const tick = () => {
      const recent = this.recent.since(this.#seq);
      this.#seq = this.recent.lastSeq;
      this.#emit('stats', this.#snapshot(recent, true));
      this.#timer = this.clock.setTimeout(tick, this.intervalMs);
    };
    this.#timer = this.clock.setTimeout(tick, this.intervalMs);
  }

  #stop(): void {
    this.fleet.off('worker:state', this.#onState);
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #emit(event: 'stats' | 'worker', data: LiveSnapshot | WorkerStateEvent): void {
    for (const l of this.#listeners) l(event, data);
  }

  /** @param advance move the rate baseline (ticks do; a new subscriber's first look does not). */
  #snapshot(recent: RequestRecord[], advance: boolean): LiveSnapshot {
    const st = this.fleet.stats();
    const now = this.clock.now();
    const dt = Math.max(1e-3, (now - this.#prevAt) / 1000);
    let reqPerSec = 0;
    let tokensPerSec = 0;
    const workers = st.workers.map((w): LiveWorker => {
      const prev = this.#prev.get(w.id);
      const done = w.completed + w.failed;
      // A stats reset makes counters go down: count from zero then.
      const dDone = prev && done >= prev.done ? done - prev.done : prev ? done : 0;
      const dTok =
        prev && w.outputTokens >= prev.tokens ? w.outputTokens - prev.tokens : prev ? w.outputTokens : 0;
      if (advance) this.#prev.set(w.id, { done, tokens: w.outputTokens });
      const r = advance ? dDone / dt : 0;
      const t = advance ? dTok / dt : 0;
      reqPerSec += r;
      tokensPerSec += t;
      return {
        id: w.id,
        type: w.type,
        model: w.model,
        state: w.state,
        reason: w.reason,
        inFlight: w.inFlight,
        cap: w.cap,
        completed: w.completed,
        failed: w.failed,
        reqPerSec: r,
        tokensPerSec: t,
        p50Ms: w.latency.p50,
        p95Ms: w.latency.p95,
        ttftP50Ms: w.ttft.p50,
        ttftP95Ms: w.ttft.p95,
        utilisation: w.utilisation,
      };
    });
    if (advance) this.#prevAt = now;
    return {
      at: this.clock.wallNow(),
      intervalMs: this.intervalMs,
      queue: { depth: st.queue.depth, maxDepth: st.queue.maxDepth, waitP95Ms: st.queue.wait.p95 },
      totals: copyWith(st.totals, { reqPerSec, tokensPerSec }),
      workers,
      recent,
    };
  }
}
