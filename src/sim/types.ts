import type { Clock } from '../core/clock.ts';

/** The wire format a simulated worker speaks. */
export type SimType = 'openai' | 'lm_studio' | 'ollama' | 'llama_cpp' | 'vllm' | 'mlx' | 'exo';

export const SIM_TYPES: readonly SimType[] = [
  'openai',
  'lm_studio',
  'ollama',
  'llama_cpp',
  'vllm',
  'mlx',
  'exo',
];

/**
 * Injected faults. Rates are fractions in [0, 1]; one seeded draw per inference request picks at most
 * one of error, hang, drop, malformed and mid-stream error (in that order), so their sum should stay <= 1.
 */
export interface SimFaults {
  /** Fraction of requests answered at once with `errorStatus` in the type's error shape. @default 0 */
  errorRate?: number;
  /** Status of injected errors. @default 500 */
  errorStatus?: number;
  /** Fraction that take a slot and never answer until the client aborts. @default 0 */
  hangRate?: number;
  /** Fraction whose connection is destroyed mid-stream (after half the tokens) or mid-body. @default 0 */
  dropRate?: number;
  /** Extra model time before the first token of every request (scaled by timeScale). @default 0 */
  slowFirstTokenMs?: number;
  /** Fraction answered 200 with a malformed JSON body, or one malformed SSE/NDJSON line. @default 0 */
  malformedRate?: number;
  /**
   * Fraction of streaming requests that fail after half their tokens with an in-band error in the
   * type's shape (llama.cpp `error:` line, Ollama native `{"error"}` line, `data: {"error":{...}}`
   * elsewhere). Non-streaming requests drawn for it get an ordinary error response. @default 0
   */
  midStreamErrorRate?: number;
  /**
   * The server "crashes" when inference request number crashAfter+1 (counted since the last
   * start/restart) arrives: the listener closes and every open connection is destroyed.
   * @default undefined (never)
   */
  crashAfter?: number;
}

export interface SimWorkerOptions {
  /** Wire format. @default 'openai' */
  type?: SimType;
  /** @default 'sim-1' */
  id?: string;
  /** Served models; the first is the default. A request for another model gets the type's 404. @default ['sim-model'] */
  models?: string[];
  /** Sequences running at once (continuous batching). @default 4 */
  slots?: number;
  /** Requests waiting in the server's own queue beyond slots; more are answered 503. @default 64 */
  maxQueue?: number;
  /** Prompt tokens/s (uncached part only). Infinity = instant prefill. @default 2000 */
  prefillTps?: number;
  /** Output tokens/s of ONE running sequence. Infinity = instant decode. @default 50 */
  decodeTps?: number;
  /** Each extra decoding sequence slows every sequence's decode by this fraction. @default 0.05 */
  batchSlowdown?: number;
  /** LRU prefix (KV) cache capacity in tokens; 0 disables it. @default 32768 */
  cacheTokens?: number;
  /** Multiplies prefill and decode rates (heterogeneous fleets). @default 1 */
  speed?: number;
  /** Real duration = model duration x timeScale (0.1 = 10x faster, 0 = instant). @default 1 */
  timeScale?: number;
  /** Tokens generated per request, capped by the request's max_tokens. @default 32 */
  outputTokens?: number;
  /** Of the generated tokens, this many come first as reasoning (in the type's reasoning field). @default 0 */
  reasoningTokens?: number;
  /**
   * When set, every request takes exactly this model time from slot to last token, whatever its
   * tokens and the batch size; tokens are spread evenly. @default undefined (use the rate model)
   */
  fixedLatencyMs?: number;
  /** Model load time after (re)start (scaled by timeScale). @default 0 */
  coldStartMs?: number;
  /** prompt + max_tokens above this gets the type's context-overflow error. @default 8192 */
  contextLength?: number;
  /** When set, requests need `Authorization: Bearer <key>` or get the type's 401. @default undefined */
  apiKey?: string;
  /** @default {} */
  faults?: SimFaults;
  /** Seeds all randomness (faults, generated text). @default 1 */
  seed?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (ephemeral) */
  port?: number;
  /** Real milliseconds between stream chunks (several tokens per chunk when needed). @default 20 */
  streamTickMs?: number;
  /** Most request-log entries kept (oldest dropped first). @default 10000 */
  logLimit?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** Options with every default applied. */
export interface ResolvedSimOptions {
  type: SimType;
  id: string;
  models: string[];
  slots: number;
  maxQueue: number;
  prefillTps: number;
  decodeTps: number;
  batchSlowdown: number;
  cacheTokens: number;
  speed: number;
  timeScale: number;
  outputTokens: number;
  reasoningTokens: number;
  fixedLatencyMs: number | undefined;
  coldStartMs: number;
  contextLength: number;
  apiKey: string | undefined;
  faults: SimFaults;
  seed: number;
  host: string;
  port: number;
  streamTickMs: number;
  logLimit: number;
}

export type SimOutcome = 'ok' | 'error' | 'hang' | 'dropped' | 'malformed' | 'rejected' | 'aborted';

/** One finished inference request. Times are real ms since the worker started. */
export interface SimRequestLog {
  id: number;
  model: string;
  path: string;
  stream: boolean;
  arrivedAt: number;
  /** Got a slot. */
  startedAt?: number;
  firstTokenAt?: number;
  finishedAt?: number;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
  status: number;
  outcome: SimOutcome;
}

export interface SimStats {
  id: string;
  type: SimType;
  /** Inference requests received. */
  requests: number;
  /** Finished with outcome 'ok'. */
  completed: number;
  /** Finished with any other outcome. */
  failed: number;
  /** Inference HTTP requests being handled now (running + queued + being answered). */
  inFlight: number;
  running: number;
  queued: number;
  /** Highest inFlight ever seen. */
  maxInFlight: number;
  maxRunning: number;
  maxQueued: number;
  /** Requests that reused a cached prefix, and the prompt tokens they did not prefill. */
  cacheHits: number;
  cacheHitTokens: number;
  /** Prompt tokens actually prefilled (uncached). */
  prefillTokens: number;
  /** Output tokens generated. */
  decodeTokens: number;
  /** Finished requests in order of arrival (the last `logLimit`). */
  log: SimRequestLog[];
}

export interface SimWorker {
  readonly id: string;
  readonly type: SimType;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly options: ResolvedSimOptions;
  stats(): SimStats;
  resetStats(): void;
  /** Replaces the fault set (and the crash counter's base). */
  setFaults(f: SimFaults): void;
  /** Closes the listener and destroys every open connection (a dead machine). */
  crash(): Promise<void>;
  /** Listens again on the same port, with an empty cache, honouring coldStartMs again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface SimWorkerEntry {
  id: string;
  host: string;
  port: number;
  type: SimType;
  model: string;
  max_concurrent_requests: number;
}

export interface SimFleet {
  workers: SimWorker[];
  close(): Promise<void>;
  /** The guide's worker config (`config/my_workers.json` format). */
  workerConfig(): { workers: SimWorkerEntry[] };
}
