import type { AbortLike } from '../core/cancel.ts';
import type { LatencySummary } from '../core/histogram.ts';
import type { Priority } from './queue.ts';
import type { WorkerState, CircuitState } from './worker.ts';

export type { Priority, WorkerState, CircuitState, LatencySummary };

/** Per-request options of `fleet.chat`, `chatStream`, `complete`, `embed`. */
export interface RequestOptions {
  /** Aborting it aborts the upstream request and frees the slot at once (an AbortSignal, or a Cancel). */
  signal?: AbortLike;
  /** interactive requests leave the queue before batch ones. @default 'interactive' */
  priority?: Priority;
  /** Requests sharing a key prefer the worker that served it last (prefix cache reuse). */
  affinityKey?: string;
  /**
   * Id of the worker this request should run on, chosen by the caller (the batch names one for
   * every request: where a document's prefix is cached, or where a last document ends soonest).
   * Honoured whenever that worker is alive and has a free slot, ahead of `affinityKey`. When it
   * has none the request is not held for it: it goes to another free worker at once, as any
   * request would; when every worker is busy it waits bound to that worker, as to an affinity key
   * (that worker takes it first when a slot frees; another takes it only when nothing else queued
   * is bound to it or to no one). An unknown or unhealthy worker, or one that already failed this
   * request, is ignored. @default none: the fleet chooses
   */
  preferWorker?: string;
  /** Model to use; overrides the request body's `model`. @default the body's model, else each worker's own */
  model?: string;
  /**
   * ms for the whole request including queueing and retries. @default none: each attempt is bounded
   * by its worker's timeouts (request_timeout, first_token_timeout, stall_timeout) and queueing by
   * queue_timeout
   */
  timeoutMs?: number;
  /** ms the request may wait in the queue. @default settings.queue_timeout */
  queueTimeoutMs?: number;
  /** Retries on another worker after retryable failures. @default settings.max_retries */
  maxRetries?: number;
  /** Output tokens expected, for choosing a worker. @default the request's max_tokens, else 128 */
  expectedOutputTokens?: number;
}

/** What a finished request reports besides the response itself. */
export interface RequestMeta {
  /** Id of the worker that answered. */
  worker: string;
  /** 1 + retries. */
  attempts: number;
  /** ms waiting in the fleet's queue (last attempt). */
  queuedMs: number;
  /** ms from the call to the end of the response. */
  latencyMs: number;
  /** ms from the call to the first content chunk (streams only). */
  ttftMs?: number;
  promptTokens?: number;
  outputTokens?: number;
}

export interface FleetResult<T> extends RequestMeta {
  response: T;
}

export interface RequestStartEvent {
  id: number;
  worker: string;
  model: string | undefined;
  attempt: number;
  queuedMs: number;
  stream: boolean;
  /** A tail hedge: a copy of a request another worker is still on. */
  hedge?: true;
}

export interface RequestEndEvent {
  id: number;
  worker: string;
  model: string | undefined;
  attempt: number;
  ok: boolean;
  /** ms on the worker (dispatch to end). */
  latencyMs: number;
  ttftMs?: number;
  outputTokens?: number;
  /** FleetErrorCode when it failed. */
  error?: string;
  /** Will be retried on another worker. */
  retrying?: boolean;
  /** A tail hedge: a copy of a request another worker is still on. */
  hedge?: true;
  /**
   * The fleet cancelled this attempt because another one answered the request (a tail-hedge race
   * it lost) or queued work needed its slot (a preempted hedge): `ok` is false and `error` is
   * FLEET_ABORTED, but it is not a failure of the worker or of the request.
   */
  cancelled?: true;
}

export interface WorkerStateEvent {
  worker: string;
  from: WorkerState;
  to: WorkerState;
  reason: string;
}

export interface FleetEvents {
  'request:start': [RequestStartEvent];
  'request:end': [RequestEndEvent];
  'worker:state': [WorkerStateEvent];
}

export interface WorkerStats {
  id: string;
  type: string;
  url: string;
  model: string;
  models: string[];
  state: WorkerState;
  /** Why it is not healthy, when it is not. */
  reason: string;
  circuit: CircuitState;
  inFlight: number;
  cap: number;
  capSource: 'config' | 'default' | 'probe';
  detectedSlots: number | undefined;
  /** Highest in-flight count ever seen (never above cap). */
  maxInFlight: number;
  started: number;
  /** This worker's share of the requests dispatched in the stats window (0-1). */
  share: number;
  completed: number;
  failed: number;
  /** Failures here that were retried on another worker. */
  retried: number;
  /**
   * Attempts here the fleet cancelled: tail-hedge races lost (this worker's attempt or its hedge
   * was slower) and preempted hedges. Not failures. started = completed + failed + cancelled +
   * in flight.
   */
  cancelled: number;
  /** Tail hedges started here (copies of requests a slower worker was on), and how many answered first. */
  hedges: number;
  hedgeWins: number;
  errors: Record<string, number>;
  /** ms, dispatch -> end, successful requests. */
  latency: LatencySummary;
  /** ms, dispatch -> first content chunk, streams. */
  ttft: LatencySummary;
  promptTokens: number;
  outputTokens: number;
  /** Output tokens per second of wall time since stats began. */
  tokensPerSecond: number;
  /** Share of wall time with at least one request in flight (0-1). */
  utilisation: number;
  /** Mean in-flight / cap over wall time (0-1). */
  slotOccupancy: number;
  /** Learned rates (tokens/s) from real responses. */
  learned: { prefillTps: number; decodeTps: number; samples: number };
  lastProbeMs: number | undefined;
}

export interface FleetStats {
  /** ms since the fleet (or the last resetStats) started. */
  elapsedMs: number;
  queue: { depth: number; maxDepth: number; wait: LatencySummary };
  totals: {
    started: number;
    completed: number;
    failed: number;
    retried: number;
    cancelled: number;
    hedges: number;
    hedgeWins: number;
    inFlight: number;
    cap: number;
  };
  workers: WorkerStats[];
}
