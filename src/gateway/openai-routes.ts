import type { Hono } from 'hono';
import { formatSseData } from '../core/sse.ts';
import type { ChatChunk } from '../core/openai.ts';
import { badRequest, type HttpError } from './errors.ts';
import {
  clientAbort,
  fleetOptions,
  readJson,
  recordRequest,
  type Gateway,
  type GatewayEnv,
} from './context.ts';
import { streamResponse, type StreamFormat } from './stream-out.ts';
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

/** `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`. */
export function registerOpenAiRoutes(app: Hono<GatewayEnv>, g: Gateway): void {
  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: g.fleet
        .models()
        .map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'llm-fleet', workers: m.workers })),
    }),
  );

  app.post('/v1/chat/completions', async (c) => {
    const req = parseChat(await readJson(c, g));
    c.set('model', req.model);
    const ac = clientAbort(c);
    const opts = fleetOptions(c, ac.signal, req.messages);
    if (req.stream === true) {
      c.set('stream', true);
      const stream = g.fleet.chatStream(req, opts);
      const res = await streamResponse({
        stream,
        abort: ac,
        format: sseFormat(req.stream_options?.include_usage === true),
        keepAliveMs: g.keepAliveMs,
        clock: g.clock,
        headers: { 'x-request-id': c.get('reqId') },
        onDone: (o) => recordRequest(c, g, o.status, o),
      });
      c.set('deferred', true);
      return res;
    }
    const r = await g.fleet.chat(req, opts);
    c.set('worker', r.worker);
    return c.json(r.response, 200, { 'x-fleet-worker': r.worker });
  });

  app.post('/v1/completions', async (c) => {
    const req = parseCompletion(await readJson(c, g));
    c.set('model', req.model);
    if (req.stream === true)
      throw badRequest(
        'stream: streamed /v1/completions are not supported; use /v1/chat/completions',
        'stream',
      );
    const ac = clientAbort(c);
    const r = await g.fleet.complete(req, fleetOptions(c, ac.signal));
    c.set('worker', r.worker);
    return c.json(r.response, 200, { 'x-fleet-worker': r.worker });
  });

  app.post('/v1/embeddings', async (c) => {
    const req = parseEmbedding(await readJson(c, g));
    c.set('model', req.model);
    const ac = clientAbort(c);
    const r = await g.fleet.embed(req, fleetOptions(c, ac.signal));
    c.set('worker', r.worker);
    return c.json(r.response, 200, { 'x-fleet-worker': r.worker });
  });
}
