import type { Backend } from '../backends/types.ts';
import type { Clock } from '../core/clock.ts';
import { LatencyHistogram } from '../core/histogram.ts';
import type { WorkerConfig } from '../config/types.ts';

export type WorkerState = 'healthy' | 'degraded' | 'down' | 'draining';
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Smoothing of learned rates: new = old + ALPHA * (sample - old). */
const ALPHA = 0.2;
/** Rates assumed before anything was measured (tokens/s at weight 1). Only their ratios matter. */
const PRIOR_PREFILL_TPS = 1000;
const PRIOR_DECODE_TPS = 30;

/**
 * What the fleet has learned about speed per unit of `weight`, across all workers. A worker not yet
 * measured is assumed to be as fast as the measured ones (scaled by its weight), so learning one
 * worker's speed never makes the others look slow by comparison.
 */
export class FleetPrior {
  prefillTps = PRIOR_PREFILL_TPS;
  decodeTps = PRIOR_DECODE_TPS;
  samples = 0;

  observe(prefillTps: number, decodeTps: number, weight: number): void {
    const first = this.samples++ === 0;
    this.prefillTps = mix(this.prefillTps, prefillTps / weight, first);
    this.decodeTps = mix(this.decodeTps, decodeTps / weight, first);
  }
}

/** Learned speed of one worker, from real responses only (never probes). */
export class RateModel {
  #prefillTps: number;
  #decodeTps: number;
  samples = 0;
  readonly #prior: FleetPrior;
  readonly #weight: number;

  constructor(weight: number, prior: FleetPrior = new FleetPrior()) {
    this.#weight = weight;
    this.#prior = prior;
    this.#prefillTps = PRIOR_PREFILL_TPS * weight;
    this.#decodeTps = PRIOR_DECODE_TPS * weight;
  }

  get prefillTps(): number {
    return this.samples > 0 ? this.#prefillTps : this.#prior.prefillTps * this.#weight;
  }

  get decodeTps(): number {
    return this.samples > 0 ? this.#decodeTps : this.#prior.decodeTps * this.#weight;
  }

  /**
   * One finished request. With a TTFT we can split prefill from decode; without one (non-streamed)
   * the prefill share is estimated from the current prefill rate.
   */
  observe(promptTokens: number, outputTokens: number, totalMs: number, ttftMs: number | undefined): void {
    if (!(totalMs > 0) || outputTokens <= 0) return;
    if (this.samples === 0) {
      this.#prefillTps = this.prefillTps;
      this.#decodeTps = this.decodeTps;
    }
    const first = this.samples === 0;
    this.samples++;
    if (ttftMs !== undefined && ttftMs > 0 && ttftMs < totalMs) {
      if (promptTokens > 0) this.#prefillTps = mix(this.#prefillTps, (promptTokens / ttftMs) * 1000, first);
      const tps = (Math.max(1, outputTokens - 1) / (totalMs - ttftMs)) * 1000;
      this.#decodeTps = mix(this.#decodeTps, tps, first);
    } else {
      const decodeMs = Math.max(totalMs * 0.05, totalMs - (promptTokens / this.#prefillTps) * 1000);
      this.#decodeTps = mix(this.#decodeTps, (outputTokens / decodeMs) * 1000, first);
    }
    this.#prior.observe(this.#prefillTps, this.#decodeTps, this.#weight);
  }

  /** Expected ms to serve a request on an otherwise idle worker. */
  expectedMs(promptTokens: number, outputTokens: number): number {
    return (promptTokens / this.prefillTps + outputTokens / this.decodeTps) * 1000;
  }
}

function mix(old: number, sample: number, replace: boolean): number {
  if (!Number.isFinite(sample) || sample <= 0) return old;
  return replace ? sample : old + ALPHA * (sample - old);
}

/** Everything the fleet tracks about one worker. Mutated only by the scheduler and health code. */
export class WorkerRuntime {
  readonly id: string;
  config: WorkerConfig;
  readonly backend: Backend;
  readonly rates: RateModel;
  readonly models: Set<string>;

  cap: number;
  inFlight = 0;
  state: WorkerState = 'healthy';
  reason = '';
  circuit: CircuitState = 'closed';
  consecutiveFailures = 0;
  /** Not dispatchable before this clock time (429/503 Retry-After, circuit cooldown). */
  busyUntil = 0;
  /** Capacity hints from the last probe. */
  detectedSlots: number | undefined;
  lastProbeMs: number | undefined;
  lastProbeAt: number | undefined;
  /** Called when the last in-flight request finishes (used to close a drained worker). */
  onIdle: (() => void) | undefined;

  // Stats.
  readonly latency = new LatencyHistogram();
  readonly ttft = new LatencyHistogram();
  started = 0;
  completed = 0;
  failed = 0;
  retried = 0;
  /** Attempts the fleet cancelled (lost hedge races, preempted hedges): not failures. */
  cancelled = 0;
  /** Tail hedges started on this worker, and how many of them answered first (see Scheduler). */
  hedges = 0;
  hedgeWins = 0;
  promptTokens = 0;
  outputTokens = 0;
  maxInFlight = 0;
  readonly errors = new Map<string, number>();
  /** Integrals for utilisation: time with >= 1 in flight, and sum of in-flight x time. */
  busyMs = 0;
  slotMs = 0;
  #lastChange: number;
  /** Clock time the current stats window began. */
  statsSince: number;

  constructor(config: WorkerConfig, backend: Backend, clock: Clock, prior?: FleetPrior) {
    this.id = config.id;
    this.config = config;
    this.backend = backend;
    this.cap = config.maxConcurrentRequests;
    this.rates = new RateModel(config.weight, prior);
    this.models = new Set(config.models);
    this.statsSince = clock.now();
    this.#lastChange = this.statsSince;
  }

  /** Slots a new request may take now (a half-open circuit admits a single trial request). */
  freeSlots(now: number): number {
    if (this.state === 'down' || this.state === 'draining' || this.circuit === 'open') return 0;
    if (now < this.busyUntil) return 0;
    const cap = this.circuit === 'half_open' ? 1 : this.cap;
    return Math.max(0, cap - this.inFlight);
  }

  serves(model: string | undefined): boolean {
    return model === undefined || this.models.has(model);
  }

  /** Records the in-flight level change at `now` for busy-time and slot-occupancy integrals. */
  account(now: number, delta: 1 | -1): void {
    const dt = now - this.#lastChange;
    if (dt > 0) {
      if (this.inFlight > 0) this.busyMs += dt;
      this.slotMs += this.inFlight * dt;
    }
    this.#lastChange = now;
    this.inFlight += delta;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (this.inFlight === 0 && this.onIdle) this.onIdle();
  }

  /** Integrals brought up to `now` without changing the level. */
  integralsAt(now: number): { busyMs: number; slotMs: number } {
    const dt = Math.max(0, now - this.#lastChange);
    return { busyMs: this.busyMs + (this.inFlight > 0 ? dt : 0), slotMs: this.slotMs + this.inFlight * dt };
  }

  /** Clears counters, histograms and integrals (a benchmark level starts afresh). */
  resetStats(now: number): void {
    this.latency.reset();
    this.ttft.reset();
    this.started = this.completed = this.failed = this.retried = this.cancelled = 0;
    this.hedges = this.hedgeWins = 0;
    this.promptTokens = this.outputTokens = 0;
    this.maxInFlight = this.inFlight;
    this.errors.clear();
    this.busyMs = this.slotMs = 0;
    this.#lastChange = now;
    this.statsSince = now;
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
