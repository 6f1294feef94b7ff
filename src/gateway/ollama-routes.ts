import type { ModelDetails } from '../core/capabilities.ts';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
} from '../core/openai.ts';
import type { RequestMeta } from '../fleet/index.ts';
import type { Call } from './call.ts';
import {
  answerJson,
  answerStream,
  clientAbort,
  fleetOptions,
  isUp,
  readJson,
  type Gateway,
} from './context.ts';
import { badRequest, HttpError } from './errors.ts';
import { toOllamaToolCall } from '../core/tool-calls.ts';
import { ToolCallAccumulator, chatMessagesOf, ollamaFields, withImages } from './ollama-chat.ts';
import type { AddRoute } from './router.ts';
import type { StreamFormat } from './stream-out.ts';
import { copyWith } from '../core/objects.ts';
import {
  parseOllamaChat,
  parseOllamaEmbed,
  parseOllamaGenerate,
  parseOllamaLegacyEmbed,
  parseOllamaShow,
  type OllamaChatBody,
  type OllamaGenerateBody,
} from './validate.ts';

/** The Ollama version `/api/version` reports: recent enough that clients enable their features. */
export const OLLAMA_COMPAT_VERSION = '0.9.0';

const ns = (ms: number | undefined) => Math.round((ms ?? 0) * 1e6);

/** One NDJSON line. */
const line = (o: object) => `${JSON.stringify(o)}\n`;

/** Ollama's 404 for a model it does not have (the fleet: that no worker serves). */
const notFound = (model: string) =>
  new HttpError(404, 'invalid_request_error', 'model_not_found', `model '${model}' not found`);

/**
 * Ollama's `options` that chat requests carry too, as top-level fields: OpenAI's names where it has
 * them, and the samplers under Ollama's own names, which llama.cpp takes too (`top_k`, `min_p`,
 * `repeat_penalty`; vLLM the first two); `num_ctx` as well. The native Ollama backend puts them all
 * back in `options`.
 */
const PASSED_OPTIONS = [
  'top_k',
  'min_p',
  'presence_penalty',
  'frequency_penalty',
  'repeat_penalty',
  'num_ctx',
] as const;

/** Ollama's sampling `options` in OpenAI's words, on a chat or a completion request. */
function fromOptions<T extends ChatRequest | CompletionRequest>(o: OllamaChatBody['options'], req: T): T {
  if (!o) return req;
  if (o.num_predict !== undefined && o.num_predict > 0) req.max_tokens = o.num_predict;
  if (o.temperature !== undefined) req.temperature = o.temperature;
  if (o.top_p !== undefined) req.top_p = o.top_p;
  if (o.seed !== undefined) req.seed = o.seed;
  if (o.stop !== undefined) req.stop = o.stop;
  for (const k of PASSED_OPTIONS) if (o[k] !== undefined) req[k] = o[k];
  return req;
}

/**
 * NDJSON lines in Ollama's shape: one `done: false` line per chunk (`message` for chat, `response`
 * for generate), then a `done: true` line with counts and nanosecond durations.
 */
function ndjsonFormat(model: string, kind: 'chat' | 'generate', now: () => string): StreamFormat {
  let doneReason = 'stop';
  const calls = new ToolCallAccumulator();
  return {
    contentType: 'application/x-ndjson',
    chunk: (c: ChatChunk) => {
      const ch = c.choices[0];
      if (ch?.finish_reason) doneReason = doneReasonOf(ch.finish_reason);
      if (ch?.delta.tool_calls) calls.add(ch.delta.tool_calls);
      const text = ch?.delta.content ?? '';
      const thinking = ch?.delta.reasoning;
      if (text === '' && !thinking) return '';
      // Literals filled in order, not `{ ...base, response }`: see src/core/objects.ts.
      const at = now();
      if (kind === 'generate') {
        const out: Record<string, unknown> = { model, created_at: at, response: text };
        if (thinking) out['thinking'] = thinking;
        out['done'] = false;
        return line(out);
      }
      const message: Record<string, unknown> = { role: 'assistant', content: text };
      if (thinking) message['thinking'] = thinking;
      return line({ model, created_at: at, message, done: false });
    },
    error: (e: HttpError) => line({ error: e.message }),
    end: (meta) => {
      // Ollama sends a turn's function calls whole, on one line before the last.
      const at = now();
      const toolLine =
        calls.size === 0
          ? ''
          : line({
              model,
              created_at: at,
              message: { role: 'assistant', content: '', tool_calls: calls.ollama() },
              done: false,
            });
      return toolLine + line(doneLine(model, kind, at, doneReason, meta));
    },
    keepAlive: '', // NDJSON has no comment syntax: Ollama clients would choke on anything else
  };
}

/**
 * `/api/show`'s `model_info`: an Ollama worker's own, else the architecture and context length
 * under Ollama's keys (`general.architecture`, `<arch>.context_length`), which clients read.
 */
function modelInfoOf(d: ModelDetails): Record<string, unknown> {
  if (d.modelInfo !== undefined) return d.modelInfo;
  const info: Record<string, unknown> = {};
  if (d.family === undefined) return info;
  info['general.architecture'] = d.family;
  if (d.contextLength !== undefined) info[`${d.family}.context_length`] = d.contextLength;
  return info;
}

/** Ollama's `keep_alive` of zero (0, "0", "0s", "0m"): unload now. */
function isZeroDuration(v: unknown): boolean {
  return v === 0 || (typeof v === 'string' && /^0+(\.0+)?[a-z]*$/.test(v));
}

/** Ollama ends a turn that called functions with "stop"; chat says "tool_calls". */
const doneReasonOf = (finishReason: string) => (finishReason === 'tool_calls' ? 'stop' : finishReason);

function doneLine(
  model: string,
  kind: 'chat' | 'generate',
  at: string,
  reason: string,
  m: RequestMeta | undefined,
) {
  const body = kind === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  return {
    model,
    created_at: at,
    ...body,
    done: true,
    done_reason: reason,
    total_duration: ns(m?.latencyMs),
    load_duration: 0,
    prompt_eval_count: m?.promptTokens ?? 0,
    prompt_eval_duration: ns(m?.ttftMs),
    eval_count: m?.outputTokens ?? 0,
    eval_duration: ns(m && m.ttftMs !== undefined ? m.latencyMs - m.ttftMs : m?.latencyMs),
  };
}

/**
 * `/api/chat`, `/api/generate`, `/api/embed(dings)`, `/api/tags`, `/api/ps`, `/api/show`,
 * `/api/version`, and `/api/pull` and the model-management routes (answered, not carried out): for
 * clients that speak only Ollama.
 */
export function registerOllamaRoutes(route: AddRoute, g: Gateway): void {
  const now = () => new Date(g.clock.wallNow()).toISOString();
  route('GET', '/api/version', (c) => c.json(200, { version: OLLAMA_COMPAT_VERSION }));
  // What Ollama reads from the model file (format, family, size, quantisation), as far as the
  // workers serving the model have said (Fleet.describeModel); empty where none has.
  const details = (d: ModelDetails | undefined) => ({
    parent_model: '',
    format: d?.format ?? '',
    family: d?.family ?? '',
    families: d?.family === undefined ? null : [d.family],
    parameter_size: d?.parameterSize ?? '',
    quantization_level: d?.quantization ?? '',
  });
  route('GET', '/api/tags', (c) =>
    c.json(200, {
      models: g.fleet.models().map((m) => ({
        name: m.id,
        model: m.id,
        modified_at: now(),
        size: 0,
        digest: '',
        // Listings do not wait on a worker: what the workers have said so far.
        details: details(g.fleet.knownModelDetails(m.id)),
        workers: m.workers,
      })),
    }),
  );
  // Ollama's "running models": those with at least one worker taking requests now.
  route('GET', '/api/ps', (c) => {
    const up = new Set(g.fleet.workers.filter((w) => isUp(w.state)).map((w) => w.id));
    c.json(200, {
      models: g.fleet
        .models()
        .filter((m) => m.workers.some((w) => up.has(w)))
        .map((m) => {
          const d = g.fleet.knownModelDetails(m.id);
          return {
            name: m.id,
            model: m.id,
            size: 0,
            digest: '',
            details: details(d),
            expires_at: new Date(g.clock.wallNow() + 24 * 3600_000).toISOString(),
            size_vram: 0,
            ...(d?.contextLength === undefined ? {} : { context_length: d.contextLength }),
            workers: m.workers.filter((w) => up.has(w)),
          };
        }),
    });
  });
  /** The model an `/api/show` or `/api/pull` body names (`model`, or `name` in older clients), and the fleet's entry for it. */
  const namedModel = async (c: Call) => {
    const b = parseOllamaShow(await readJson(c, g));
    const id = b.model ?? b.name ?? '';
    return { id, m: g.fleet.models().find((x) => x.id === id) };
  };
  // Clients read a model's details before using it (Continue, Open WebUI, ollama-js's show()), and
  // its capabilities before offering tools, images or thinking (Ollama's apps, Zed, VS Code,
  // AnythingLLM): what the workers serving it say (Fleet.describeModel), else "completion".
  route(
    'POST',
    '/api/show',
    async (c) => {
      const { id, m } = await namedModel(c);
      if (m === undefined) throw notFound(id);
      const d = (await g.fleet.describeModel(id)) ?? {};
      c.json(200, {
        modelfile: '',
        parameters: d.parameters ?? '',
        template: d.template ?? '',
        details: details(d),
        model_info: modelInfoOf(d),
        capabilities: d.capabilities ?? ['completion'],
        modified_at: now(),
        workers: m.workers,
      });
    },
    { lookup: true }, // not an inference request: it stays out of the recent list
  );

  // Models live on the workers: the fleet neither pulls nor manages them. `ollama run` pulls a model
  // that /api/show does not know; one the fleet serves is there already (Ollama then says "success").
  route(
    'POST',
    '/api/pull',
    async (c) => {
      const { id, m } = await namedModel(c);
      if (m === undefined)
        throw new HttpError(
          404,
          'invalid_request_error',
          'model_not_found',
          `model '${id}' is not served by the fleet, which does not pull models: pull it on the workers (\`ollama pull ${id}\`) and add it to their entries in the config`,
        );
      c.json(200, { status: 'success' });
    },
    { lookup: true },
  );
  for (const path of ['/api/push', '/api/create', '/api/copy', '/api/delete'])
    route(
      path === '/api/delete' ? 'DELETE' : 'POST',
      path,
      () => {
        throw new HttpError(
          501,
          'invalid_request_error',
          'not_supported',
          `${path.slice(5)}: the fleet does not manage models; do it on each worker's own server`,
        );
      },
      { lookup: true },
    );

  // A request with nothing to answer loads the model (`keep_alive` 0: unloads it), as Ollama's
  // CLI does before a chat and its docs suggest for preloading. Each worker's server loads and
  // unloads its models itself, so the gateway answers at once for a model the fleet serves.
  const load = (
    c: Call,
    b: { model?: string | undefined; keep_alive?: unknown },
    kind: 'chat' | 'generate',
  ) => {
    const name = b.model ?? '';
    if (name === '') throw badRequest(`${kind} request: model: required to load a model`, 'model');
    if (!g.fleet.models().some((m) => m.id === name)) throw notFound(name);
    c.lookup = true;
    const reason = isZeroDuration(b.keep_alive) ? 'unload' : 'load';
    const head = { model: name, created_at: now() };
    c.json(
      200,
      kind === 'chat'
        ? copyWith(head, { message: { role: 'assistant', content: '' }, done: true, done_reason: reason })
        : copyWith(head, { response: '', done: true, done_reason: reason }),
    );
  };

  // A raw prompt or one with a `suffix` (fill-in-the-middle: code completion such as Continue's
  // autocomplete) gets no chat template in Ollama: it is a text completion (Fleet.complete), sent to
  // Ollama's native /api/generate with `raw` and `suffix`, or to /v1/completions. Backends complete
  // text whole, so a streamed one is the whole text on one line, then the done line.
  const completeText = async (c: Call, b: OllamaGenerateBody) => {
    const req: CompletionRequest = fromOptions(b.options, { prompt: b.prompt ?? '' });
    if (b.suffix !== undefined && b.suffix !== '') req['suffix'] = b.suffix;
    if (b.raw === true) req['raw'] = true;
    // Ollama's own fields, for its native API (OpenAI-compatible servers ignore them).
    for (const k of ['system', 'template', 'keep_alive'] as const) if (b[k] !== undefined) req[k] = b[k];
    if (b.model !== undefined && b.model !== '') req.model = b.model;
    c.model = b.model;
    const ac = clientAbort(c);
    const r = await g.fleet.complete(req, fleetOptions(c, ac.signal));
    const choice = r.response.choices[0];
    const name = b.model || r.response.model;
    const at = now();
    const done = doneLine(name, 'generate', at, choice?.finish_reason ?? 'stop', r);
    const text = choice?.text ?? '';
    if (b.stream === false) return answerJson(c, copyWith(done, { response: text }), r.worker);
    c.stream = true;
    c.worker = r.worker;
    c.send(
      200,
      { 'content-type': 'application/x-ndjson', 'x-fleet-worker': r.worker },
      (text === '' ? '' : line({ model: name, created_at: at, response: text, done: false })) + line(done),
    );
  };

  const run = async (c: Call, kind: 'chat' | 'generate') => {
    const body = await readJson(c, g);
    let req: ChatRequest;
    let model: string | undefined;
    let stream: boolean;
    if (kind === 'chat') {
      const b = parseOllamaChat(body);
      if (b.messages === undefined || b.messages.length === 0) return load(c, b, kind);
      model = b.model;
      stream = b.stream !== false;
      req = fromOptions(b.options, { messages: chatMessagesOf(b.messages) });
      if (b.tools !== undefined && b.tools.length > 0) req['tools'] = b.tools;
      ollamaFields(b, req);
    } else {
      const b = parseOllamaGenerate(body);
      if ((b.prompt === undefined || b.prompt === '') && (b.images === undefined || b.images.length === 0))
        return load(c, b, kind);
      if (b.raw === true || (b.suffix !== undefined && b.suffix !== '')) return completeText(c, b);
      model = b.model;
      stream = b.stream !== false;
      const messages: ChatMessage[] = b.system ? [{ role: 'system', content: b.system }] : [];
      messages.push({ role: 'user', content: withImages(b.prompt ?? '', b.images) });
      req = fromOptions(b.options, { messages });
      ollamaFields(b, req);
    }
    if (model !== undefined && model !== '') req.model = model;
    c.model = model;
    const ac = clientAbort(c);
    const opts = fleetOptions(c, ac.signal, req.messages);
    const name = model ?? '';
    if (stream) return answerStream(c, g, g.fleet.chatStream(req, opts), ac, ndjsonFormat(name, kind, now));
    const r = await g.fleet.chat(req, opts);
    const choice = r.response.choices[0];
    const text = choice?.message.content ?? '';
    const reason = doneReasonOf(choice?.finish_reason ?? 'stop');
    const done = doneLine(name || r.response.model, kind, now(), reason, r);
    const calls = choice?.message.tool_calls;
    const thinking = choice?.message.reasoning;
    let out: Record<string, unknown>;
    if (kind === 'chat') {
      const message: Record<string, unknown> = { role: 'assistant', content: text };
      if (thinking) message['thinking'] = thinking;
      if (calls !== undefined && calls.length > 0) message['tool_calls'] = calls.map(toOllamaToolCall);
      out = copyWith(done, { message });
    } else out = copyWith(done, thinking ? { response: text, thinking } : { response: text });
    answerJson(c, out, r.worker);
  };
  route('POST', '/api/chat', (c) => run(c, 'chat'));
  route('POST', '/api/generate', (c) => run(c, 'generate'));

  // Embeddings go through the fleet's OpenAI-shaped embed, answered in Ollama's shape.
  route('POST', '/api/embed', async (c) => {
    const b = parseOllamaEmbed(await readJson(c, g));
    c.model = b.model;
    const ac = clientAbort(c);
    const req: EmbeddingRequest = { input: b.input };
    if (b.model !== undefined && b.model !== '') req.model = b.model;
    // `dimensions` is OpenAI's word too; Ollama's native backend sends the rest back as they came.
    for (const k of ['dimensions', 'truncate', 'keep_alive', 'options'] as const)
      if (b[k] !== undefined) req[k] = b[k];
    const r = await g.fleet.embed(req, fleetOptions(c, ac.signal));
    const data = [...r.response.data].sort((x, y) => x.index - y.index);
    const out = {
      model: b.model ?? r.response.model,
      embeddings: data.map((d) => d.embedding),
      total_duration: ns(r.latencyMs),
      load_duration: 0,
      prompt_eval_count: r.response.usage?.prompt_tokens ?? 0,
    };
    answerJson(c, out, r.worker);
  });
  // The older single-text endpoint, still used by some clients.
  route('POST', '/api/embeddings', async (c) => {
    const b = parseOllamaLegacyEmbed(await readJson(c, g));
    c.model = b.model;
    const ac = clientAbort(c);
    const req: EmbeddingRequest = { input: b.prompt };
    if (b.model !== undefined && b.model !== '') req.model = b.model;
    const r = await g.fleet.embed(req, fleetOptions(c, ac.signal));
    answerJson(c, { embedding: r.response.data[0]?.embedding ?? [] }, r.worker);
  });
}
