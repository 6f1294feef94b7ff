import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  ModelInfo,
} from '../core/openai.ts';
import type { AbortLike } from '../core/cancel.ts';
import type { ModelDetails } from '../core/capabilities.ts';

/** What a probe learned about a worker. Probes never feed the scheduler's speed estimates. */
export interface ProbeResult {
  /** ready: serving; loading: up but model not ready (retry later); down: unreachable or broken. */
  state: 'ready' | 'loading' | 'down';
  /** Why it is not ready, in words a person can act on ("connection refused", "401 unauthorized", ...). */
  reason?: string;
  /** Stable code when not ready (a FleetErrorCode, or FLEET_MODEL_NOT_FOUND when the model is not loaded). */
  code?: string;
  /** Round-trip time of the probe in ms. */
  latencyMs: number;
  /** Models the server reports as available (loaded ones first when it distinguishes). */
  models: string[];
  /** Models known to be loaded in memory now, when the server tells. */
  loadedModels?: string[];
  /** Capacity hints: slots (parallel sequences), busy now, waiting in the server's own queue. */
  capacity?: { slots?: number; busy?: number; waiting?: number };
  /** Context window of the served model, when reported. */
  contextLength?: number;
  /** Server version string, when reported. */
  version?: string;
  /** A caveat about how far the probe can be trusted (e.g. MLX: alive is not the same as loaded). */
  note?: string;
}

export interface CallOptions {
  /** An AbortSignal, or anything with its abort surface (the fleet passes a cheaper Cancel). */
  signal?: AbortLike;
}

/**
 * One adapter per server type behind this interface (DESIGN.md "Backends"). The scheduler knows
 * backends only through it. Every method rejects with a FleetError; `chatStream` yields
 * OpenAI-shaped chunks (usage included when the server reports it) and throws a FleetError
 * when the stream breaks.
 */
export interface Backend {
  readonly id: string;
  readonly type: string;
  chat(req: ChatRequest, opts?: CallOptions): Promise<ChatCompletion>;
  chatStream(req: ChatRequest, opts?: CallOptions): AsyncIterable<ChatChunk>;
  complete(req: CompletionRequest, opts?: CallOptions): Promise<Completion>;
  embed(req: EmbeddingRequest, opts?: CallOptions): Promise<EmbeddingResponse>;
  listModels(opts?: CallOptions): Promise<ModelInfo[]>;
  probe(opts?: CallOptions): Promise<ProbeResult>;
  /**
   * What the server says about one of its models: capabilities (tools, vision, thinking, ...),
   * family, size, quantisation. Undefined when the server has no way to say (vLLM, llama.cpp,
   * MLX, exo, generic OpenAI servers) or does not list the model.
   */
  describe(model: string, opts?: CallOptions): Promise<ModelDetails | undefined>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
