import { afterEach, describe, expect, it } from 'vitest';
import { parseNdjson, parseSse } from '../../src/core/sse.ts';
import type { LiveSnapshot } from '../../src/gateway/live.ts';
import { toOllamaToolCall } from '../../src/core/tool-calls.ts';
import { chatMessagesOf } from '../../src/gateway/ollama-chat.ts';
import { json } from '../backends/helpers.ts';
import { closeAll, post, sim, startFleetGateway, startScriptedGateway } from './helpers.ts';

afterEach(closeAll);

/** What an Ollama client does: POST, then read NDJSON line by line. */
async function ollamaLines(url: string, body: unknown): Promise<Array<Record<string, unknown>>> {
  const r = await post(url, body);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/x-ndjson');
  const out: Array<Record<string, unknown>> = [];
  for await (const line of parseNdjson(r.body!)) out.push(line as Record<string, unknown>);
  return out;
}

describe('Ollama API over the fleet', () => {
  it('/api/version and /api/tags', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    expect(await (await fetch(`${gw.url}/api/version`)).json()).toMatchObject({
      version: expect.any(String),
    });
    const tags = (await (await fetch(`${gw.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name)).toEqual(['llama3']);
  });

  it("/api/show gives a served model's details and 404 for another; /api/ps lists the models being served", async () => {
    const { gw, sim: s } = await startFleetGateway(
      [sim('a', { models: ['llama3'] }), sim('b', { models: ['qwen'] })],
      {
        mapWorker: (w, i) => ({ ...w, model: i === 0 ? 'llama3' : 'qwen' }),
        settings: { health_check_interval: 0.1 },
      },
    );
    const show = await post(`${gw.url}/api/show`, { model: 'llama3' });
    expect(show.status).toBe(200);
    const body = (await show.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ modelfile: '', template: '', capabilities: ['completion'], workers: ['a'] });
    expect(body['details']).toMatchObject({ format: '', family: '' });
    // Older clients send `name`.
    expect((await post(`${gw.url}/api/show`, { name: 'qwen' })).status).toBe(200);
    const missing = await post(`${gw.url}/api/show`, { model: 'mistral' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'mistral' not found" });
    const bad = await post(`${gw.url}/api/show`, {});
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('model');
    // A lookup is not an inference request: the dashboard's recent requests show only the chat.
    await post(`${gw.url}/api/chat`, {
      model: 'llama3',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
    const res = await fetch(`${gw.url}/fleet/events`);
    const first = await parseSse(res.body! as AsyncIterable<Uint8Array>).next();
    const snap = JSON.parse(String(first.value!.data)) as LiveSnapshot;
    expect(snap.recent.map((r) => r.path)).toEqual(['/api/chat']);
    await res.body!.cancel().catch(() => undefined);

    const ps = async () =>
      (
        (await (await fetch(`${gw.url}/api/ps`)).json()) as {
          models: Array<{ name: string; workers: string[] }>;
        }
      ).models;
    expect((await ps()).map((m) => m.name).sort()).toEqual(['llama3', 'qwen']);
    await s.workers[1]!.crash();
    await expect.poll(async () => (await ps()).map((m) => m.name), { timeout: 5000 }).toEqual(['llama3']);
  });

  it('a request with nothing to answer loads the model, keep_alive 0 unloads it, as Ollama answers', async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a', { models: ['llama3'] })], {
      mapWorker: (w) => ({ ...w, model: 'llama3' }),
    });
    const answer = async (path: string, body: unknown) => {
      const r = await post(`${gw.url}${path}`, body);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    // What `ollama run` sends before a chat, and what Ollama's docs give for preloading.
    const gen = await answer('/api/generate', { model: 'llama3' });
    expect(gen.status).toBe(200);
    expect(gen.body).toMatchObject({ model: 'llama3', response: '', done: true, done_reason: 'load' });
    expect(Date.parse(gen.body['created_at'] as string)).toBeGreaterThan(0);
    expect(
      (await answer('/api/generate', { model: 'llama3', prompt: '', keep_alive: 0 })).body,
    ).toMatchObject({
      done_reason: 'unload',
    });
    expect((await answer('/api/chat', { model: 'llama3', messages: [] })).body).toEqual({
      model: 'llama3',
      created_at: expect.any(String) as unknown,
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'load',
    });
    expect((await answer('/api/chat', { model: 'llama3', keep_alive: '0s' })).body).toMatchObject({
      done_reason: 'unload',
    });
    expect(await answer('/api/generate', { model: 'mistral' })).toEqual({
      status: 404,
      body: { error: "model 'mistral' not found" },
    });
    expect(await answer('/api/chat', { messages: [] })).toEqual({
      status: 400,
      body: { error: 'chat request: model: required to load a model' },
    });
    // No worker was asked, and a load is not an inference request: only the refused ones are listed.
    expect(s.workers[0]!.stats().requests).toBe(0);
    const res = await fetch(`${gw.url}/fleet/events`);
    const first = await parseSse(res.body! as AsyncIterable<Uint8Array>).next();
    const recent = (JSON.parse(String(first.value!.data)) as LiveSnapshot).recent;
    expect(recent.map((r) => [r.path, r.status])).toEqual([
      ['/api/generate', 404],
      ['/api/chat', 400],
    ]);
    await res.body!.cancel().catch(() => undefined);
    // A message without content is read as "" (ollama-python leaves out what is None).
    const chat = await answer('/api/chat', {
      model: 'llama3',
      stream: false,
      messages: [
        { role: 'user', images: [] },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(chat.status).toBe(200);
    expect(chat.body['done_reason']).toBe('stop');
  });

  it('pull says success for a model the fleet serves and how to get another; managing models is 501', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })], {
      mapWorker: (w) => ({ ...w, model: 'llama3' }),
    });
    const pulled = await post(`${gw.url}/api/pull`, { model: 'llama3', stream: false });
    expect([pulled.status, await pulled.json()]).toEqual([200, { status: 'success' }]);
    const missing = await post(`${gw.url}/api/pull`, { name: 'qwen3' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain(
      'pull it on the workers (`ollama pull qwen3`)',
    );
    const del = await fetch(`${gw.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'llama3' }),
    });
    expect([del.status, await del.json()]).toEqual([
      501,
      { error: "delete: the fleet does not manage models; do it on each worker's own server" },
    ]);
    expect((await post(`${gw.url}/api/create`, { model: 'x', from: 'llama3' })).status).toBe(501);
  });

  it('a raw prompt or one with a suffix (fill-in-the-middle) is a text completion, not a chat', async () => {
    // Continue's autocomplete: FIM tokens already in the prompt, raw, streamed.
    const fim = {
      model: 'coder',
      prompt: '<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>',
      raw: true,
      options: { num_predict: 32, temperature: 0.2, stop: ['<|endoftext|>'] },
      keep_alive: '30m',
    };
    const { gw, upstream } = await startScriptedGateway('coder', (req, res) =>
      json(res, 200, {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'coder',
        choices: [{ index: 0, text: 'return a + b', finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
      }),
    );
    const lines = await ollamaLines(`${gw.url}/api/generate`, fim);
    expect(lines).toEqual([
      { model: 'coder', created_at: expect.any(String), response: 'return a + b', done: false },
      expect.objectContaining({ done: true, done_reason: 'stop', prompt_eval_count: 12, eval_count: 5 }),
    ]);
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/completions');
    expect(sent.json()).toEqual({
      model: 'coder',
      prompt: fim.prompt,
      max_tokens: 32,
      temperature: 0.2,
      stop: ['<|endoftext|>'],
      keep_alive: '30m',
      stream: false,
    });
    // A suffix, whole.
    const r = await post(`${gw.url}/api/generate`, {
      model: 'coder',
      prompt: 'def add(a, b):',
      suffix: 'print(add(1, 2))',
      system: 'You write Python.',
      stream: false,
    });
    expect(await r.json()).toMatchObject({ model: 'coder', response: 'return a + b', done: true });
    expect(r.headers.get('x-fleet-worker')).toBe('u');
    expect(upstream.requests.at(-1)!.json()).toMatchObject({
      prompt: 'def add(a, b):',
      suffix: 'print(add(1, 2))',
      system: 'You write Python.',
    });
  });

  it("raw and suffix reach an Ollama worker's native /api/generate", async () => {
    const { gw, sim: s } = await startFleetGateway([sim('o', { type: 'ollama', models: ['coder'] })], {
      mapWorker: (w) => ({ ...w, model: 'coder', api: 'native' }),
    });
    const r = await post(`${gw.url}/api/generate`, {
      model: 'coder',
      prompt: 'x = ',
      suffix: '\n',
      raw: true,
      stream: false,
    });
    expect(r.status).toBe(200);
    const b = (await r.json()) as { response: string; done: boolean; eval_count: number };
    expect(b.done).toBe(true);
    expect(b.response.length).toBeGreaterThan(0);
    expect(b.eval_count).toBeGreaterThan(0);
    expect(s.workers[0]!.stats().log.map((l) => l.path)).toEqual(['/api/generate']);
  });

  it("/api/show gives what the workers' servers say a model can do, or the config, else completion", async () => {
    const { gw } = await startFleetGateway(
      [
        sim('ol', { type: 'ollama', models: ['llama3'], reasoningTokens: 4, contextLength: 8192 }),
        sim('lm', { type: 'lm_studio', models: ['qwen'], contextLength: 4096 }),
        sim('vl', { type: 'vllm', models: ['mistral'] }),
        sim('vl2', { type: 'vllm', models: ['gemma'] }),
        // Two workers serve phi: its Ollama says tools, the vLLM's config says completion only.
        sim('ol2', { type: 'ollama', models: ['phi'] }),
        sim('vl3', { type: 'vllm', models: ['phi'] }),
      ],
      {
        mapWorker: (w, i) => {
          const model = ['llama3', 'qwen', 'mistral', 'gemma', 'phi', 'phi'][i]!;
          if (i === 3) return { ...w, model, capabilities: ['completion', 'tools', 'vision', 'tools'] };
          if (i === 5) return { ...w, model, capabilities: ['completion'] };
          return { ...w, model };
        },
      },
    );
    const show = async (model: string) =>
      (await (await post(`${gw.url}/api/show`, { model })).json()) as {
        capabilities: string[];
        details: Record<string, unknown>;
        model_info: Record<string, unknown>;
        template: string;
        parameters: string;
      };
    // Ollama's own answer, passed on.
    const llama = await show('llama3');
    expect(llama.capabilities).toEqual(['completion', 'tools', 'thinking']);
    expect(llama.details).toMatchObject({
      family: 'llama',
      families: ['llama'],
      parameter_size: '7B',
      format: 'gguf',
    });
    expect(llama.details['quantization_level']).toBe('Q4_K_M');
    expect(llama.model_info).toEqual({
      'general.architecture': 'llama',
      'general.parameter_count': 7_000_000_000,
      'llama.context_length': 8192,
    });
    expect(llama.template).toBe('{{ .Prompt }}');
    // LM Studio 0.4's model list: trained_for_tool_use, architecture, size, quantisation, context.
    const qwen = await show('qwen');
    expect(qwen.capabilities).toEqual(['completion', 'tools']);
    expect(qwen.details).toMatchObject({
      family: 'llama',
      parameter_size: '7B',
      quantization_level: 'Q4_K_M',
    });
    expect(qwen.model_info).toEqual({ 'general.architecture': 'llama', 'llama.context_length': 4096 });
    // vLLM cannot say: completion, unless the config says more (duplicates dropped).
    expect((await show('mistral')).capabilities).toEqual(['completion']);
    expect((await show('mistral')).details).toMatchObject({ family: '', families: null });
    expect((await show('gemma')).capabilities).toEqual(['completion', 'tools', 'vision']);
    // What every worker of the model can do.
    const phi = await show('phi');
    expect(phi.capabilities).toEqual(['completion']);
    expect(phi.details).toMatchObject({ family: 'llama' });
    // Listings do not wait on the workers: they give the details the workers have given so far.
    type Listed = { name: string; details: { family: string }; context_length?: number };
    const listed = async (path: string) =>
      ((await (await fetch(`${gw.url}${path}`)).json()) as { models: Listed[] }).models;
    const tags = await listed('/api/tags');
    expect(tags.find((m) => m.name === 'qwen')?.details.family).toBe('llama');
    expect(tags.find((m) => m.name === 'mistral')?.details.family).toBe('');
    const ps = await listed('/api/ps');
    expect(ps.find((m) => m.name === 'llama3')?.context_length).toBe(8192);
  });

  it('/api/chat streams NDJSON: message lines, then done with counts', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'], outputTokens: 10 })]);
    const lines = await ollamaLines(`${gw.url}/api/chat`, {
      model: 'llama3',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ model: 'llama3', done: true, done_reason: 'stop', eval_count: 10 });
    expect(last['prompt_eval_count']).toBeGreaterThan(0);
    expect(last['total_duration']).toBeGreaterThan(0);
    const parts = lines.slice(0, -1);
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.every((l) => l['done'] === false)).toBe(true);
    const text = parts.map((l) => (l['message'] as { content: string }).content).join('');
    expect(text.trim().split(' ')).toHaveLength(10);
  });

  it('/api/chat with tools: the call whole in Ollama shape, and a tool result answered in text', async () => {
    // Over an OpenAI-style worker (streamed arguments put back together) and an Ollama one on its
    // native API (calls whole, no ids): an Ollama client sees the same either way.
    for (const native of [false, true]) {
      const { gw } = await startFleetGateway(
        [sim('a', { models: ['llama3'], decodeTps: 4, ...(native ? { type: 'ollama' as const } : {}) })],
        native ? { worker: { api: 'native' } } : {},
      );
      const tools = [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ];
      const ask = [{ role: 'user', content: 'Weather in Paris?' }];
      const call = { function: { name: 'get_weather', arguments: { city: 'sim' } } };
      const lines = await ollamaLines(`${gw.url}/api/chat`, { model: 'llama3', messages: ask, tools });
      const withCalls = lines.filter((l) => (l['message'] as { tool_calls?: unknown }).tool_calls);
      expect(withCalls).toHaveLength(1);
      expect(withCalls[0]).toMatchObject({ done: false, message: { role: 'assistant', tool_calls: [call] } });
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
      const whole = await post(`${gw.url}/api/chat`, {
        model: 'llama3',
        messages: ask,
        tools,
        stream: false,
      });
      expect(await whole.json()).toMatchObject({
        done: true,
        done_reason: 'stop',
        message: { tool_calls: [call] },
      });
      // The result goes back as a tool message naming the function; the model answers in text.
      const answer = await post(`${gw.url}/api/chat`, {
        model: 'llama3',
        stream: false,
        tools,
        messages: [
          ...ask,
          { role: 'assistant', content: '', tool_calls: [call] },
          { role: 'tool', content: '21 C', tool_name: 'get_weather' },
        ],
      });
      const body = (await answer.json()) as { message: { content: string; tool_calls?: unknown } };
      expect(answer.status).toBe(200);
      expect(body.message.tool_calls).toBeUndefined();
      expect(body.message.content.length).toBeGreaterThan(0);
      await closeAll();
    }
  });

  it("maps Ollama's calls and tool results to chat's: ids given, each result to its call", () => {
    const fn = (name: string, args: unknown) => ({ function: { name, arguments: args } });
    const plain = [{ role: 'user', content: 'hi' }];
    expect(chatMessagesOf(plain)).toBe(plain);
    expect(
      chatMessagesOf([
        { role: 'user', content: 'Weather and time here?', images: ['R0lGODlh'] },
        { role: 'assistant', content: '', tool_calls: [fn('weather', { city: 'Paris' }), fn('time', {})] },
        { role: 'tool', content: '12:00', tool_name: 'time' },
        { role: 'tool', content: '21 C' },
      ]),
    ).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather and time here?' },
          { type: 'image_url', image_url: { url: 'data:image/gif;base64,R0lGODlh' } },
        ],
      },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_1_0', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_1_1', type: 'function', function: { name: 'time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1_1', content: '12:00' },
      { role: 'tool', tool_call_id: 'call_1_0', content: '21 C' },
    ]);
    expect(
      [
        { id: 'c1', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
        { id: 'c2', type: 'function', function: { name: 'b', arguments: 'not json' } },
      ].map(toOllamaToolCall),
    ).toEqual([fn('a', { x: 1 }), fn('b', 'not json')]);
  });

  it('images, format, think, keep_alive and sampling options reach the worker in chat words', async () => {
    // A scripted OpenAI-type worker that keeps what it is sent.
    const { gw, upstream } = await startScriptedGateway('llava', (_req, res) =>
      json(res, 200, {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'llava',
        choices: [{ index: 0, message: { role: 'assistant', content: '{"a":1}' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      }),
    );
    const png = 'iVBORw0KGgoAAAANSUhEUg';
    const jpeg = '/9j/4AAQSkZJRg';
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const chat = await post(`${gw.url}/api/chat`, {
      model: 'llava',
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is in these?', images: [png, jpeg] },
      ],
      format: schema,
      think: true,
      keep_alive: '5m',
      options: { temperature: 0.3, top_k: 20, min_p: 0.05, repeat_penalty: 1.1, num_ctx: 8192 },
    });
    expect(chat.status).toBe(200);
    expect(await chat.json()).toMatchObject({ message: { content: '{"a":1}' }, done: true });
    const gen = await post(`${gw.url}/api/generate`, {
      model: 'llava',
      stream: false,
      prompt: 'Describe it.',
      images: [png],
      format: 'json',
    });
    expect(await gen.json()).toMatchObject({ response: '{"a":1}', done: true });
    const sent = upstream.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.json());
    expect(sent[0]).toMatchObject({
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg}` } },
          ],
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'response', schema } },
      think: true,
      keep_alive: '5m',
      temperature: 0.3,
      top_k: 20,
      min_p: 0.05,
      repeat_penalty: 1.1,
      num_ctx: 8192,
    });
    expect((sent[0]!['messages'] as Array<Record<string, unknown>>)[1]!['images']).toBeUndefined();
    expect(sent[1]).toMatchObject({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe it.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
      response_format: { type: 'json_object' },
    });
    // A format that is neither "json" nor a schema is a 400 that names the field.
    const bad = await post(`${gw.url}/api/chat`, {
      model: 'llava',
      messages: [{ role: 'user', content: 'x' }],
      format: 'yaml',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('format');
  });

  it("a thinking model's reasoning is `thinking`, streamed and whole, on chat and generate", async () => {
    const { gw } = await startFleetGateway([
      sim('a', { models: ['qwen3'], outputTokens: 10, reasoningTokens: 4 }),
    ]);
    const ask = [{ role: 'user', content: 'Why?' }];
    const words = (s: unknown) => String(s).trim().split(' ').length;
    const lines = await ollamaLines(`${gw.url}/api/chat`, { model: 'qwen3', messages: ask, think: true });
    const thought = lines.map((l) => (l['message'] as { thinking?: string }).thinking ?? '').join('');
    expect(words(thought)).toBe(4);
    const chat = (await (
      await post(`${gw.url}/api/chat`, { model: 'qwen3', messages: ask, stream: false })
    ).json()) as {
      message: { thinking?: string; content: string };
    };
    expect(words(chat.message.thinking)).toBe(4);
    expect(words(chat.message.content)).toBe(6);
    const gen = (await (
      await post(`${gw.url}/api/generate`, { model: 'qwen3', prompt: 'Why?', stream: false })
    ).json()) as {
      thinking?: string;
      response: string;
    };
    expect(words(gen.thinking)).toBe(4);
    expect(words(gen.response)).toBe(6);
  });

  it('/api/generate, streamed and not, with num_predict', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    const lines = await ollamaLines(`${gw.url}/api/generate`, {
      model: 'llama3',
      prompt: 'Hi',
      options: { num_predict: 4 },
    });
    expect(
      lines
        .map((l) => l['response'])
        .join('')
        .trim()
        .split(' '),
    ).toHaveLength(4);
    const r = await post(`${gw.url}/api/generate`, {
      model: 'llama3',
      prompt: 'Hi',
      stream: false,
      options: { num_predict: 3 },
    });
    const b = (await r.json()) as { response: string; done: boolean; eval_count: number };
    expect(r.headers.get('x-fleet-worker')).toBe('a');
    expect(b.done).toBe(true);
    expect(b.eval_count).toBe(3);
    expect(b.response.split(' ')).toHaveLength(3);
  });

  it('errors in Ollama shape: unknown model 404, bad body 400', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    let r = await post(`${gw.url}/api/chat`, {
      model: 'mistral',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.status).toBe(404);
    const b = (await r.json()) as { error: string };
    expect(b.error).toContain('mistral');
    expect(b.error).toContain('llama3');
    r = await post(`${gw.url}/api/chat`, { model: 'llama3', messages: 'hi' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({
      error:
        'chat request: messages: expected a list of messages such as [{"role": "user", "content": "Hi"}], got "hi"',
    });
  });

  it('/api/embed (one text or several, in order) and the older /api/embeddings', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['nomic'] })]);
    let r = await post(`${gw.url}/api/embed`, { model: 'nomic', input: ['first text', 'second text'] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fleet-worker')).toBe('a');
    const b = (await r.json()) as { model: string; embeddings: number[][]; prompt_eval_count: number };
    expect(b.model).toBe('nomic');
    expect(b.embeddings).toHaveLength(2);
    expect(b.embeddings[0]!.length).toBeGreaterThan(0);
    expect(b.embeddings[0]).not.toEqual(b.embeddings[1]);
    expect(b.prompt_eval_count).toBeGreaterThan(0);

    r = await post(`${gw.url}/api/embed`, { model: 'nomic', input: 'second text' });
    const one = (await r.json()) as { embeddings: number[][] };
    expect(one.embeddings).toEqual([b.embeddings[1]]);

    r = await post(`${gw.url}/api/embeddings`, { model: 'nomic', prompt: 'first text' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { embedding: number[] }).embedding).toEqual(b.embeddings[0]);

    // `dimensions` reaches the worker (OpenAI's word as well as Ollama's).
    r = await post(`${gw.url}/api/embed`, { model: 'nomic', input: 'first text', dimensions: 8 });
    expect(((await r.json()) as { embeddings: number[][] }).embeddings[0]).toHaveLength(8);

    r = await post(`${gw.url}/api/embed`, { model: 'nomic' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'embed request: input: required' });
    const recent = gw.fleet.stats().workers[0]!.completed;
    expect(recent).toBe(4);
  });

  it("/api/embed passes truncate, keep_alive and options on, and an Ollama worker's native API gets them", async () => {
    const { gw, upstream } = await startScriptedGateway('nomic', (_req, res) =>
      json(res, 200, {
        object: 'list',
        model: 'nomic',
        data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
        usage: { prompt_tokens: 2, total_tokens: 2 },
      }),
    );
    const body = {
      model: 'nomic',
      input: 'x',
      truncate: false,
      keep_alive: '1h',
      options: { num_ctx: 512 },
      dimensions: 2,
    };
    const r = await post(`${gw.url}/api/embed`, body);
    expect(((await r.json()) as { embeddings: number[][] }).embeddings).toEqual([[0.6, 0.8]]);
    expect(upstream.requests.at(-1)!.json()).toEqual({ ...body, input: 'x' });
    const { gw: gw2, sim: s } = await startFleetGateway([sim('o', { type: 'ollama', models: ['nomic'] })], {
      mapWorker: (w) => ({ ...w, model: 'nomic', api: 'native' }),
    });
    const n = await post(`${gw2.url}/api/embed`, {
      model: 'nomic',
      input: ['a', 'b'],
      dimensions: 4,
      truncate: true,
    });
    const e = (await n.json()) as { embeddings: number[][] };
    expect(e.embeddings.map((v) => v.length)).toEqual([4, 4]);
    expect(s.workers[0]!.stats().log.map((l) => l.path)).toEqual(['/api/embed']);
  });
});
