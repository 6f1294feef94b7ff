import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../core/clock.ts';
import { FleetError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { createRandom, type Random } from '../core/random.ts';
import type { FleetConfig } from '../config/types.ts';
import { createFleet as defaultCreateFleet, type Fleet, type FleetStats } from '../fleet/index.ts';
import { aggregateLevel } from './aggregate.ts';
import { explainLevel } from './explain.ts';
import { closedLoop, openLoop, schedule } from './load.ts';
import { builtinPrompts, type PromptSource } from './prompts.ts';
import { sendAndRecord, type Sample } from './recorder.ts';
import { scalingPlan, scalingResult } from './scaling.ts';
import { judgeSelfCheck, processMonitor, round, type ProcessMonitor } from './self-check.ts';
import type {
  Arrival,
  BenchmarkMode,
  BenchmarkResults,
  LevelResult,
  RequestRecord,
  ScalingResult,
} from './types.ts';

/** The older tool's defaults (reference-implementation.md). */
export const BENCH_DEFAULTS = {
  mode: 'both' as BenchmarkMode,
  requests: 100,
  concurrencyLevels: [1, 5, 10, 20, 50, 100],
  workerCounts: [1, 2, 3, 5, 10],
  maxTokens: 100,
  warmupPerWorker: 2,
  pauseS: 0,
  arrival: 'poisson' as Arrival,
};

export interface BenchmarkOptions {
  config: Pick<FleetConfig, 'workers' | 'settings'>;
  /** @default 'both' */
  mode?: BenchmarkMode;
  /** Requests per level (closed loop; open loop without `durationS`). @default 100 */
  requests?: number;
  /** Closed-loop concurrency levels; levels above `requests` are skipped with a note. @default [1, 5, 10, 20, 50, 100] */
  concurrencyLevels?: number[];
  /** Worker counts for scaling (the first N workers of the config); counts above the configured workers are skipped with a note. @default [1, 2, 3, 5, 10] */
  workerCounts?: number[];
  /** max_tokens of each request (a prompt's own max_tokens wins). @default 100 */
  maxTokens?: number;
  /** Stream responses (needed for TTFT, TPOT, ITL). @default true */
  stream?: boolean;
  /** Warm-up requests per worker before each level (not measured). @default 2 */
  warmupPerWorker?: number;
  /** Seconds to pause between levels. @default 0 */
  pauseS?: number;
  /** @default the built-in short-answer prompts, unique per run */
  prompts?: PromptSource;
  /** Open loop: requests/s per level, replacing the concurrency levels. @default undefined (closed loop) */
  rates?: number[];
  /** Open-loop arrivals. @default 'poisson' */
  arrival?: Arrival;
  /** Open loop: seconds per rate level (requests = rate x duration). @default requests / rate */
  durationS?: number;
  /** Closed-loop concurrency of worker-scaling levels. @default the N workers' total slots */
  scalingConcurrency?: number;
  /** Measure each worker alone for the fair (solo-sum) efficiency. @default true */
  soloBaseline?: boolean;
  /** Tag in every prompt so no server cache can answer one from another. @default from the wall clock */
  runId?: string;
  /**
   * Aborting stops the run: nothing more is sent, requests in flight are cancelled, and the run
   * resolves with what was measured so far, marked `partial: true` (the interrupted level too,
   * covering the requests that finished before; the cancelled ones are left out).
   */
  signal?: AbortSignal;
}

export interface BenchmarkDeps {
  clock?: Clock;
  random?: Random;
  /** @default createFleet from src/fleet */
  createFleet?: (config: Pick<FleetConfig, 'workers' | 'settings'>) => Fleet;
  /** @default event-loop delay and CPU time of this process */
  monitor?: ProcessMonitor;
}

export type Phase = 'concurrency' | 'rate' | 'scaling' | 'solo';

export interface LevelStart {
  phase: Phase;
  concurrency: number;
  total: number;
  workers: string[];
  rate?: number;
}

export interface BenchEvents {
  /** The first probe of the fleet under test (or of a scaling subset). */
  health: [{ phase: Phase; stats: FleetStats; healthy: number }];
  note: [string];
  'level:start': [LevelStart];
  request: [RequestRecord];
  'level:end': [{ phase: Phase; result: LevelResult }];
  'scaling:end': [ScalingResult];
}

/**
 * A benchmark in progress: an EventEmitter (progress, per-request records) that is also awaitable
 * for the results, as autocannon's run is. Started on the next microtask so listeners can attach.
 */
export class BenchmarkRun extends EventEmitter<BenchEvents> implements PromiseLike<BenchmarkResults> {
  readonly #promise: Promise<BenchmarkResults>;

  constructor(body: (run: BenchmarkRun) => Promise<BenchmarkResults>) {
    super();
    this.#promise = Promise.resolve().then(() => body(this));
    this.#promise.catch(() => undefined);
  }

  then<A = BenchmarkResults, B = never>(
    onfulfilled?: ((v: BenchmarkResults) => A | PromiseLike<A>) | null,
    onrejected?: ((e: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onfulfilled, onrejected);
  }
}

/** Runs the guide's benchmark (and more) against the fleet of `options.config`. */
export function runBenchmark(options: BenchmarkOptions, deps: BenchmarkDeps = {}): BenchmarkRun {
  return new BenchmarkRun((run) => new Runner(options, deps, run).run());
}

const isUp = (s: FleetStats) =>
  s.workers.filter((w) => w.state === 'healthy' || w.state === 'degraded').length;

class Runner {
  readonly o: Required<
    Omit<BenchmarkOptions, 'rates' | 'durationS' | 'scalingConcurrency' | 'signal' | 'prompts' | 'runId'>
  > &
    BenchmarkOptions;
  readonly clock: Clock;
  readonly random: Random;
  readonly make: (c: Pick<FleetConfig, 'workers' | 'settings'>) => Fleet;
  readonly monitor: ProcessMonitor;
  readonly prompts: PromptSource;
  readonly notes: string[] = [];
  readonly emitter: BenchmarkRun;
  #levels = 0;
  /** The level being measured, and the one an interruption cut short, for the run's note. */
  #current: LevelStart | undefined;
  #cut: LevelStart | undefined;

  constructor(options: BenchmarkOptions, deps: BenchmarkDeps, run: BenchmarkRun) {
    this.o = {
      ...options,
      mode: options.mode ?? BENCH_DEFAULTS.mode,
      requests: options.requests ?? BENCH_DEFAULTS.requests,
      concurrencyLevels: options.concurrencyLevels ?? BENCH_DEFAULTS.concurrencyLevels,
      workerCounts: options.workerCounts ?? BENCH_DEFAULTS.workerCounts,
      maxTokens: options.maxTokens ?? BENCH_DEFAULTS.maxTokens,
      stream: options.stream ?? true,
      warmupPerWorker: options.warmupPerWorker ?? BENCH_DEFAULTS.warmupPerWorker,
      pauseS: options.pauseS ?? BENCH_DEFAULTS.pauseS,
      arrival: options.arrival ?? BENCH_DEFAULTS.arrival,
      soloBaseline: options.soloBaseline ?? true,
      config: options.config,
    };
    this.emitter = run;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? createRandom(1);
    this.make = deps.createFleet ?? ((c) => defaultCreateFleet(c, { clock: this.clock }));
    this.monitor = deps.monitor ?? processMonitor;
    // Wall time plus a random suffix: unique per run even with the default seed.
    const runId = options.runId ?? `${this.clock.wallNow().toString(36)}${randomId(this.random, '', 3)}`;
    this.prompts = options.prompts ?? builtinPrompts(runId, this.random);
  }

  note(text: string): void {
    this.notes.push(text);
    this.emitter.emit('note', text);
  }

  async run(): Promise<BenchmarkResults> {
    const { o } = this;
    const wallStart = this.clock.wallNow();
    const results: BenchmarkResults = {
      timestamp: new Date(wallStart).toISOString(),
      configuration: {
        workers: o.config.workers.length,
        worker_list: o.config.workers.map((w) => ({
          id: w.id,
          type: w.type,
          model: w.model,
          url: w.baseUrl,
          max_concurrent_requests: w.maxConcurrentRequests,
        })),
        requests: o.requests,
        concurrency_levels: o.concurrencyLevels,
        worker_counts: o.workerCounts,
        max_tokens: o.maxTokens,
        mode: o.mode,
        stream: o.stream,
        warmup_per_worker: o.warmupPerWorker,
        pause: o.pauseS,
        prompts: this.prompts.describe,
        ...(o.rates ? { rate: o.rates, arrival: o.arrival } : {}),
        ...(o.durationS === undefined ? {} : { duration: o.durationS }),
      },
      concurrency_benchmark: [],
      scaling_benchmark: [],
      notes: this.notes,
    };
    // The clock's timers are unref'd (a library must not hold a process open), but a benchmark
    // is the process's whole job: during a --pause or a quiet open-loop gap nothing else is
    // pending, and Node would exit mid-run. One ref'd timer keeps it alive until the end.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      await this.#all(results);
    } catch (e) {
      if (!this.o.signal?.aborted) throw e;
    } finally {
      clearInterval(keepAlive);
    }
    if (this.o.signal?.aborted) {
      results.partial = true;
      const at = this.#cut ?? this.#current;
      const where = at ? `during ${levelLabel(at)}` : 'between levels';
      this.note(
        `interrupted ${where}: these results are partial. Levels finished before it are complete; an interrupted level is marked "partial" and never chosen as the best`,
      );
    }
    this.#best(results);
    return results;
  }

  /** Best concurrency and worker count among complete, valid levels. */
  #best(results: BenchmarkResults): void {
    const bestC = [...results.concurrency_benchmark]
      .filter((l) => l.self_check.valid && !l.partial)
      .sort((a, b) => b.requests_per_second - a.requests_per_second)[0];
    if (bestC)
      results.best_concurrency = {
        concurrency: bestC.concurrency,
        requests_per_second: bestC.requests_per_second,
      };
    const bestW = [...results.scaling_benchmark]
      .filter((r) => !r.level.partial)
      .sort((a, b) => b.requests_per_second - a.requests_per_second)[0];
    if (bestW)
      results.best_worker_count = { workers: bestW.workers, requests_per_second: bestW.requests_per_second };
  }

  /** A fleet for one phase; an abort closes it at once, which cancels its requests in flight. */
  #open(config: Pick<FleetConfig, 'workers' | 'settings'>): { fleet: Fleet; close: () => Promise<void> } {
    const fleet = this.make(config);
    const signal = this.o.signal;
    const onAbort = () => void fleet.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    return {
      fleet,
      close: async () => {
        signal?.removeEventListener('abort', onAbort);
        await fleet.close();
      },
    };
  }

  async #all(results: BenchmarkResults): Promise<void> {
    const { o } = this;
    this.#checkAborted();
    const { fleet, close } = this.#open(o.config);
    try {
      const stats = await this.#ready(fleet, 'concurrency');
      const up = isUp(stats);
      if (up === 0) {
        const why = stats.workers.map((w) => `${w.id}: ${w.reason || w.state}`).join('; ');
        throw new FleetError(
          'FLEET_NO_WORKER',
          `no worker is healthy, nothing to benchmark (${why}). Start the servers or fix the config, then check with \`fleet test\``,
        );
      }
      // Levels are added as they finish, so an interrupted run keeps what it measured.
      if (o.mode !== 'scaling') {
        if (o.rates) await this.#rates(fleet, (results.rate_benchmark = []));
        else await this.#concurrency(fleet, results.concurrency_benchmark);
      }
    } finally {
      await close();
    }
    this.#checkAborted();
    if (o.mode !== 'concurrency') await this.#scaling(results);
  }

  async #ready(fleet: Fleet, phase: Phase): Promise<FleetStats> {
    const stats = await fleet.ready();
    this.emitter.emit('health', { phase, stats, healthy: isUp(stats) });
    return stats;
  }

  #checkAborted(): void {
    const s = this.o.signal;
    if (s?.aborted) throw new FleetError('FLEET_ABORTED', 'benchmark interrupted', { cause: s.reason });
  }

  async #concurrency(fleet: Fleet, out: LevelResult[]): Promise<void> {
    for (const c of this.o.concurrencyLevels) {
      if (c > this.o.requests) {
        this.note(
          `concurrency ${c} skipped: it is above --requests ${this.o.requests} (as the older tool did)`,
        );
        continue;
      }
      out.push(await this.#level(fleet, 'concurrency', c, this.o.requests));
    }
  }

  async #rates(fleet: Fleet, out: LevelResult[]): Promise<void> {
    for (const r of this.o.rates ?? []) {
      const total =
        this.o.durationS === undefined ? this.o.requests : Math.max(1, Math.round(r * this.o.durationS));
      out.push(await this.#level(fleet, 'rate', 0, total, r));
    }
  }

  async #scaling(results: BenchmarkResults): Promise<void> {
    const plan = scalingPlan(this.o.config.workers.length, this.o.workerCounts);
    for (const n of plan.skipped)
      this.note(
        `worker count ${n} skipped: only ${this.o.config.workers.length} worker${this.o.config.workers.length === 1 ? ' is' : 's are'} configured`,
      );
    const measured = new Map<number, { level: LevelResult; healthy: number; ids: string[] }>();
    // Each worker's solo level, by id; worker 1's is the 1-worker count when that was measured.
    const solo = new Map<string, LevelResult>();
    try {
      for (const n of plan.counts) measured.set(n, await this.#subset(n));
      const maxN = Math.max(0, ...plan.counts);
      // Without the solo baseline only worker 1 alone is needed (the speedup's base).
      for (let i = 0; i < (this.o.soloBaseline ? maxN : Math.min(1, maxN)); i++) {
        const w = this.o.config.workers[i];
        if (!w) break;
        const one = i === 0 ? measured.get(1)?.level : undefined;
        solo.set(w.id, one ?? (await this.#subset(1, i)).level);
      }
    } finally {
      // Rows for every count measured, also when the run was interrupted part-way.
      const soloLevels = Object.fromEntries(solo);
      results.scaling_benchmark = plan.counts.flatMap((n) => {
        const m = measured.get(n);
        if (!m) return [];
        const r = scalingResult(n, m.ids, m.healthy, m.level, soloLevels);
        this.emitter.emit('scaling:end', r);
        return [r];
      });
      if (solo.size > 0)
        results.solo_throughput = Object.fromEntries(
          [...solo].map(([id, l]) => [id, l.requests_per_second] as const),
        );
    }
  }

  /** N workers starting at `from` (the first N for scaling; one worker alone for a solo run). */
  async #subset(n: number, from = 0): Promise<{ level: LevelResult; healthy: number; ids: string[] }> {
    this.#checkAborted();
    const workers = this.o.config.workers.slice(from, from + n);
    const phase: Phase = from > 0 ? 'solo' : 'scaling';
    const { fleet, close } = this.#open({ workers, settings: this.o.config.settings });
    try {
      const stats = await this.#ready(fleet, phase);
      const conc = this.o.scalingConcurrency ?? workers.reduce((a, w) => a + w.maxConcurrentRequests, 0);
      const healthy = isUp(stats);
      const level = await this.#level(fleet, phase, conc, this.o.requests);
      return { level, healthy, ids: workers.map((w) => w.id) };
    } finally {
      await close();
    }
  }

  async #level(
    fleet: Fleet,
    phase: Phase,
    concurrency: number,
    total: number,
    rate?: number,
  ): Promise<LevelResult> {
    this.#checkAborted();
    if (this.#levels++ > 0 && this.o.pauseS > 0) await this.clock.sleep(this.o.pauseS * 1000, this.o.signal);
    const ids = fleet.workers.map((w) => w.id);
    const start: LevelStart = {
      phase,
      concurrency,
      total,
      workers: ids,
      ...(rate === undefined ? {} : { rate }),
    };
    this.#current = start;
    this.emitter.emit('level:start', start);
    await this.#warmup(fleet);
    this.#checkAborted();
    fleet.resetStats();
    const stop = this.monitor();
    const signal = this.o.signal;
    let t0 = 0;
    const send = this.#sender(fleet);
    // Requests the interruption itself cancelled measure nothing about the fleet: left out.
    const cut = (s: Sample) => signal?.aborted === true && !s.ok && CANCELLED.has(s.error ?? '');
    const onSample = (s: Sample) => {
      if (!cut(s)) this.emitter.emit('request', toRecord(phase, s, t0));
    };
    t0 = this.clock.now();
    const lr =
      rate === undefined
        ? await closedLoop(this.clock, total, concurrency, send, onSample, signal)
        : await openLoop(
            this.clock,
            schedule(total, rate, this.o.arrival, this.random),
            send,
            onSample,
            signal,
          );
    const load = stop();
    const partial = signal?.aborted === true;
    const samples = partial ? lr.samples.filter((x) => !cut(x)) : lr.samples;
    const stats = fleet.stats();
    const okE2e = samples
      .filter((s) => s.ok)
      .map((s) => s.e2eMs)
      .sort((a, b) => a - b);
    const median = okE2e[Math.floor(okE2e.length / 2)] ?? 0;
    const agg = aggregateLevel({
      concurrency: rate === undefined ? concurrency : stats.workers.reduce((a, w) => a + w.maxInFlight, 0),
      samples,
      startedAt: lr.startedAt,
      endedAt: lr.endedAt,
      stream: this.o.stream,
      stats,
      selfCheck: judgeSelfCheck(load, lr.dispatchLagMs, median),
      ...(rate === undefined ? {} : { rate, arrival: this.o.arrival }),
    });
    const result: LevelResult = { ...agg, notes: explainLevel(agg) };
    if (partial) {
      this.#cut = start;
      result.partial = true;
      result.notes.unshift(
        `interrupted after ${samples.length} of ${total} requests: these figures cover only the requests that finished`,
      );
    }
    this.#current = undefined;
    this.emitter.emit('level:end', { phase, result });
    return result;
  }

  async #warmup(fleet: Fleet): Promise<void> {
    const n = this.o.warmupPerWorker * fleet.workers.length;
    if (n <= 0) return;
    const cap = fleet.workers.reduce((a, w) => a + w.cap, 0);
    await closedLoop(
      this.clock,
      n,
      Math.max(1, Math.min(n, cap)),
      this.#sender(fleet),
      undefined,
      this.o.signal,
    );
  }

  /** Sends request `index` (the next prompt) through `fleet` and records it as a Sample. */
  #sender(fleet: Fleet): (index: number, scheduledAt: number) => Promise<Sample> {
    return (index, scheduledAt) =>
      sendAndRecord({
        fleet,
        clock: this.clock,
        prompt: this.prompts.next(),
        maxTokens: this.o.maxTokens,
        stream: this.o.stream,
        index,
        scheduledAt,
      });
  }
}

/** Codes of requests cut short by closing the fleet on an interruption. */
const CANCELLED = new Set(['FLEET_CLOSED', 'FLEET_ABORTED']);

/** "concurrency 10", "rate 5 req/s", "3 workers", "w2 alone". */
export function levelLabel(e: LevelStart): string {
  if (e.phase === 'rate') return `rate ${e.rate ?? 0} req/s`;
  if (e.phase === 'concurrency') return `concurrency ${e.concurrency}`;
  if (e.phase === 'solo') return `${e.workers.join(', ')} alone`;
  return `${e.workers.length} worker${e.workers.length === 1 ? '' : 's'}`;
}

function toRecord(phase: Phase, s: Sample, t0: number): RequestRecord {
  const sec = (ms: number) => round(ms / 1000, 6);
  const r: RequestRecord = {
    phase,
    index: s.index,
    worker: s.worker,
    ok: s.ok,
    scheduled: sec(s.scheduledAt - t0),
    sent: sec(s.sentAt - t0),
    e2e: sec(s.e2eMs),
    output_tokens: s.outputTokens,
    attempts: s.attempts,
    queued: sec(s.queuedMs),
    chunks: s.chunks,
  };
  if (s.error !== undefined) r.error = s.error;
  if (s.ttftMs !== undefined) r.ttft = sec(s.ttftMs);
  if (s.tpotMs !== undefined) r.tpot = sec(s.tpotMs);
  if (s.promptTokens !== undefined) r.prompt_tokens = s.promptTokens;
  return r;
}
