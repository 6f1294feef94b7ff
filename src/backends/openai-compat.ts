import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../core/clock.ts';
import type { FleetError } from '../core/errors.ts';
import type { ModelDetails } from '../core/capabilities.ts';
import { copyWith, isRecord } from '../core/objects.ts';
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
import type { WorkerConfig } from '../config/types.ts';
import type { DeadlineLimits } from './deadline.ts';
import { ERROR_BODY_LIMIT, HttpClient, parseJsonBody, type Exchange, type TextResponse } from './http.ts';
import {
  normaliseCompletion,
  normaliseEmbedding,
  normaliseModelList,
  normaliseTextCompletion,
  type NormaliseContext,
} from './normalise.ts';
import { hasModel, modelMissing, runProbe, type ProbeInfo, type Prober } from './probe.ts';
import { completionToChunks, lazyStream, readSseChat } from './stream.ts';
import type { Backend, CallOptions, ProbeResult } from './types.ts';

export interface BackendDeps {
  /** Time source for every timeout. @default systemClock */
  clock?: Clock;
  /** Send through this dispatcher instead of a private undici Pool (it is not closed by close()). */
  dispatcher?: Dispatcher;
  /** Pooled keep-alive connections. @default max(2 x maxConcurrentRequests, 16), room for a cap raised from probed slots */
  connections?: number;
  /** Budget for one whole probe. @default min(timeouts.connectMs, 5000) */
  probeTimeoutMs?: number;
}

/**
 * Reads a stream's body into chunks (SSE for OpenAI routes, NDJSON for Ollama's native API). The
 * reader owns the exchange: it closes it in its `finally`, however the stream ends.
 */
export type StreamReader = (ex: Exchange, ctx: NormaliseContext) => AsyncGenerator<ChatChunk>;

/**
 * The OpenAI-compatible base (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
 * `/v1/models`). It serves `openai` and `exo` as is; each other type overrides only what its
 * server does differently (probe, error wording, native routes).
 */
export class OpenAICompatBackend implements Backend {
  readonly id: string;
  readonly type: string;
  protected readonly worker: WorkerConfig;
  protected readonly http: HttpClient;
  protected readonly clock: Clock;
  protected readonly probeTimeoutMs: number;
  /** What the probe calls the server in messages ("LM Studio", "Ollama", ...). */
  protected readonly serverName: string = 'server';
  #seq = 0;

  constructor(worker: WorkerConfig, deps: BackendDeps = {}) {
    this.id = worker.id;
    this.type = worker.type;
    this.worker = worker;
    this.clock = deps.clock ?? systemClock;
    this.probeTimeoutMs = deps.probeTimeoutMs ?? Math.min(worker.timeouts.connectMs, 5000);
    this.http = new HttpClient({
      workerId: worker.id,
      baseUrl: worker.baseUrl,
      clock: this.clock,
      apiKey: worker.apiKey,
      connectMs: worker.timeouts.connectMs,
      connections: deps.connections ?? Math.max(worker.maxConcurrentRequests * 2, 16),
      dispatcher: deps.dispatcher,
    });
  }

  // ---- requests -------------------------------------------------------------------------------

  async chat(req: ChatRequest, opts: CallOptions = {}): Promise<ChatCompletion> {
    const raw = await this.postJson('/v1/chat/completions', this.chatBody(req, false), opts);
    return normaliseCompletion(raw, this.context(req.model));
  }

  chatStream(req: ChatRequest, opts: CallOptions = {}): AsyncIterable<ChatChunk> {
    return this.stream(
      '/v1/chat/completions',
      this.chatBody(req, true),
      opts,
      this.context(req.model),
      readSseChat,
    );
  }

  async complete(req: CompletionRequest, opts: CallOptions = {}): Promise<Completion> {
    const body: Record<string, unknown> = copyWith(req, {
      model: req.model ?? this.worker.model,
      stream: false,
    });
    delete body['stream_options'];
    delete body['raw']; // Ollama's word for no template, which /v1/completions never applies
    const raw = await this.postJson('/v1/completions', body, opts);
    return normaliseTextCompletion(raw, this.context(req.model));
  }

  async embed(req: EmbeddingRequest, opts: CallOptions = {}): Promise<EmbeddingResponse> {
    const body: Record<string, unknown> = copyWith(req, { model: req.model ?? this.worker.model });
    // Numbers from the worker, always (the default of every server): an EmbeddingResponse holds
    // numbers, and a caller that wants base64 (the OpenAI SDKs' default) encodes them itself.
    delete body['encoding_format'];
    const raw = await this.postJson('/v1/embeddings', body, opts);
    return normaliseEmbedding(raw, this.context(req.model));
  }

  async listModels(opts: CallOptions = {}): Promise<ModelInfo[]> {
    return normaliseModelList(await this.getJson('/v1/models', opts), { workerId: this.id });
  }

  /** An OpenAI-compatible server has no way to say what a model can do (`/v1/models` lists ids only). */
  describe(_model: string, _opts: CallOptions = {}): Promise<ModelDetails | undefined> {
    return Promise.resolve(undefined);
  }

  probe(opts: CallOptions = {}): Promise<ProbeResult> {
    return runProbe(this.http, this.probeTimeoutMs, this.mapError, opts.signal, (p) => this.probeWith(p));
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ---- what subclasses override ---------------------------------------------------------------

  /** Default probe: `/v1/models` answers and lists the worker's model. */
  protected async probeWith(p: Prober): Promise<ProbeInfo> {
    const models = normaliseModelList(await p.json('/v1/models'), { workerId: this.id });
    const ids = models.map((m) => m.id);
    if (!hasModel(ids, this.worker.model)) return modelMissing(this.worker.model, ids, this.serverName);
    const info: ProbeInfo = { state: 'ready', models: ids };
    const ctxLen = models.find((m) => m.id === this.worker.model)?.context_length;
    if (ctxLen !== undefined) info.contextLength = ctxLen;
    return info;
  }

  /** HTTP answer -> FleetError. An arrow property so it can be handed around unbound. */
  protected readonly mapError = (
    status: number,
    text: string,
    headers: TextResponse['headers'],
  ): FleetError => this.http.mapError(status, text, headers);

  /** The body sent for a chat: model defaulted, usage always requested when streaming. */
  protected chatBody(req: ChatRequest, stream: boolean): Record<string, unknown> {
    // copyWith, not a spread: see src/core/objects.ts (one hidden class for every request's body).
    const body: Record<string, unknown> = copyWith(req, { model: req.model ?? this.worker.model, stream });
    if (stream) {
      const given = isRecord(req.stream_options) ? req.stream_options : {};
      body['stream_options'] = copyWith(given, { include_usage: true });
    } else {
      // vLLM rejects stream_options on a non-streaming request.
      delete body['stream_options'];
    }
    // The OpenAI SDKs' newer name for the limit; llama.cpp, Ollama, LM Studio and MLX read
    // max_tokens (vLLM both), so a limit given only as max_completion_tokens is sent as both.
    if (body['max_tokens'] === undefined && body['max_completion_tokens'] !== undefined)
      body['max_tokens'] = body['max_completion_tokens'];
    return body;
  }

  // ---- plumbing shared by the adapters -------------------------------------------------------

  protected limits(): DeadlineLimits {
    const t = this.worker.timeouts;
    return { totalMs: t.totalMs, firstTokenMs: t.firstTokenMs, stallMs: t.stallMs };
  }

  protected context(model: string | undefined): NormaliseContext {
    return {
      workerId: this.id,
      model: model ?? this.worker.model,
      nowSec: Math.floor(this.clock.wallNow() / 1000),
      newId: () => `fleet-${this.id}-${++this.#seq}`,
    };
  }

  /** POSTs JSON and returns the parsed 2xx body; anything else is the mapped FleetError. */
  protected async postJson(path: string, body: unknown, opts: CallOptions): Promise<unknown> {
    const r = await this.http.fetchText({
      method: 'POST',
      path,
      body,
      signal: opts.signal,
      limits: this.limits(),
    });
    if (r.status < 200 || r.status >= 300) throw this.mapError(r.status, r.text, r.headers);
    return parseJsonBody(r, this.id);
  }

  protected async getJson(path: string, opts: CallOptions): Promise<unknown> {
    const r = await this.http.fetchText({ method: 'GET', path, signal: opts.signal, limits: this.limits() });
    if (r.status < 200 || r.status >= 300) throw this.mapError(r.status, r.text, r.headers);
    return parseJsonBody(r, this.id);
  }

  /**
   * POSTs a streaming request and yields normalised chunks. Leaving the loop early (break,
   * return, a throw in the consumer) destroys the upstream request, so the server stops
   * generating; a server that answered one JSON completion instead of a stream is replayed.
   */
  protected stream(
    path: string,
    body: unknown,
    opts: CallOptions,
    ctx: NormaliseContext,
    read: StreamReader,
  ): AsyncIterable<ChatChunk> {
    return lazyStream(async () => {
      const ex = await this.http.send({
        method: 'POST',
        path,
        body,
        signal: opts.signal,
        limits: this.limits(),
        stream: true,
      });
      try {
        if (!ex.ok) throw this.mapError(ex.status, await ex.text(ERROR_BODY_LIMIT), ex.headers);
        if (read === readSseChat && /^application\/json\b/i.test(ex.contentType)) {
          const text = await ex.text();
          const done = normaliseCompletion(
            parseJsonBody({ status: ex.status, headers: ex.headers, text }, this.id),
            ctx,
          );
          ex.close();
          return replay(completionToChunks(done));
        }
      } catch (e) {
        ex.close();
        throw e;
      }
      // From here the reader owns the exchange and closes it when the stream ends.
      return read(ex, ctx);
    });
  }
}

/** Items already in hand, as a stream. */
// eslint-disable-next-line @typescript-eslint/require-await -- nothing to await: the items are here
async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
