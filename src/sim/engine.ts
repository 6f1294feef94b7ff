import type { Clock, TimerHandle } from '../core/clock.ts';
import type { PrefixCache } from './prefix-cache.ts';

/**
 * The performance model of one simulated LLM server, event-driven and exact.
 *
 * Up to `slots` sequences run; the rest wait FIFO. A running sequence first prefills its uncached
 * prompt tokens, then decodes. Decode is continuous batching: with n sequences decoding, each
 * advances at decodeRate / (1 + batchSlowdown * (n - 1)). Since every decoding sequence moves at
 * the same rate, the engine keeps one "virtual token clock" V (tokens a decoding sequence has
 * advanced since time zero); a sequence that joined at V = v0 holds floor(V - v0) tokens. When n
 * changes, V is brought up to date at the exact time of the change and the next event is
 * recomputed, so no error accumulates: every event (first token, last token, prefill end) happens
 * at its exact model time, and only the timer's delivery jitter (about 1 ms) is added on top.
 *
 * All times are real milliseconds from the injected clock; rates are per real millisecond (model
 * rates divided by timeScale), so timeScale 0 makes everything instant. A request whose model time
 * is zero is answered synchronously, without any timer.
 */

export type SeqPhase = 'queued' | 'prefill' | 'decode' | 'fixed' | 'hang' | 'done' | 'cancelled';

/** What the engine runs: the HTTP layer's side of one request. */
export interface EngineJob {
  /** The prompt as the prefix cache sees it; '' opts out of the cache (embeddings). */
  readonly promptText: string;
  readonly promptTokens: number;
  /** Tokens to generate (0 for embeddings: prefill only). */
  readonly outputTokens: number;
  /** Takes a slot and never progresses (the hang fault). */
  readonly hang: boolean;
  /** Wants onTick calls while running (streaming). */
  readonly wantsTicks: boolean;
  onStart(seq: Sequence): void;
  onFirstToken(seq: Sequence): void;
  onTick(seq: Sequence): void;
  onDone(seq: Sequence): void;
}

export class Sequence {
  phase: SeqPhase = 'queued';
  readonly job: EngineJob;
  readonly submittedAt: number;
  startedAt = NaN;
  /** When prefill ended and decoding began (planned at start, exact), or the fixed-latency token origin. */
  prefillEndAt = NaN;
  firstTokenAt = NaN;
  doneAt = NaN;
  cachedTokens = 0;
  firstDone = false;
  /** Decode: V when the sequence joined. */
  v0 = 0;
  /** Fixed latency: time of token 0 and the gap between tokens. */
  tokenOrigin = 0;
  tokenGap = 0;

  constructor(job: EngineJob, submittedAt: number) {
    this.job = job;
    this.submittedAt = submittedAt;
  }
}

export interface EngineConfig {
  slots: number;
  maxQueue: number;
  /** Prompt tokens per real ms (Infinity = instant). */
  prefillPerMs: number;
  /** Output tokens per real ms of one sequence alone (Infinity = instant). */
  decodePerMs: number;
  batchSlowdown: number;
  /** Real ms from slot to last token when set (the fixed-latency mode). */
  fixedMs: number | undefined;
  /** Real ms between ticks of streaming jobs. */
  tickMs: number;
}

export interface EngineCounters {
  maxRunning: number;
  maxQueued: number;
  cacheHits: number;
  cacheHitTokens: number;
  prefillTokens: number;
  decodeTokens: number;
}

const EPS = 1e-9;

export class Engine {
  readonly #cfg: EngineConfig;
  readonly #clock: Clock;
  readonly #cache: PrefixCache;
  readonly #running: Sequence[] = [];
  #queue: Sequence[] = [];
  #queueHead = 0;
  /** Virtual token clock and the time it was last brought up to date. */
  #v = 0;
  #vAt = 0;
  #nDecode = 0;
  /** Time of the state while events are being processed (callbacks may re-enter). */
  #busy = false;
  /** Streams are being ticked: the model was just brought up to date. */
  #ticking = false;
  #cursor = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #nextTickAt = Infinity;
  /** Extra real ms before every first token (the slow-first-token fault). */
  slowFirstTokenMs = 0;
  counters: EngineCounters = emptyCounters();

  constructor(cfg: EngineConfig, clock: Clock, cache: PrefixCache) {
    this.#cfg = cfg;
    this.#clock = clock;
    this.#cache = cache;
    this.#vAt = clock.now();
  }

  get running(): number {
    return this.#running.length;
  }

  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Sequences running now (for /slots-style endpoints); do not mutate. */
  get runningSequences(): readonly Sequence[] {
    return this.#running;
  }

  /** True when a new job would be refused (slots and queue full). */
  get full(): boolean {
    return this.#running.length >= this.#cfg.slots && this.queued >= this.#cfg.maxQueue;
  }

  /** Starts or queues a job; undefined when slots and queue are full. */
  submit(job: EngineJob): Sequence | undefined {
    const now = this.#now();
    this.#advanceTo(now);
    if (this.full) return undefined;
    const seq = new Sequence(job, now);
    if (this.#running.length < this.#cfg.slots) this.#start(seq, now);
    else {
      this.#queue.push(seq);
      if (this.queued > this.counters.maxQueued) this.counters.maxQueued = this.queued;
    }
    this.#settle(now);
    return seq;
  }

  /** Frees the sequence's slot (or queue place) at once; no callback is called. */
  cancel(seq: Sequence): void {
    if (seq.phase === 'done' || seq.phase === 'cancelled') return;
    const now = this.#now();
    this.#advanceTo(now);
    if ((seq.phase as SeqPhase) === 'done') return; // finished while time was brought up to date
    const t = this.#busy ? this.#cursor : now;
    if (seq.phase === 'queued') {
      const i = this.#queue.indexOf(seq, this.#queueHead);
      if (i >= 0) this.#queue.splice(i, 1);
    } else {
      this.counters.decodeTokens += this.tokensOf(seq);
      this.#removeRunning(seq);
    }
    seq.phase = 'cancelled';
    this.#fillSlots(t);
    this.#settle(now);
  }

  /** Tokens the sequence has produced by now (the last one only once its done event ran). */
  tokensOf(seq: Sequence): number {
    // Bring the model up to date first, unless it just was (events being fired, or a tick).
    if (!this.#busy && !this.#ticking) this.#settle(this.#now());
    const n = seq.job.outputTokens;
    if (seq.phase === 'done') return n;
    if (!seq.firstDone || n === 0) return 0;
    let k: number;
    if (seq.phase === 'decode') k = Math.floor(this.#v - seq.v0 + EPS);
    else if (seq.phase === 'fixed')
      k = Math.floor((this.#stateTime() - seq.tokenOrigin) / seq.tokenGap + EPS);
    else return 0;
    return Math.max(1, Math.min(k, n - 1));
  }

  /** Drops every sequence without callbacks and forgets the cache (a crash). */
  clear(): void {
    for (const s of this.#running) s.phase = 'cancelled';
    for (let i = this.#queueHead; i < this.#queue.length; i++)
      (this.#queue[i] as Sequence).phase = 'cancelled';
    this.#running.length = 0;
    this.#queue = [];
    this.#queueHead = 0;
    this.#nDecode = 0;
    this.#v = 0;
    this.#vAt = this.#now();
    this.#cache.clear();
    this.#clearTimer();
  }

  resetCounters(): void {
    this.counters = emptyCounters();
    this.counters.maxRunning = this.#running.length;
    this.counters.maxQueued = this.queued;
  }

  #now(): number {
    return this.#clock.now();
  }

  #stateTime(): number {
    return this.#busy ? this.#cursor : this.#vAt;
  }

  #decodeRate(): number {
    return this.#cfg.decodePerMs / (1 + this.#cfg.batchSlowdown * (this.#nDecode - 1));
  }

  #advanceV(t: number): void {
    if (t <= this.#vAt) return;
    if (this.#nDecode > 0) this.#v += this.#decodeRate() * (t - this.#vAt);
    else this.#v = 0; // nobody decoding: restart the virtual clock to keep its numbers small
    this.#vAt = t;
  }

  #start(seq: Sequence, t: number): void {
    seq.startedAt = t;
    this.#running.push(seq);
    if (this.#running.length > this.counters.maxRunning) this.counters.maxRunning = this.#running.length;
    const job = seq.job;
    if (job.hang) {
      seq.phase = 'hang';
      job.onStart(seq);
      return;
    }
    const cached = job.promptText === '' ? 0 : this.#cache.lookup(job.promptText, job.promptTokens);
    seq.cachedTokens = cached;
    if (cached > 0) {
      this.counters.cacheHits++;
      this.counters.cacheHitTokens += cached;
    }
    const uncached = job.promptTokens - cached;
    this.counters.prefillTokens += uncached;
    const slow = this.slowFirstTokenMs;
    if (this.#cfg.fixedMs !== undefined) {
      // Fixed latency: the whole request takes fixedMs however many tokens and whatever the batch.
      seq.phase = 'fixed';
      seq.tokenOrigin = t + slow;
      seq.prefillEndAt = seq.tokenOrigin;
      seq.tokenGap = job.outputTokens > 0 ? this.#cfg.fixedMs / job.outputTokens : this.#cfg.fixedMs;
      if (job.promptText !== '') this.#cache.insert(job.promptText, job.promptTokens);
    } else {
      seq.phase = 'prefill';
      seq.prefillEndAt = t + uncached / this.#cfg.prefillPerMs + slow;
    }
    job.onStart(seq);
  }

  #removeRunning(seq: Sequence): void {
    const i = this.#running.indexOf(seq);
    if (i >= 0) this.#running.splice(i, 1);
    if (seq.phase === 'decode') this.#nDecode--;
  }

  #fillSlots(t: number): void {
    while (this.#running.length < this.#cfg.slots && this.queued > 0) {
      const next = this.#queue[this.#queueHead] as Sequence;
      this.#queue[this.#queueHead++] = undefined as unknown as Sequence;
      if (this.#queueHead > 256 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#start(next, t);
    }
  }

  /** Time of the next event of `seq`, or Infinity. */
  #eventTime(seq: Sequence, rate: number): number {
    switch (seq.phase) {
      case 'prefill':
        return seq.prefillEndAt;
      case 'decode': {
        const target = seq.v0 + (seq.firstDone ? seq.job.outputTokens : 1);
        const left = target - this.#v;
        return left <= EPS ? this.#vAt : this.#vAt + left / rate;
      }
      case 'fixed': {
        const n = seq.job.outputTokens;
        if (n === 0 || seq.firstDone) return seq.tokenOrigin + seq.tokenGap * Math.max(n, 1);
        return seq.tokenOrigin + seq.tokenGap;
      }
      default:
        return Infinity;
    }
  }

  #nextEvent(): { t: number; seq: Sequence | undefined } {
    const rate = this.#nDecode > 0 ? this.#decodeRate() : 0;
    let t = Infinity;
    let seq: Sequence | undefined;
    for (const s of this.#running) {
      const e = this.#eventTime(s, rate);
      if (e < t) {
        t = e;
        seq = s;
      }
    }
    return { t, seq };
  }

  /** Processes, in time order, every event due at or before `now`. */
  #advanceTo(now: number): void {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (;;) {
        const { t, seq } = this.#nextEvent();
        if (seq === undefined || t > now) break;
        this.#advanceV(t);
        this.#cursor = t;
        this.#fire(seq, t);
      }
      this.#advanceV(now);
      this.#cursor = now;
    } finally {
      this.#busy = false;
    }
  }

  #fire(seq: Sequence, t: number): void {
    const job = seq.job;
    if (seq.phase === 'prefill') {
      if (job.promptText !== '') this.#cache.insert(job.promptText, job.promptTokens);
      if (job.outputTokens === 0) return this.#finish(seq, t);
      seq.phase = 'decode';
      seq.v0 = this.#v;
      this.#nDecode++;
      return;
    }
    if (!seq.firstDone && job.outputTokens > 0) {
      seq.firstDone = true;
      seq.firstTokenAt = t;
      job.onFirstToken(seq);
      return;
    }
    this.#finish(seq, t);
  }

  #finish(seq: Sequence, t: number): void {
    this.#removeRunning(seq);
    seq.phase = 'done';
    seq.doneAt = t;
    this.counters.decodeTokens += seq.job.outputTokens;
    this.#fillSlots(t);
    seq.job.onDone(seq);
  }

  /** After a change: process anything now due, then arm one timer for the next event or tick. */
  #settle(now: number): void {
    if (this.#busy) return;
    this.#advanceTo(now);
    const { t } = this.#nextEvent();
    let target = t;
    if (this.#wantsTicks()) {
      if (this.#nextTickAt === Infinity) this.#nextTickAt = now + this.#cfg.tickMs;
      target = Math.min(target, this.#nextTickAt);
    } else this.#nextTickAt = Infinity;
    if (target === this.#timerAt && this.#timer !== undefined) return;
    this.#clearTimer();
    if (target === Infinity) return;
    this.#timerAt = target;
    this.#timer = this.#clock.setTimeout(() => this.#onTimer(), Math.max(0, Math.ceil(target - now)));
  }

  #wantsTicks(): boolean {
    for (const s of this.#running) {
      if (s.job.wantsTicks && s.phase !== 'hang') return true;
    }
    return false;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    this.#advanceTo(now);
    if (now >= this.#nextTickAt) {
      this.#nextTickAt = now + this.#cfg.tickMs;
      this.#ticking = true;
      try {
        for (const s of [...this.#running]) {
          if (s.job.wantsTicks && (s.phase === 'prefill' || s.phase === 'decode' || s.phase === 'fixed')) {
            s.job.onTick(s);
          }
        }
      } finally {
        this.#ticking = false;
      }
    }
    this.#settle(this.#now());
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

function emptyCounters(): EngineCounters {
  return { maxRunning: 0, maxQueued: 0, cacheHits: 0, cacheHitTokens: 0, prefillTokens: 0, decodeTokens: 0 };
}
