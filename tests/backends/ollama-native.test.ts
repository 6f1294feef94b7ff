/**
 * Ollama's native API (`api: native`) against scripted servers: request conversion, NDJSON
 * split across reads, in-stream errors, early ends, and the non-streamed routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { ChatChunk, ChatRequest } from '../../src/core/openai.ts';
import {
  collect,
  expectFleetError,
  json,
  startServer,
  workerAt,
  writeSlowly,
  type Handler,
  type TestServer,
} from './helpers.ts';

let servers: TestServer[] = [];
let backends: Backend[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  backends = [];
});

async function setup(handler: Handler) {
  const server = await startServer(handler);
  servers.push(server);
  const backend = createBackend(workerAt(server.url, { type: 'ollama', api: 'native', model: 'llama3' }));
  backends.push(backend);
  return { server, backend };
}

const line = (o: unknown) => `${JSON.stringify(o)}\n`;
const at = '2025-01-02T03:04:05.000Z';
const part = (content: string, thinking?: string) =>
  line({
    model: 'llama3',
    created_at: at,
    message: { role: 'assistant', content, ...(thinking ? { thinking } : {}) },
    done: false,
  });
const done = (reason = 'stop') =>
  line({
    model: 'llama3',
    created_at: at,
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: reason,
    prompt_eval_count: 12,
    prompt_eval_duration: 40_000_000,
    eval_count: 3,
    eval_duration: 90_000_000,
    load_duration: 1_000_000,
  });
const ndjsonHead = (res: Parameters<Handler>[1]) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.flushHeaders();
};
const text = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('ollama native chat', () => {
  it('converts the request: options, stop, format, roles, reasoning, images, pass-through fields', async () => {
    const { backend, server } = await setup((_req, res) => {
      ndjsonHead(res);
      res.end(part('ok') + done());
    });
    const req: ChatRequest = {
      messages: [
        { role: 'developer', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is ' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            { type: 'text', text: 'this?' },
          ],
        },
        { role: 'assistant', content: 'a cat', reasoning: 'looked at it' },
        { role: 'user', content: 'sure?' },
      ],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: '\n\n',
      seed: 7,
      response_format: { type: 'json_object' },
      keep_alive: '10m',
      think: true,
      options: { num_ctx: 8192 },
    };
    await collect(backend.chatStream(req));
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/api/chat');
    expect(sent.json()).toEqual({
      model: 'llama3',
      stream: true,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'what is this?', images: ['AAAA'] },
        { role: 'assistant', content: 'a cat', thinking: 'looked at it' },
        { role: 'user', content: 'sure?' },
      ],
      options: { num_predict: 64, temperature: 0.2, top_p: 0.9, stop: ['\n\n'], seed: 7, num_ctx: 8192 },
      format: 'json',
      keep_alive: '10m',
      think: true,
    });
  });

  it('sends tool calls with their arguments as objects, and names the function of each tool result', async () => {
    const { backend, server } = await setup((_req, res) => {
      ndjsonHead(res);
      res.end(part('ok') + done());
    });
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const call = (id: string, name: string, args: string) => ({
      id,
      type: 'function',
      function: { name, arguments: args },
    });
    await collect(
      backend.chatStream({
        tools,
        messages: [
          { role: 'user', content: 'Weather and time?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [call('c1', 'weather', '{"city":"Oslo"}'), call('c2', 'time', '')],
          },
          { role: 'tool', tool_call_id: 'c2', content: '12:00' },
          { role: 'tool', tool_call_id: 'c1', content: '3 C' },
          { role: 'tool', tool_call_id: 'unknown', content: '?' },
        ],
      }),
    );
    expect(server.requests[0]!.json()).toMatchObject({
      tools,
      messages: [
        { role: 'user', content: 'Weather and time?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { function: { name: 'weather', arguments: { city: 'Oslo' } } },
            { function: { name: 'time', arguments: {} } },
          ],
        },
        { role: 'tool', content: '12:00', tool_name: 'time' },
        { role: 'tool', content: '3 C', tool_name: 'weather' },
        { role: 'tool', content: '?' },
      ],
    });
  });

  it('reads NDJSON split at every byte: thinking as reasoning, finish_reason, usage and timings last', async () => {
    const body = part('', 'hmm ') + part('Héllo') + part(' 🌍') + done('length');
    const { backend } = await setup(async (_req, res) => {
      ndjsonHead(res);
      await writeSlowly(
        res,
        [...Buffer.from(body)].map((b) => Buffer.from([b])),
        0,
      );
      res.end();
    });
    const chunks = await collect(backend.chatStream({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', reasoning: 'hmm ' });
    expect(text(chunks)).toBe('Héllo 🌍');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason !== null && c.choices.length > 0)).toHaveLength(
      1,
    );
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
    expect(last.timings).toEqual({
      prompt_n: 12,
      prompt_ms: 40,
      predicted_n: 3,
      predicted_ms: 90,
      load_ms: 1,
    });
    expect(last.created).toBe(Math.floor(Date.parse(at) / 1000));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('maps an {"error":..} line after the stream began, keeping the chunks before it', async () => {
    const { backend } = await setup((_req, res) => {
      ndjsonHead(res);
      res.end(
        part('a') + line({ error: 'an error was encountered while running the model: unexpected EOF' }),
      );
    });
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of backend.chatStream({ messages: [] })) seen.push(c);
      })(),
      'FLEET_UPSTREAM_SERVER',
    );
    expect(err.message).toContain('unexpected EOF');
    expect(text(seen)).toBe('a');
  });

  it('fails a stream that ends before done:true, and a line that is not JSON', async () => {
    const { backend, server } = await setup((_req, res) => {
      ndjsonHead(res);
      res.end(part('a'));
    });
    await expectFleetError(collect(backend.chatStream({ messages: [] })), 'FLEET_UPSTREAM_STREAM_ENDED');
    server.setHandler((_req, res) => {
      ndjsonHead(res);
      res.end(part('a') + '{"model":"llama3","message":{"content":\n');
    });
    const err = await expectFleetError(
      collect(backend.chatStream({ messages: [] })),
      'FLEET_UPSTREAM_MALFORMED',
    );
    expect(err.message).toContain('stream line is not JSON');
  });

  it('maps native error bodies: 404 model not found, 503 server busy, 400', async () => {
    const { backend, server } = await setup((_req, res) =>
      json(res, 404, { error: 'model "llama3" not found, try pulling it first' }),
    );
    const e404 = await expectFleetError(backend.chat({ messages: [] }), 'FLEET_MODEL_NOT_FOUND');
    expect(e404.message).toBe('w1: HTTP 404: model "llama3" not found, try pulling it first');
    server.setHandler((_req, res) =>
      json(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' }),
    );
    await expectFleetError(collect(backend.chatStream({ messages: [] })), 'FLEET_UPSTREAM_BUSY');
    server.setHandler((_req, res) => json(res, 400, { error: 'invalid message role' }));
    await expectFleetError(backend.chat({ messages: [] }), 'FLEET_BAD_REQUEST');
  });

  it('answers a non-streamed chat, with tool calls converted to the OpenAI shape', async () => {
    const { backend, server } = await setup((_req, res) =>
      json(res, 200, {
        model: 'llama3',
        created_at: at,
        message: {
          role: 'assistant',
          content: '',
          thinking: 'need weather',
          tool_calls: [{ function: { name: 'weather', arguments: { city: 'Oslo' } } }],
        },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: 20,
        eval_count: 5,
      }),
    );
    const c = await backend.chat({ messages: [{ role: 'user', content: 'weather?' }] });
    expect(server.requests[0]?.json()['stream']).toBe(false);
    expect(c.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: '',
        reasoning: 'need weather',
        tool_calls: [
          {
            index: 0,
            id: 'call_0',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    });
    expect(c.usage).toEqual({ prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
  });

  it('maps a 200 answer without a message to FLEET_UPSTREAM_MALFORMED', async () => {
    const { backend } = await setup((_req, res) => json(res, 200, { model: 'llama3', done: true }));
    await expectFleetError(backend.chat({ messages: [] }), 'FLEET_UPSTREAM_MALFORMED');
  });
});

describe('ollama native generate and embed', () => {
  it('completes through /api/generate', async () => {
    const { backend, server } = await setup((_req, res) =>
      json(res, 200, {
        model: 'llama3',
        created_at: at,
        response: 'there was',
        done: true,
        done_reason: 'length',
        prompt_eval_count: 4,
        eval_count: 2,
      }),
    );
    const c = await backend.complete({
      prompt: 'Once upon a time',
      max_tokens: 2,
      stop: ['.'],
      suffix: ' The end.',
      raw: true,
      keep_alive: '30m',
    });
    expect(server.requests[0]?.path).toBe('/api/generate');
    expect(server.requests[0]?.json()).toMatchObject({
      model: 'llama3',
      prompt: 'Once upon a time',
      stream: false,
      options: { num_predict: 2, stop: ['.'] },
      suffix: ' The end.',
      raw: true,
      keep_alive: '30m',
    });
    expect(c.choices[0]).toEqual({ index: 0, text: 'there was', finish_reason: 'length' });
    expect(c.usage?.total_tokens).toBe(6);
  });

  it('refuses several prompts at once, saying what to do', async () => {
    const { backend, server } = await setup((_req, res) => json(res, 500, {}));
    const err = await expectFleetError(backend.complete({ prompt: ['a', 'b'] }), 'FLEET_BAD_REQUEST');
    expect(err.message).toContain('takes one prompt, got 2');
    expect(server.requests).toHaveLength(0);
  });

  it('embeds through /api/embed', async () => {
    const { backend, server } = await setup((_req, res) =>
      json(res, 200, {
        model: 'llama3',
        embeddings: [
          [0.1, 0.2],
          [0.3, 0.4],
        ],
        prompt_eval_count: 6,
      }),
    );
    const e = await backend.embed({ input: ['a', 'b'], truncate: false });
    expect(server.requests[0]?.json()).toEqual({ model: 'llama3', input: ['a', 'b'], truncate: false });
    expect(e.data.map((d) => d.embedding)).toEqual([
      [0.1, 0.2],
      [0.3, 0.4],
    ]);
    expect(e.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
  });

  it('lists pulled models marked loaded from /api/ps', async () => {
    const { backend } = await setup((req, res) => {
      if (req.path === '/api/tags')
        return json(res, 200, { models: [{ name: 'llama3:latest' }, { name: 'qwen3:8b' }] });
      if (req.path === '/api/ps')
        return json(res, 200, { models: [{ name: 'qwen3:8b', context_length: 4096 }] });
      json(res, 404, 'not found');
    });
    expect(await backend.listModels()).toEqual([
      { id: 'llama3:latest', object: 'model', owned_by: 'ollama', loaded: false },
      { id: 'qwen3:8b', object: 'model', owned_by: 'ollama', loaded: true, context_length: 4096 },
    ]);
  });
});
