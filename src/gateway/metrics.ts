import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Fleet, RequestEndEvent, RequestStartEvent } from '../fleet/index.ts';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
const STATES = ['healthy', 'degraded', 'down', 'draining'];

/**
 * Observations kept before they go to prom-client in one warm loop (and at every scrape): a request
 * makes three (queue wait, attempt end, answer), so ~256 requests.
 */
const BATCH = 3 * 256;

/**
 * Prometheus metrics for `GET /metrics`, in a Registry of their own (two gateways in one process,
 * as in tests, never collide). Gauges are read from `fleet.stats()` at scrape time; counters and
 * histograms follow the fleet's request events.
 *
 * The events are kept as they come and handed to prom-client in batches: at a scrape (before
 * any metric is read) and after every ~256 requests. prom-client hashes and validates the labels of
 * every `inc`/`observe`; done per request, at 1,000 req/s when every request runs cold, that was
 * ~7 us of CPU per request, half of it before the upstream request and the rest before the answer
 * (perf, docs/performance.md "Gateway"). In a batch it is a warm loop.
 */
export class GatewayMetrics {
  readonly #registry = new Registry();
  readonly #http: Counter<'route' | 'status'>;
  readonly #fleet: Fleet;
  readonly #onStart: (e: RequestStartEvent) => void;
  readonly #onEnd: (e: RequestEndEvent) => void;
  readonly #tokensSeen = new Map<string, { prompt: number; output: number }>();
  /** Queue waits (ms) not yet observed. */
  readonly #waits: number[] = [];
  /** Ended attempts not yet counted (the fleet's own event objects). */
  readonly #ends: RequestEndEvent[] = [];
  /** Answered HTTP requests not yet counted, by route, then status. */
  readonly #answered = new Map<string, Map<number, number>>();
  /** Everything noted since the last flush. */
  #pending = 0;
  readonly #flush: () => void;
  #flushSoon = false;

  constructor(fleet: Fleet) {
    this.#fleet = fleet;
    const registers = [this.#registry];
    const stats = () => fleet.stats();
    const perWorker = (
      name: string,
      help: string,
      value: (w: ReturnType<typeof stats>['workers'][number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          for (const w of stats().workers) this.set({ worker: w.id }, value(w));
        },
      });
    perWorker('fleet_worker_in_flight', 'Requests in flight on the worker', (w) => w.inFlight);
    perWorker('fleet_worker_cap', 'Most requests the worker may have in flight', (w) => w.cap);
    perWorker(
      'fleet_worker_utilisation',
      'Share of time with at least one request in flight (0-1)',
      (w) => w.utilisation,
    );
    perWorker(
      'fleet_worker_tokens_per_second',
      'Output tokens per second since stats began',
      (w) => w.tokensPerSecond,
    );
    new Gauge({
      name: 'fleet_worker_state',
      help: 'Worker state (1 for the current one)',
      labelNames: ['worker', 'state'],
      registers,
      collect() {
        this.reset();
        for (const w of stats().workers)
          for (const s of STATES) this.set({ worker: w.id, state: s }, w.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fleet_queue_depth',
      help: "Requests waiting in the fleet's central queue",
      registers,
      collect() {
        this.set(stats().queue.depth);
      },
    });
    const seen = this.#tokensSeen;
    new Counter({
      name: 'fleet_tokens_total',
      help: 'Tokens processed, by worker and kind (prompt, output)',
      labelNames: ['worker', 'kind'],
      registers,
      // The stats model knows usage; the counter advances by its deltas at scrape time.
      collect() {
        for (const w of stats().workers) {
          const prev = seen.get(w.id) ?? { prompt: 0, output: 0 };
          const dp = w.promptTokens >= prev.prompt ? w.promptTokens - prev.prompt : w.promptTokens;
          const dout = w.outputTokens >= prev.output ? w.outputTokens - prev.output : w.outputTokens;
          this.inc({ worker: w.id, kind: 'prompt' }, dp);
          this.inc({ worker: w.id, kind: 'output' }, dout);
          seen.set(w.id, { prompt: w.promptTokens, output: w.outputTokens });
        }
      },
    });
    new Gauge({
      name: 'fleet_workers',
      help: 'Workers in the fleet',
      registers,
      collect() {
        this.set(stats().workers.length);
      },
    });
    const requests = new Counter({
      name: 'fleet_requests_total',
      help: 'Upstream attempts by worker and outcome (ok, cancelled, or the error code)',
      labelNames: ['worker', 'outcome'],
      registers,
    });
    const hedges = new Counter({
      name: 'fleet_hedges_total',
      help: 'Tail hedges by worker and outcome (ok: answered first; cancelled: the other attempt did; or the error code)',
      labelNames: ['worker', 'outcome'],
      registers,
    });
    const latency = new Histogram({
      name: 'fleet_request_duration_seconds',
      help: 'Upstream attempt duration (dispatch to end), successful attempts',
      labelNames: ['worker'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const ttft = new Histogram({
      name: 'fleet_ttft_seconds',
      help: 'Time to first token of streamed attempts (dispatch to first content chunk)',
      labelNames: ['worker'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const wait = new Histogram({
      name: 'fleet_queue_wait_seconds',
      help: "Time requests waited in the fleet's queue before a worker took them",
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.#http = new Counter({
      name: 'fleet_gateway_http_requests_total',
      help: 'HTTP requests answered by the gateway, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.#flush = () => {
      for (const ms of this.#waits) wait.observe(ms / 1000);
      this.#waits.length = 0;
      for (const e of this.#ends) {
        const outcome = e.ok ? 'ok' : e.cancelled ? 'cancelled' : (e.error ?? 'error');
        requests.inc({ worker: e.worker, outcome });
        if (e.hedge) hedges.inc({ worker: e.worker, outcome });
        if (!e.ok) continue;
        latency.observe({ worker: e.worker }, e.latencyMs / 1000);
        if (e.ttftMs !== undefined) ttft.observe({ worker: e.worker }, e.ttftMs / 1000);
      }
      this.#ends.length = 0;
      for (const [route, byStatus] of this.#answered) {
        for (const [status, n] of byStatus) this.#http.inc({ route, status: String(status) }, n);
        byStatus.clear();
      }
      this.#pending = 0;
      this.#flushSoon = false;
    };
    this.#onStart = (e) => {
      this.#waits.push(e.queuedMs);
      this.#noted();
    };
    this.#onEnd = (e) => {
      this.#ends.push(e);
      this.#noted();
    };
    fleet.on('request:start', this.#onStart);
    fleet.on('request:end', this.#onEnd);
  }

  /** Counts one answered HTTP request (`route`: the route's pattern). */
  answered(route: string, status: number): void {
    let byStatus = this.#answered.get(route);
    if (byStatus === undefined) this.#answered.set(route, (byStatus = new Map<number, number>()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.#noted();
  }

  /** A full batch goes to prom-client once this turn's I/O is done (not on a request's own path). */
  #noted(): void {
    if (++this.#pending < BATCH || this.#flushSoon) return;
    this.#flushSoon = true;
    setImmediate(this.#flush);
  }

  async text(): Promise<string> {
    this.#flush();
    return this.#registry.metrics();
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  close(): void {
    this.#fleet.off('request:start', this.#onStart);
    this.#fleet.off('request:end', this.#onEnd);
  }
}
