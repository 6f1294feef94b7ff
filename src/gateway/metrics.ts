import { Counter, Gauge, Registry } from 'prom-client';
import type { Fleet, FleetStats, RequestEndEvent, RequestStartEvent } from '../fleet/index.ts';
import { PairCounter, PlainHistogram } from './prom.ts';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
const STATES = ['healthy', 'degraded', 'down', 'draining'];

/**
 * Prometheus metrics for `GET /metrics`, in a Registry of their own (two gateways in one process,
 * as in tests, never collide). Gauges and the token counter are read from one `fleet.stats()`
 * snapshot per scrape. The request counters and histograms follow the fleet's request events and the
 * answered HTTP requests; they are plain numbers (src/gateway/prom.ts) that prom-client only
 * formats at a scrape, so counting a request costs a few additions and never a pause.
 */
export class GatewayMetrics {
  readonly #registry = new Registry();
  readonly #http: PairCounter;
  readonly #fleet: Fleet;
  readonly #onStart: (e: RequestStartEvent) => void;
  readonly #onEnd: (e: RequestEndEvent) => void;
  readonly #tokensSeen = new Map<string, { prompt: number; output: number }>();
  /** The fleet's stats for the scrape under way: every gauge reads this one snapshot. */
  #snapshot: FleetStats | undefined;

  constructor(fleet: Fleet) {
    this.#fleet = fleet;
    const registers = [this.#registry];
    const stats = () => (this.#snapshot ??= fleet.stats());
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
    const reg = this.#registry;
    const requests = new PairCounter(
      'fleet_requests_total',
      'Upstream attempts by worker and outcome (ok, cancelled, or the error code)',
      ['worker', 'outcome'],
    ).register(reg);
    const hedges = new PairCounter(
      'fleet_hedges_total',
      'Tail hedges by worker and outcome (ok: answered first; cancelled: the other attempt did; or the error code)',
      ['worker', 'outcome'],
    ).register(reg);
    const latency = new PlainHistogram(
      'fleet_request_duration_seconds',
      'Upstream attempt duration (dispatch to end), successful attempts',
      LATENCY_BUCKETS,
      'worker',
    ).register(reg);
    const ttft = new PlainHistogram(
      'fleet_ttft_seconds',
      'Time to first token of streamed attempts (dispatch to first content chunk)',
      LATENCY_BUCKETS,
      'worker',
    ).register(reg);
    const wait = new PlainHistogram(
      'fleet_queue_wait_seconds',
      "Time requests waited in the fleet's queue before a worker took them",
      WAIT_BUCKETS,
    ).register(reg);
    this.#http = new PairCounter(
      'fleet_gateway_http_requests_total',
      'HTTP requests answered by the gateway, by route and status',
      ['route', 'status'],
    ).register(reg);
    this.#onStart = (e) => wait.observe(e.queuedMs / 1000);
    this.#onEnd = (e) => {
      const outcome = e.ok ? 'ok' : e.cancelled ? 'cancelled' : (e.error ?? 'error');
      requests.inc(e.worker, outcome);
      if (e.hedge) hedges.inc(e.worker, outcome);
      if (!e.ok) return;
      latency.observe(e.latencyMs / 1000, e.worker);
      if (e.ttftMs !== undefined) ttft.observe(e.ttftMs / 1000, e.worker);
    };
    fleet.on('request:start', this.#onStart);
    fleet.on('request:end', this.#onEnd);
  }

  /** Counts one answered HTTP request (`route`: the route's pattern). */
  answered(route: string, status: number): void {
    this.#http.inc(route, status);
  }

  async text(): Promise<string> {
    // The first gauge takes the snapshot; it is dropped when the scrape ends, so the next is fresh.
    try {
      return await this.#registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  close(): void {
    this.#fleet.off('request:start', this.#onStart);
    this.#fleet.off('request:end', this.#onEnd);
  }
}
