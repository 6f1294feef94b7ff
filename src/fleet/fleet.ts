import { Cancel, type AbortLike } from '../core/cancel.ts';
import { EventEmitter } from 'node:events';
import type { Backend } from '../backends/types.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { FleetError, toFleetError } from '../core/errors.ts';
import type { ModelDetails } from '../core/capabilities.ts';
import { copyWith } from '../core/objects.ts';
import type {
  ChatCompletion,
  ChatRequest,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Usage,
} from '../core/openai.ts';
import { createRandom, type Random } from '../core/random.ts';
import type { FleetConfig, Settings, WorkerConfig } from '../config/types.ts';
import { HealthMonitor } from './health.ts';
import { backoffMs } from './retry.ts';
import { Scheduler, type Lease } from './scheduler.ts';
import { planReload, type ReloadResult } from './reload.ts';
import { snapshotStats } from './stats.ts';
import { estimateRequest } from './estimate.ts';
import type {
  FleetEvents,
  FleetResult,
  FleetStats,
  RequestEndEvent,
  RequestOptions,
  RequestStartEvent,
} from './types.ts';
import { FleetPrior, WorkerRuntime } from './worker.ts';
import { FleetStream, runStreamAttempts } from './stream.ts';
import { callHedged } from './hedge.ts';
import { ModelDescriber } from './describe.ts';

export interface FleetDeps {
  clock?: Clock;
  random?: Random;
  /** Builds a worker's Backend. @default the adapter of its type (src/backends) */
  createBackend?: (worker: WorkerConfig) => Backend;
  /** Start active health probes at once. @default true */
  probe?: boolean;
  /**
   * ms a slot stays taken after the fleet tore down an upstream request (caller abort, timeout,
   * stream closed early). The caller is answered at once; the pause lets the server notice the
   * disconnect before the slot gets new work, so it never sees more than its cap. @default 25
   */
  abandonSettleMs?: number;
  /**
   * Tail hedges: a worker left idle may run a copy of a non-streamed request that a slower worker
   * is still working on, and the first answer wins (Scheduler, "tail hedges"). @default true
   */
  hedge?: boolean;
}

/** Codes that mean the fleet cut the upstream request short (rather than the server ending it). */
const ABANDONED = new Set(['FLEET_ABORTED', 'FLEET_UPSTREAM_TIMEOUT', 'FLEET_CLOSED']);

/** What every call shares: the worker it runs on, and an abort signal scoped to the attempt. */
export interface Attempt {
  worker: WorkerRuntime;
  lease: Lease;
  signal: AbortLike;
  attempt: number;
  /** A tail hedge: a copy of a request another worker is still on (hedge.ts). */
  hedge?: true;
}

/** The fleet's request context, used by the non-streaming and streaming paths alike. */
export interface RequestPlan {
  id: number;
  model: string | undefined;
  promptTokens: number;
  outputTokens: number;
  opts: RequestOptions;
  maxRetries: number;
  startedAt: number;
}

/**
 * Many workers as one (DESIGN.md "The scheduler"). Requests queue centrally, go to the free worker
 * with the lowest expected completion time, are retried elsewhere on retryable failures, and are
 * counted into one stats model.
 */
export class Fleet extends EventEmitter<FleetEvents> {
  /** Current settings (replaced by `reload`). */
  settings: Settings;
  readonly clock: Clock;
  readonly random: Random;
  readonly scheduler: Scheduler;
  readonly health: HealthMonitor;
  readonly abandonSettleMs: number;
  #workers: WorkerRuntime[];
  /** Workers removed or replaced by a reload, finishing their in-flight requests. */
  #draining = new Set<WorkerRuntime>();
  readonly #prior = new FleetPrior();
  readonly #createBackend: (w: WorkerConfig) => Backend;
  #nextId = 0;
  #closed = false;
  #refusing = false;
  #statsSince: number;
  #active = new Set<Cancel>();
  #idleWaiters: Array<() => void> = [];
  #ready: Promise<void> | undefined;
  readonly #describer: ModelDescriber;

  constructor(
    config: Pick<FleetConfig, 'workers' | 'settings'>,
    deps: FleetDeps & { createBackend: (w: WorkerConfig) => Backend },
  ) {
    super();
    this.settings = config.settings;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? createRandom(1);
    this.#statsSince = this.clock.now();
    this.abandonSettleMs = deps.abandonSettleMs ?? 25;
    this.#createBackend = deps.createBackend;
    this.#describer = new ModelDescriber(this.clock);
    this.#workers = config.workers.map((w) => this.#runtime(w));
    this.scheduler = new Scheduler(this.#workers, {
      clock: this.clock,
      random: this.random,
      maxQueueSize: this.settings.maxQueueSize,
      hedge: deps.hedge ?? true,
    });
    this.health = new HealthMonitor(() => this.#workers, {
      clock: this.clock,
      intervalMs: this.settings.healthCheckInterval * 1000,
      threshold: this.settings.circuitBreakerThreshold,
      cooldownMs: this.settings.circuitBreakerCooldown * 1000,
      onChange: (w) => this.scheduler.pump(w),
      onState: (w, from, to, reason) => {
        this.emit('worker:state', { worker: w.id, from, to, reason });
        this.scheduler.pumpAll();
      },
    });
    if (deps.probe !== false) {
      this.#ready = this.health.probeAll();
      this.health.start();
    }
  }

  get workers(): readonly WorkerRuntime[] {
    return this.#workers;
  }

  /** Resolves once every worker has been probed once (immediately when probing is off). */
  async ready(): Promise<FleetStats> {
    this.#ready ??= this.health.probeAll();
    await this.#ready;
    return this.stats();
  }

  async chat(req: ChatRequest, opts: RequestOptions = {}): Promise<FleetResult<ChatCompletion>> {
    const plan = this.#plan(req, opts);
    return this.#run(
      plan,
      false,
      (a) => a.worker.backend.chat(withModel(req, plan.model), { signal: a.signal }),
      (r) => r.usage,
    );
  }

  /**
   * Streams a chat completion. Retries on another worker only until the first chunk reached the
   * caller. Breaking out of the loop aborts the upstream request and frees the slot.
   */
  chatStream(req: ChatRequest, opts: RequestOptions = {}): FleetStream {
    const plan = this.#plan(req, opts);
    return new FleetStream((stream) => runStreamAttempts(this, plan, withModel(req, plan.model), stream));
  }

  async complete(req: CompletionRequest, opts: RequestOptions = {}): Promise<FleetResult<Completion>> {
    const plan = this.#plan(req, opts);
    return this.#run(
      plan,
      false,
      (a) => a.worker.backend.complete(withModel(req, plan.model), { signal: a.signal }),
      (r) => r.usage,
    );
  }

  async embed(req: EmbeddingRequest, opts: RequestOptions = {}): Promise<FleetResult<EmbeddingResponse>> {
    const plan = this.#plan(req, copyWith(opts, { expectedOutputTokens: 0 }));
    return this.#run(
      plan,
      false,
      (a) => a.worker.backend.embed(withModel(req, plan.model), { signal: a.signal }),
      () => undefined,
    );
  }

  /**
   * What the workers serving `model` say it can do and what it is (ModelDescriber): undefined
   * when none could say.
   */
  describeModel(model: string): Promise<ModelDetails | undefined> {
    return this.#describer.describe(model, this.scheduler.eligible(model));
  }

  /** The same without waiting: what the workers have said so far; the rest are asked for next time. */
  knownModelDetails(model: string): ModelDetails | undefined {
    return this.#describer.known(model, this.scheduler.eligible(model));
  }

  /** The union of the workers' models, each with the workers that serve it. */
  models(): Array<{ id: string; workers: string[] }> {
    return this.scheduler.knownModels().map((id) => ({
      id,
      workers: this.scheduler.eligible(id).map((w) => w.id),
    }));
  }

  /** Stats of every worker, including ones a reload is draining. */
  stats(): FleetStats {
    const all = this.#draining.size === 0 ? this.#workers : [...this.#workers, ...this.#draining];
    return snapshotStats(all, this.scheduler, this.clock.now(), this.#statsSince);
  }

  /**
   * Applies a new config without a restart: added workers join at once, removed ones stop taking
   * work and are closed when their in-flight requests have finished, changed ones are replaced
   * (the old one drains). Per-request settings apply to new requests; health timing restarts.
   */
  reload(config: Pick<FleetConfig, 'workers' | 'settings'>): ReloadResult {
    const plan = planReload(this.#workers, config.workers);
    const started = plan.start.map((w) => this.#runtime(w));
    const drainingIds = new Set(plan.drain.map((w) => w.id));
    this.settings = config.settings;
    this.scheduler.maxQueueSize = config.settings.maxQueueSize;
    this.#workers = [...plan.kept, ...started];
    this.scheduler.setWorkers(this.#workers);
    for (const w of plan.drain) this.#retire(w);
    this.health.configure({
      intervalMs: config.settings.healthCheckInterval * 1000,
      threshold: config.settings.circuitBreakerThreshold,
      cooldownMs: config.settings.circuitBreakerCooldown * 1000,
    });
    for (const w of started) void this.health.probe(w);
    return {
      added: started.filter((w) => !drainingIds.has(w.id)).map((w) => w.id),
      changed: started.filter((w) => drainingIds.has(w.id)).map((w) => w.id),
      removed: plan.drain.filter((w) => !started.some((s) => s.id === w.id)).map((w) => w.id),
      unchanged: plan.kept.map((w) => w.id),
    };
  }

  #runtime(config: WorkerConfig): WorkerRuntime {
    return new WorkerRuntime(config, this.#createBackend(config), this.clock, this.#prior);
  }

  /** Takes a worker out of rotation; closes its connections once its last request has finished. */
  #retire(w: WorkerRuntime): void {
    const from = w.state;
    w.state = 'draining';
    w.reason = 'removed from the config';
    this.emit('worker:state', { worker: w.id, from, to: 'draining', reason: w.reason });
    const finish = () => {
      this.#draining.delete(w);
      void w.backend.close().catch(() => undefined);
    };
    if (w.inFlight === 0) return finish();
    this.#draining.add(w);
    w.onIdle = finish;
  }

  /** Starts a new stats window (benchmark levels). Does not touch learned rates or health. */
  resetStats(): void {
    const now = this.clock.now();
    this.#statsSince = now;
    for (const w of this.#workers) w.resetStats(now);
    this.scheduler.queueWait.reset();
    this.scheduler.maxQueued = this.scheduler.queued;
  }

  /** Stops taking new requests and resolves when everything queued or in flight has finished. */
  async drain(): Promise<void> {
    this.#refusing = true;
    if (this.#busy()) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new work, fails queued requests, aborts in-flight ones, stops probes, closes connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#refusing = true;
    this.health.stop();
    this.scheduler.rejectAll(new FleetError('FLEET_CLOSED', 'the fleet was closed'));
    for (const ac of this.#active) ac.abort(new FleetError('FLEET_CLOSED', 'the fleet was closed'));
    const all = [...this.#workers, ...this.#draining];
    await Promise.all(all.map((w) => w.backend.close().catch(() => undefined)));
  }

  // ---- internals shared with stream.ts -------------------------------------------------------

  /** Waits for a slot for the next attempt, honouring exclusions from earlier failures. */
  async acquire(
    plan: RequestPlan,
    exclude: ReadonlySet<string>,
    seq: number | undefined,
    signal: AbortLike,
  ): Promise<Lease> {
    if (this.#refusing)
      throw new FleetError('FLEET_CLOSED', 'the fleet is draining or closed and takes no new requests');
    return this.scheduler.acquire({
      model: plan.model,
      priority: plan.opts.priority ?? 'interactive',
      affinityKey: plan.opts.affinityKey,
      preferWorker: plan.opts.preferWorker,
      promptTokens: plan.promptTokens,
      outputTokens: plan.outputTokens,
      exclude,
      seq,
      queueTimeoutMs: plan.opts.queueTimeoutMs ?? this.settings.queueTimeout * 1000,
      signal,
    });
  }

  /**
   * The abort controller of one request (a Cancel: an AbortSignal costs ~10 us per request):
   * follows the caller's signal and the total timeout.
   */
  controllerFor(plan: RequestPlan): { ac: Cancel; dispose: () => void } {
    const ac = new Cancel();
    this.#active.add(ac);
    const caller = plan.opts.signal;
    const onAbort = () =>
      ac.abort(new FleetError('FLEET_ABORTED', 'request aborted by the caller', { cause: caller?.reason }));
    if (caller?.aborted) onAbort();
    else caller?.addEventListener('abort', onAbort, { once: true });
    // Each attempt has its worker's own timeouts and queueing has queue_timeout; an overall limit
    // (queueing + retries) exists only when the caller asks for one.
    const totalMs = plan.opts.timeoutMs;
    const timer =
      totalMs === undefined
        ? undefined
        : this.clock.setTimeout(
            () =>
              ac.abort(
                new FleetError(
                  'FLEET_UPSTREAM_TIMEOUT',
                  `request timed out after ${Math.round(totalMs)} ms (including queueing and retries)`,
                  { phase: 'total' },
                ),
              ),
            totalMs,
          );
    return {
      ac,
      dispose: () => {
        this.clock.clearTimeout(timer);
        caller?.removeEventListener('abort', onAbort);
        this.#active.delete(ac);
        this.#checkIdle();
      },
    };
  }

  /** Records an attempt's success on its worker. */
  succeeded(
    a: Attempt,
    plan: RequestPlan,
    latencyMs: number,
    ttftMs: number | undefined,
    usage: Usage | undefined,
    fallbackOutput?: number,
  ): number {
    const w = a.worker;
    const out = usage?.completion_tokens ?? fallbackOutput ?? 0;
    const prompt = usage?.prompt_tokens ?? plan.promptTokens;
    const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    w.completed++;
    w.latency.record(latencyMs);
    if (ttftMs !== undefined) w.ttft.record(ttftMs);
    w.promptTokens += prompt;
    w.outputTokens += out;
    w.rates.observe(Math.max(0, prompt - cached), out, latencyMs, ttftMs);
    this.health.onSuccess(w);
    // Events are built only when someone listens: this runs for every request.
    if (this.listenerCount('request:end') > 0) {
      const e = endEvent(plan, a, true, latencyMs);
      e.outputTokens = out;
      if (ttftMs !== undefined) e.ttftMs = ttftMs;
      this.emit('request:end', e);
    }
    return out;
  }

  /**
   * Records an attempt's failure and decides whether to retry. Returns the delay before the next
   * attempt, or undefined when the error must go to the caller.
   */
  failed(
    a: Attempt,
    plan: RequestPlan,
    err: FleetError,
    latencyMs: number,
    canRetry: boolean,
  ): number | undefined {
    const w = a.worker;
    const callerGone =
      err.code === 'FLEET_ABORTED' ||
      err.code === 'FLEET_CLOSED' ||
      (err.code === 'FLEET_UPSTREAM_TIMEOUT' && err.phase === 'total');
    if (!callerGone) this.health.onFailure(w, err);
    w.failed++;
    w.countError(err.code);
    const retry = canRetry && !callerGone && err.retryable && a.attempt <= plan.maxRetries && !this.#refusing;
    if (retry) w.retried++;
    if (this.listenerCount('request:end') > 0) {
      const e = endEvent(plan, a, false, latencyMs);
      e.error = err.code;
      e.retrying = retry;
      this.emit('request:end', e);
    }
    if (!retry) return undefined;
    const others = this.scheduler
      .eligible(plan.model)
      .some((x) => x !== w && (x.state === 'healthy' || x.state === 'degraded'));
    if (!others && err.retryAfterMs !== undefined) return err.retryAfterMs;
    return backoffMs(a.attempt, this.random);
  }

  /** Frees an attempt's slot: at once, or after the settle time when the fleet cut the request short. */
  releaseAfter(lease: Lease, err: FleetError | undefined): void {
    lease.release(err !== undefined && ABANDONED.has(err.code) ? this.abandonSettleMs : 0);
  }

  started(a: Attempt, plan: RequestPlan, stream: boolean): void {
    if (this.listenerCount('request:start') === 0) return;
    const e: RequestStartEvent = {
      id: plan.id,
      worker: a.worker.id,
      model: plan.model,
      attempt: a.attempt,
      queuedMs: a.lease.queuedMs,
      stream,
    };
    if (a.hedge) e.hedge = true;
    this.emit('request:start', e);
  }

  #plan(req: ChatRequest | CompletionRequest | EmbeddingRequest, opts: RequestOptions): RequestPlan {
    const est = estimateRequest(req);
    return {
      id: ++this.#nextId,
      model: opts.model ?? (typeof req.model === 'string' && req.model !== '' ? req.model : undefined),
      promptTokens: est.promptTokens,
      outputTokens: opts.expectedOutputTokens ?? est.maxTokens ?? 128,
      opts,
      maxRetries: opts.maxRetries ?? this.settings.maxRetries,
      startedAt: this.clock.now(),
    };
  }

  async #run<T>(
    plan: RequestPlan,
    stream: boolean,
    call: (a: Attempt) => Promise<T>,
    usageOf: (r: T) => Usage | undefined,
  ): Promise<FleetResult<T>> {
    const { ac, dispose } = this.controllerFor(plan);
    const exclude = new Set<string>();
    let seq: number | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        const lease = await this.acquire(plan, exclude, seq, ac.signal).catch((e: unknown) => {
          throw reasonOr(ac.signal, e);
        });
        seq = lease.seq;
        const a: Attempt = { worker: lease.worker, lease, signal: ac.signal, attempt };
        this.started(a, plan, stream);
        const t0 = this.clock.now();
        try {
          // The answer may come from a tail hedge on another worker (hedge.ts).
          const won = await callHedged(this, plan, a, call, ac);
          const response = won.response;
          const latencyMs = this.clock.now() - won.startedAt;
          const usage = usageOf(response);
          const out = this.succeeded(won.attempt, plan, latencyMs, undefined, usage);
          return {
            response,
            worker: won.attempt.worker.id,
            attempts: attempt,
            queuedMs: lease.queuedMs,
            latencyMs: this.clock.now() - plan.startedAt,
            outputTokens: out,
            promptTokens: usage?.prompt_tokens ?? plan.promptTokens,
          };
        } catch (e) {
          const err = reasonOr(ac.signal, e).withWorker(lease.worker.id);
          this.releaseAfter(lease, err);
          const delay = this.failed(a, plan, err, this.clock.now() - t0, true);
          if (delay === undefined) throw err;
          exclude.add(lease.worker.id);
          await this.clock.sleep(delay, ac.signal).catch(() => {
            throw reasonOr(ac.signal, err);
          });
        } finally {
          lease.release();
        }
      }
    } finally {
      dispose();
    }
  }

  #busy(): boolean {
    return this.#active.size > 0 || this.scheduler.queued > 0;
  }

  #checkIdle(): void {
    if (!this.#refusing || this.#busy()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * The start of an attempt's `request:end` event; the caller adds what the outcome has. Every such
 * event gets its properties in one order, so they share hidden classes.
 */
export function endEvent(plan: RequestPlan, a: Attempt, ok: boolean, latencyMs: number): RequestEndEvent {
  const e: RequestEndEvent = {
    id: plan.id,
    worker: a.worker.id,
    model: plan.model,
    attempt: a.attempt,
    ok,
    latencyMs,
  };
  if (a.hedge) e.hedge = true;
  return e;
}

/** The caller-facing error: the abort reason when the request's own signal fired, else the error. */
export function reasonOr(signal: AbortLike, e: unknown): FleetError {
  if (signal.aborted && signal.reason instanceof FleetError) return signal.reason;
  return toFleetError(e);
}

function withModel<T extends { model?: string }>(req: T, model: string | undefined): T {
  if (model === undefined || req.model === model) return req;
  return copyWith(req, { model }); // not a spread: src/core/objects.ts
}
