import type { ProbeResult } from '../backends/types.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { FleetError } from '../core/errors.ts';
import type { WorkerRuntime, WorkerState } from './worker.ts';

export interface HealthOptions {
  clock: Clock;
  /** ms between active probes; 0 disables them. */
  intervalMs: number;
  /** Consecutive failures that open a circuit. */
  threshold: number;
  /** ms an open circuit waits before one trial request (half-open). */
  cooldownMs: number;
  /** Called after any change that may free slots (the scheduler's pump). */
  onChange(worker: WorkerRuntime): void;
  /** Called when a worker's state changes. */
  onState(worker: WorkerRuntime, from: WorkerState, to: WorkerState, reason: string): void;
  onProbe?(worker: WorkerRuntime, result: ProbeResult): void;
}

/** Codes that say the worker itself is unwell (as opposed to the request being bad or the caller leaving). */
const WORKER_FAULTS = new Set([
  'FLEET_UPSTREAM_CONNECT',
  'FLEET_UPSTREAM_TIMEOUT',
  'FLEET_UPSTREAM_SERVER',
  'FLEET_UPSTREAM_MALFORMED',
  'FLEET_UPSTREAM_STREAM_ENDED',
]);

/**
 * Health of the workers: active probes every interval, and passive circuit breaking from real
 * traffic (closed -> open after `threshold` consecutive faults, or at once on connection refused;
 * half-open after the cooldown lets one trial request through; its success closes the circuit).
 */
export class HealthMonitor {
  readonly #o: HealthOptions;
  #workers: () => readonly WorkerRuntime[];
  #interval: TimerHandle | undefined;
  readonly #cooldowns = new Map<WorkerRuntime, TimerHandle>();
  readonly #probing = new Set<WorkerRuntime>();
  #closed = false;

  constructor(workers: () => readonly WorkerRuntime[], options: HealthOptions) {
    this.#workers = workers;
    this.#o = options;
  }

  start(): void {
    if (this.#o.intervalMs <= 0 || this.#interval) return;
    const tick = () => {
      if (this.#closed) return;
      void this.probeAll();
      this.#interval = this.#o.clock.setTimeout(tick, this.#o.intervalMs);
    };
    this.#interval = this.#o.clock.setTimeout(tick, this.#o.intervalMs);
  }

  /** New timing from a config reload; the probe loop restarts with the new interval. */
  configure(t: Pick<HealthOptions, 'intervalMs' | 'threshold' | 'cooldownMs'>): void {
    const restart = this.#interval !== undefined && t.intervalMs !== this.#o.intervalMs;
    Object.assign(this.#o, t);
    if (restart) {
      this.#o.clock.clearTimeout(this.#interval);
      this.#interval = undefined;
      this.start();
    }
  }

  stop(): void {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#interval);
    for (const t of this.#cooldowns.values()) this.#o.clock.clearTimeout(t);
    this.#cooldowns.clear();
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.#workers().map((w) => this.probe(w)));
  }

  /** Probes one worker and applies the result. A probe already running for it is not duplicated. */
  async probe(worker: WorkerRuntime): Promise<ProbeResult | undefined> {
    if (this.#probing.has(worker)) return undefined;
    this.#probing.add(worker);
    try {
      const result = await worker.backend.probe();
      if (!this.#closed) this.#applyProbe(worker, result);
      return result;
    } finally {
      this.#probing.delete(worker);
    }
  }

  onSuccess(worker: WorkerRuntime): void {
    const wasFailing = worker.consecutiveFailures > 0 || worker.circuit !== 'closed';
    worker.consecutiveFailures = 0;
    if (!wasFailing) return;
    worker.circuit = 'closed';
    this.#setState(worker, 'healthy', '');
  }

  onFailure(worker: WorkerRuntime, err: FleetError): void {
    const now = this.#o.clock.now();
    if (err.code === 'FLEET_UPSTREAM_BUSY') {
      // Busy is back-pressure, not sickness: keep off it for Retry-After (or a second).
      worker.busyUntil = Math.max(worker.busyUntil, now + (err.retryAfterMs ?? 1000));
      this.#o.onChange(worker);
      return;
    }
    if (!WORKER_FAULTS.has(err.code)) return;
    worker.consecutiveFailures++;
    const reason = err.message;
    if (
      worker.circuit === 'half_open' ||
      err.code === 'FLEET_UPSTREAM_CONNECT' ||
      worker.consecutiveFailures >= this.#o.threshold
    ) {
      this.#open(worker, reason);
    } else {
      this.#setState(worker, 'degraded', reason);
    }
  }

  /**
   * Opens the circuit. Opened by traffic, it half-opens after the cooldown; opened by a probe
   * (unreachable, still loading), it waits for a probe that says ready.
   */
  #open(worker: WorkerRuntime, reason: string, byProbe = false): void {
    worker.circuit = 'open';
    this.#setState(worker, 'down', reason);
    this.#o.clock.clearTimeout(this.#cooldowns.get(worker));
    this.#cooldowns.delete(worker);
    if (byProbe) return;
    this.#cooldowns.set(
      worker,
      this.#o.clock.setTimeout(() => {
        this.#cooldowns.delete(worker);
        if (this.#closed || worker.circuit !== 'open' || worker.state === 'draining') return;
        worker.circuit = 'half_open';
        this.#setState(worker, 'degraded', `trial request after ${reason}`);
        this.#o.onChange(worker);
      }, this.#o.cooldownMs),
    );
  }

  #applyProbe(worker: WorkerRuntime, result: ProbeResult): void {
    worker.lastProbeMs = result.latencyMs;
    worker.lastProbeAt = this.#o.clock.now();
    const slots = result.capacity?.slots;
    if (slots !== undefined && slots > 0) {
      worker.detectedSlots = slots;
      if (worker.config.capSource === 'default' && worker.cap !== slots) {
        worker.cap = slots;
        this.#o.onChange(worker);
      }
    }
    this.#o.onProbe?.(worker, result);
    if (worker.state === 'draining') return;
    if (result.state === 'ready') {
      if (worker.state === 'down' || worker.circuit !== 'closed') {
        this.#o.clock.clearTimeout(this.#cooldowns.get(worker));
        this.#cooldowns.delete(worker);
        worker.circuit = 'closed';
        worker.consecutiveFailures = 0;
        this.#setState(worker, 'healthy', '');
        this.#o.onChange(worker);
      }
      return;
    }
    const reason = result.reason ?? (result.state === 'loading' ? 'loading' : 'probe failed');
    if (worker.state !== 'down') this.#open(worker, reason, true);
    else worker.reason = reason;
  }

  #setState(worker: WorkerRuntime, to: WorkerState, reason: string): void {
    const from = worker.state;
    if (from === 'draining') return;
    worker.reason = reason;
    if (from === to) return;
    worker.state = to;
    this.#o.onState(worker, from, to, reason);
  }
}
