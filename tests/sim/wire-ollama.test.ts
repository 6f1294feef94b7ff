/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/core/tokens.ts';
import { chat, chunks, closeAll, http, sim, streamEvents } from './helpers.ts';

/** Ollama's native API (NDJSON) and its /v1 quirks. */
afterEach(closeAll);

const ndjson = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('sim ollama', () => {
  const start = (extra = {}) =>
    sim({
      type: 'ollama',
      models: ['llama3:latest'],
      decodeTps: 2000,
      timeScale: 0.1,
      outputTokens: 10,
      ...extra,
    });

  it('says it is running, and reports version, tags and ps', async () => {
    const w = await start();
    const root = await http(`${w.url}/`);
    expect(root.status).toBe(200);
    expect(root.text).toBe('Ollama is running');
    expect((await http(`${w.url}/api/version`)).json().version).toMatch(/^\d+\.\d+\.\d+$/);
    const tags = (await http(`${w.url}/api/tags`)).json();
    expect(tags.models[0]).toMatchObject({ name: 'llama3:latest', model: 'llama3:latest' });
    const ps = (await http(`${w.url}/api/ps`)).json();
    expect(ps.models[0]).toMatchObject({ name: 'llama3:latest', context_length: 8192 });
    expect((await http(`${w.url}/v1/models`)).json().data[0]).toMatchObject({
      id: 'llama3:latest',
      owned_by: 'library',
    });
  });

  it('/api/ps is empty while the model loads', async () => {
    const w = await start({ coldStartMs: 3000 });
    expect((await http(`${w.url}/api/ps`)).json().models).toEqual([]);
  });

  it('/api/chat streams NDJSON by default; the last line has done, counts and durations', async () => {
    const w = await start();
    const r = await http(`${w.url}/api/chat`, {
      body: { model: 'llama3', messages: [{ role: 'user', content: 'hello' }] },
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    const lines = ndjson(r.text);
    const last = lines.at(-1);
    expect(lines.slice(0, -1).every((l) => l.done === false && l.message.role === 'assistant')).toBe(true);
    expect(
      lines
        .slice(0, -1)
        .map((l) => l.message.content)
        .join('')
        .split(' '),
    ).toHaveLength(10);
    expect(last).toMatchObject({
      model: 'llama3',
      done: true,
      done_reason: 'stop',
      prompt_eval_count: estimateTokens('user: hello\n'),
      eval_count: 10,
    });
    // 10 tokens at 2000/s x 0.1 = 0.5 ms of decode, reported in nanoseconds of real time.
    expect(last.eval_duration).toBeGreaterThan(0);
    expect(last.eval_duration).toBeLessThan(50e6);
    expect(new Date(last.created_at).getTime()).toBeGreaterThan(0);
  });

  it('/api/chat with stream:false answers one JSON object; num_predict caps the output', async () => {
    const w = await start();
    const r = await http(`${w.url}/api/chat`, {
      body: {
        model: 'llama3:latest',
        stream: false,
        options: { num_predict: 4 },
        messages: [{ role: 'user', content: 'hi' }],
      },
    });
    const b = r.json();
    expect(b.message.content.split(' ')).toHaveLength(4);
    expect(b).toMatchObject({ done: true, done_reason: 'length', eval_count: 4 });
  });

  it('/api/generate streams `response` fields', async () => {
    const w = await start();
    const lines = ndjson(
      (await http(`${w.url}/api/generate`, { body: { model: 'llama3', prompt: 'Why?' } })).text,
    );
    expect(
      lines
        .slice(0, -1)
        .map((l) => l.response)
        .join('')
        .split(' '),
    ).toHaveLength(10);
    expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 10, prompt_eval_count: 1 });
  });

  it('/api/embed returns one vector per input', async () => {
    const w = await start();
    const b = (await http(`${w.url}/api/embed`, { body: { model: 'llama3', input: ['a', 'b'] } })).json();
    expect(b.embeddings).toHaveLength(2);
    expect(b.embeddings[0]).toHaveLength(384);
    expect(b.prompt_eval_count).toBe(2);
  });

  it('native errors are {"error": "..."}: unknown model 404, missing model 400, busy 503', async () => {
    const w = await start({ slots: 1, maxQueue: 0, decodeTps: 50, outputTokens: 20 });
    const nf = await http(`${w.url}/api/chat`, { body: { model: 'mistral', messages: [] } });
    expect(nf.status).toBe(404);
    expect(nf.json()).toEqual({ error: 'model "mistral" not found, try pulling it first' });
    const missing = await http(`${w.url}/api/chat`, { body: { messages: [] } });
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual({ error: 'model is required' });
    const body = { model: 'llama3', stream: false, messages: [{ role: 'user', content: 'x' }] };
    const [a, b] = await Promise.all([
      http(`${w.url}/api/chat`, { body }),
      http(`${w.url}/api/chat`, { body }),
    ]);
    const busy = a.status === 503 ? a : b;
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    expect(busy.json()).toEqual({
      error: 'server busy, please try again.  maximum pending requests exceeded',
    });
  });

  it('truncates an over-long prompt unless truncate is false', async () => {
    const w = await start({ contextLength: 64 });
    const messages = [{ role: 'user', content: 'y'.repeat(1000) }];
    const ok = await http(`${w.url}/api/chat`, { body: { model: 'llama3', stream: false, messages } });
    expect(ok.status).toBe(200);
    expect(ok.json().prompt_eval_count).toBe(54); // 64 - 10 output tokens
    const strict = await http(`${w.url}/api/chat`, {
      body: { model: 'llama3', stream: false, truncate: false, messages },
    });
    expect(strict.status).toBe(400);
    expect(strict.json()).toEqual({ error: 'the input length exceeds the context length' });
  });

  it('a mid-stream failure is an NDJSON {"error"} line under a 200', async () => {
    const w = await start({ faults: { midStreamErrorRate: 1 }, outputTokens: 20, decodeTps: 100 });
    const r = await http(`${w.url}/api/chat`, {
      body: { model: 'llama3', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(r.status).toBe(200);
    const lines = ndjson(r.text);
    expect(lines.at(-1)).toEqual({ error: 'simulated failure during generation' });
    expect(lines.some((l) => l.done === true)).toBe(false);
  });

  it('reasoning: `reasoning` on /v1 deltas, `thinking` in native messages', async () => {
    const w = await start({ reasoningTokens: 4 });
    const s = await streamEvents(`${w.url}/v1/chat/completions`, chat('hi', { stream: true }));
    const deltas = chunks(s.events).map((c) => c.choices[0]?.delta ?? {});
    expect(
      deltas
        .map((d) => d.reasoning ?? '')
        .join('')
        .split(' '),
    ).toHaveLength(4);
    expect(
      deltas
        .map((d) => d.content ?? '')
        .join('')
        .trim()
        .split(' '),
    ).toHaveLength(6);
    const native = (
      await http(`${w.url}/api/chat`, {
        body: { model: 'llama3', stream: false, messages: [{ role: 'user', content: 'x' }] },
      })
    ).json();
    expect(native.message.thinking.split(' ')).toHaveLength(4);
    expect(native.eval_count).toBe(10);
  });
});
