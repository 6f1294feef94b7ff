import type { Capability } from '../core/capabilities.ts';

/**
 * The resolved configuration every other layer reads. The file format (snake_case, JSON or
 * YAML, the guide's `workers[]`) is parsed and validated by `load.ts` into these shapes, with
 * every default applied: nothing downstream re-applies defaults.
 */

export const WORKER_TYPES = ['lm_studio', 'ollama', 'llama_cpp', 'vllm', 'mlx', 'exo', 'openai'] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

/** Default port per type (LM Studio 1234, Ollama 11434, llama.cpp 8080, vLLM 8000, MLX 8080, exo 52415). */
export const DEFAULT_PORTS: Record<WorkerType, number> = {
  lm_studio: 1234,
  ollama: 11434,
  llama_cpp: 8080,
  vllm: 8000,
  mlx: 8080,
  exo: 52415,
  openai: 8000,
};

export const DEFAULT_MAX_CONCURRENT_REQUESTS = 5;

export interface WorkerTimeouts {
  /** TCP connect. @default settings.connect_timeout (10 s) */
  connectMs: number;
  /** Send -> first streamed token (or response headers when not streaming). @default settings.first_token_timeout (request_timeout) */
  firstTokenMs: number;
  /** Longest silence between two chunks of a stream. @default settings.stall_timeout (60 s) */
  stallMs: number;
  /** Whole request. @default settings.request_timeout (300 s) */
  totalMs: number;
}

export interface WorkerConfig {
  id: string;
  type: WorkerType;
  host: string;
  port: number;
  /** Origin plus any path prefix, without a trailing slash and without `/v1`: `http://10.0.0.5:1234`. */
  baseUrl: string;
  /** The model requests go to by default (`model`, or the first of `models`). */
  model: string;
  /** Every model this worker serves; `models[0] === model`. */
  models: string[];
  /** Most requests in flight on this worker at once. */
  maxConcurrentRequests: number;
  /** Where the cap came from: the file, or the default (a probe's reported slots may replace a default). */
  capSource: 'config' | 'default';
  /** Relative speed hint used before any response has been measured. @default 1 */
  weight: number;
  /** Context window in tokens, when configured. */
  contextLength?: number;
  /** What its models can do, when the config says (`capabilities`); else the server is asked. */
  capabilities?: Capability[];
  /** Bearer token (from `api_key`, or the env var named by `api_key_env`). Never log it. */
  apiKey?: string;
  /** For `ollama`: talk to `/v1` (openai, default) or the native NDJSON `/api/chat` (native). */
  api: 'openai' | 'native';
  timeouts: WorkerTimeouts;
}

export interface Settings {
  /** Seconds between active health probes. @default 30 */
  healthCheckInterval: number;
  /** Seconds for one whole request. @default 300 */
  requestTimeout: number;
  /** Seconds to establish a connection. @default 10 */
  connectTimeout: number;
  /** Seconds from send to the first token. @default request_timeout */
  firstTokenTimeout: number;
  /** Seconds of silence allowed between stream chunks. @default 60 */
  stallTimeout: number;
  /** Retries on another worker after a retryable failure. @default 3 */
  maxRetries: number;
  /** Requests waiting in the fleet's central queue before new ones are refused. @default 10000 */
  maxQueueSize: number;
  /** Seconds a request may wait in the queue. @default 300 */
  queueTimeout: number;
  /** Consecutive failures that open a worker's circuit. @default 3 */
  circuitBreakerThreshold: number;
  /** Seconds before an open circuit lets one trial request through. @default 10 */
  circuitBreakerCooldown: number;
  /** Batch: tasks in flight at once (older tool's setting). @default 50 */
  maxConcurrentBatch: number;
  /** Upper bound on pooled connections per worker (older tool's setting). @default 100 */
  connectionPoolSize: number;
}

/** The config file's `gateway` section, resolved: what `fleet serve` adds its flags to. */
export interface GatewayConfig {
  /** Keys clients must send: `api_keys`, then those of `api_keys_env`. */
  apiKeys: string[];
  /** Origins whose browser pages may call the API (CORS). */
  corsOrigins: string[];
}

export interface FleetConfig {
  workers: WorkerConfig[];
  settings: Settings;
  /** Only when the file has a `gateway` section. */
  gateway?: GatewayConfig;
  /** The file(s) this was read from, for messages. */
  source: { config: string; settings?: string };
}
