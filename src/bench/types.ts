/**
 * The benchmark's options and result shapes. Result JSON keeps every field of the older tool
 * (reference-implementation.md) with the same names and units: `success_rate` in percent, times in
 * seconds. Every field we add follows the same units (percentages 0-100, seconds).
 */
import type { ChatMessage } from '../core/openai.ts';

export type BenchmarkMode = 'concurrency' | 'scaling' | 'both';
export type Arrival = 'constant' | 'poisson';

/** One request the load generator sends. */
export interface BenchPrompt {
  messages: ChatMessage[];
  /** Overrides the run's maxTokens for this prompt. */
  maxTokens?: number;
}

/** Six numbers per metric, in seconds. */
export interface Percentiles {
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** One worker's share of a level. */
export interface WorkerLevelResult {
  worker: string;
  /** Requests this worker answered or failed (the guide's "N requests"). */
  requests: number;
  successful: number;
  failed: number;
  /** Percent of this worker's requests that succeeded. */
  success_rate: number;
  /** Percent of the level's requests this worker handled (the guide's "load percentage"). */
  load_percentage: number;
  requests_per_second: number;
  output_tokens_per_second: number;
  /** Seconds. */
  p50_response_time: number;
  p95_response_time: number;
  /** Percent of the level's wall time with at least one request in flight on the worker. */
  busy_utilization: number;
  /** Percent: mean in-flight requests / cap over the level. */
  slot_occupancy: number;
  cap: number;
  /** Seconds, p50 of the worker's own service time (dispatch -> end, so without queue wait). */
  p50_service_time: number;
  /** The fleet's view of the worker at the level's end: healthy, degraded, unhealthy, ... */
  state: string;
  /** Why it is not healthy, when it is not (empty otherwise). */
  reason: string;
  /** Attempts that failed on this worker, including ones retried elsewhere (so they never show in `failed`). */
  failed_attempts: number;
  /** Those failed attempts by FleetError code. */
  attempt_errors: Record<string, number>;
  /** Tail hedges this worker ran (copies of requests a slower worker was on), and how many answered first. */
  hedges: number;
  hedge_wins: number;
  /** Attempts here the fleet cancelled because another copy answered first: not failures. */
  cancelled_attempts: number;
}

/** What the load generator saw of itself during a level (it must not be the bottleneck). */
export interface SelfCheck {
  valid: boolean;
  /** ms, event-loop delay while the level ran. */
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
  /** ms between when a request should have been sent and when it was. */
  dispatch_lag_p99_ms: number;
  /** Percent of one core the benchmark process used. */
  client_cpu_percent: number;
  reasons: string[];
}

/** One measured level (closed-loop concurrency, open-loop rate, a worker count, a solo run). */
export interface LevelResult {
  // The older tool's fields, same names and units.
  concurrency: number;
  total_requests: number;
  successful: number;
  failed: number;
  success_rate: number;
  total_time: number;
  requests_per_second: number;
  avg_response_time: number;
  min_response_time: number;
  max_response_time: number;
  p50_response_time: number;
  p95_response_time: number;
  p99_response_time: number;
  // Ours.
  p90_response_time: number;
  load: 'closed' | 'open';
  stream: boolean;
  /** Open loop only: requests/s offered, and the arrival process. */
  rate?: number;
  arrival?: Arrival;
  /** Seconds: send (open loop: scheduled send) -> first content chunk. Streaming only. */
  ttft?: Percentiles;
  /** Seconds per output token after the first: (E2E - TTFT) / (output tokens - 1). */
  tpot?: Percentiles;
  /** Seconds between successive content chunks. */
  itl?: Percentiles;
  /** Seconds: send -> last token (the same as the response times above). */
  e2e: Percentiles;
  total_output_tokens: number;
  output_tokens_per_second: number;
  /** Failures by FleetError code. */
  errors: Record<string, number>;
  /** Requests that needed more than one attempt. */
  retried: number;
  workers: WorkerLevelResult[];
  /** Jain's fairness index of requests per slot over the workers (1 = perfectly even). */
  fairness: number;
  /** Queue wait in the fleet, seconds. */
  queue_wait_p95: number;
  self_check: SelfCheck;
  /** Plain-language reasons this level did not do better (empty when nothing stands out). */
  notes: string[];
  /**
   * Set when the run was interrupted during this level: it covers only the requests that finished
   * before (the ones cut short are left out), and it is never chosen as the best level.
   */
  partial?: boolean;
}

export interface ScalingResult {
  // The older tool's fields.
  workers: number;
  healthy_workers: number;
  requests_per_second: number;
  success_rate: number;
  throughput_per_worker: number;
  // Ours.
  worker_ids: string[];
  concurrency: number;
  /** Throughput / the 1-worker throughput. */
  speedup: number;
  /** Percent: speedup / N. */
  scaling_efficiency: number;
  /** Sum of the solo throughput of these N workers, each measured alone in this run. */
  solo_sum_rps: number;
  /** Percent: throughput / solo_sum_rps (fair for mixed hardware). */
  efficiency_vs_solo: number;
  level: LevelResult;
  /** Why this count did not scale better. */
  notes: string[];
}

export interface BenchmarkResults {
  timestamp: string;
  configuration: {
    /** Number of configured workers (the older tool's field). */
    workers: number;
    worker_list: Array<{
      id: string;
      type: string;
      model: string;
      url: string;
      max_concurrent_requests: number;
    }>;
    requests: number;
    concurrency_levels: number[];
    worker_counts: number[];
    max_tokens: number;
    mode: BenchmarkMode;
    stream: boolean;
    warmup_per_worker: number;
    pause: number;
    prompts: string;
    rate?: number[];
    arrival?: Arrival;
    duration?: number;
  };
  concurrency_benchmark: LevelResult[];
  /** Open-loop levels (`--rate`), kept apart so the guide's scripts over concurrency_benchmark hold. */
  rate_benchmark?: LevelResult[];
  scaling_benchmark: ScalingResult[];
  /** Requests/s of each worker alone (worker scaling), by id. */
  solo_throughput?: Record<string, number>;
  best_concurrency?: { concurrency: number; requests_per_second: number };
  best_worker_count?: { workers: number; requests_per_second: number };
  /** Skipped levels and other remarks. */
  notes: string[];
  /** Set when the run was interrupted (Ctrl-C): only what was measured before is here. */
  partial?: boolean;
}

/** One line of `--requests-log`. Times in seconds since the level started. */
export interface RequestRecord {
  phase: string;
  index: number;
  worker: string | undefined;
  ok: boolean;
  error?: string;
  /** Seconds since the level began: when it was due, and when it was actually sent. */
  scheduled: number;
  sent: number;
  ttft?: number;
  e2e: number;
  tpot?: number;
  output_tokens: number;
  prompt_tokens?: number;
  attempts: number;
  queued: number;
  chunks: number;
}
