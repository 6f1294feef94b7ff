import { copyWith } from '../core/objects.ts';
import { formatSseData } from '../core/sse.ts';
import { floatsToBase64 } from '../core/float32.ts';
import type { ChatChunk, Completion, EmbeddingResponse } from '../core/openai.ts';
import { modelNotFound, type HttpError } from './errors.ts';
import { answerJson, answerStream, clientAbort, fleetOptions, readJson, type Gateway } from './context.ts';
import { keyScope } from './response-items.ts';
import { parseResponses, responsesFormat, toResponse } from './responses.ts';
import { presentedKey } from './auth.ts';
import type { AddRoute } from './router.ts';
import type { StreamFormat } from './stream-out.ts';
import { parseChat, parseCompletion, parseEmbedding } from './validate.ts';

/** OpenAI's streaming format; the usage-only chunk goes out only when the client asked for it. */
function sseFormat(includeUsage: boolean): StreamFormat {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk: (c: ChatChunk) => (!includeUsage && c.choices.length === 0 ? '' : formatSseData(c)),
    error: (e: HttpError) => formatSseData(e.body()),
    end: () => 'data: [DONE]\n\n',
    keepAlive: ': keep-alive\n\n',
  };
}

/** A whole completion in OpenAI's streamed-completion shape: the text chunk, the usage chunk if asked, [DONE]. */
function completionSse(r: Completion, includeUsage: boolean): string {
  const base = { id: r.id, object: 'text_completion' as const, created: r.created, model: r.model };
  let out = formatSseData(
    copyWith(base, {
      choices: r.choices.map((ch) => ({
        index: ch.index,
        text: ch.text,
        finish_reason: ch.finish_reason,
        logprobs: ch.logprobs ?? null,
      })),
    }),
  );
  if (includeUsage && r.usage) out += formatSseData(copyWith(base, { choices: [], usage: r.usage }));
  return `${out}data: [DONE]\n\n`;
}

/** `/v1/chat/completions`, `/v1/completions`, `/v1/responses`, `/v1/embeddings`, `/v1/models`. */
export function registerOpenAiRoutes(route: AddRoute, g: Gateway): void {
  const modelObject = (m: { id: string; workers: string[] }) => ({
    id: m.id,
    object: 'model',
    created: 0,
    owned_by: 'llm-fleet',
    workers: m.workers,
  });
  route('GET', '/v1/models', (c) => c.json(200, { object: 'list', data: g.fleet.models().map(modelObject) }));
  // The SDKs' models.retrieve(id).
  route('GET', '/v1/models/:model', (c) => {
    const id = c.param();
    const models = g.fleet.models();
    const m = models.find((x) => x.id === id);
    if (m === undefined) throw modelNotFound(id, models);
    c.json(200, modelObject(m));
  });

  route('POST', '/v1/chat/completions', async (c) => {
    const req = parseChat(await readJson(c, g));
    c.model = req.model;
    const ac = clientAbort(c);
    const opts = fleetOptions(c, ac.signal, req.messages);
    if (req.stream === true)
      return answerStream(
        c,
        g,
        g.fleet.chatStream(req, opts),
        ac,
        sseFormat(req.stream_options?.include_usage === true),
      );
    const r = await g.fleet.chat(req, opts);
    answerJson(c, r.response, r.worker);
  });

  route('POST', '/v1/completions', async (c) => {
    const req = parseCompletion(await readJson(c, g));
    c.model = req.model;
    const ac = clientAbort(c);
    if (req.stream === true) {
      // Backends complete text only whole (the Backend interface has no streamed `complete`), so a
      // streamed completion is the fleet's completion sent as one SSE chunk, then [DONE]. Errors
      // before it keep their HTTP status, as for chat streams.
      c.stream = true;
      const { stream: _stream, stream_options: so, ...whole } = req;
      const r = await g.fleet.complete(whole, fleetOptions(c, ac.signal));
      c.worker = r.worker;
      const includeUsage = (so as { include_usage?: unknown } | undefined)?.include_usage === true;
      c.send(
        200,
        {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
          'x-fleet-worker': r.worker,
        },
        completionSse(r.response, includeUsage),
      );
      return;
    }
    const r = await g.fleet.complete(req, fleetOptions(c, ac.signal));
    answerJson(c, r.response, r.worker);
  });

  // The Responses API, over chat completions (src/gateway/responses.ts).
  route('POST', '/v1/responses', async (c) => {
    // Output items are kept, so that a later request with the same key may name them (item_reference).
    const scope = keyScope(presentedKey((name) => c.header(name)));
    const lookup = (id: string) => g.responseItems.get(id, scope);
    const { chat, stream, echo } = parseResponses(await readJson(c, g), lookup);
    c.model = chat.model;
    const ac = clientAbort(c);
    const opts = fleetOptions(c, ac.signal, chat.messages);
    const remember = (items: readonly Record<string, unknown>[]) => g.responseItems.remember(items, scope);
    if (stream) {
      const nowSec = () => Math.floor(g.clock.wallNow() / 1000);
      const format = responsesFormat(echo, { model: chat.model ?? '', nowSec }, remember);
      return answerStream(c, g, g.fleet.chatStream(chat, opts), ac, format);
    }
    const r = await g.fleet.chat(chat, opts);
    const response = toResponse(r.response, echo);
    remember(response['output'] as Record<string, unknown>[]);
    answerJson(c, response, r.worker);
  });

  route('POST', '/v1/embeddings', async (c) => {
    const req = parseEmbedding(await readJson(c, g));
    c.model = req.model;
    const ac = clientAbort(c);
    const r = await g.fleet.embed(req, fleetOptions(c, ac.signal));
    answerJson(c, req['encoding_format'] === 'base64' ? asBase64(r.response) : r.response, r.worker);
  });
}

/**
 * Embeddings as base64 float32 bytes, for `encoding_format: "base64"`: what OpenAI sends, and
 * what its SDKs ask for by default and decode. The fleet always has the numbers from the worker.
 */
function asBase64(r: EmbeddingResponse): object {
  const data = r.data.map((d) => ({
    object: d.object,
    index: d.index,
    embedding: floatsToBase64(d.embedding),
  }));
  return copyWith(r, { data });
}
