/* eslint-disable @typescript-eslint/no-unsafe-call --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { chat, chunks, closeAll, http, sim, streamEvents, warm } from './helpers.ts';

/** llama-server specifics, checked against reference/captures/llama-server. */
afterEach(closeAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sim llama_cpp', () => {
  it('/health is 503 "Loading model" during cold start, then {"status":"ok"}', async () => {
    const w = await sim({ type: 'llama_cpp', coldStartMs: 300 });
    const early = await http(`${w.url}/health`);
    expect(early.status).toBe(503);
    expect(early.json()).toEqual({
      error: { code: 503, message: 'Loading model', type: 'unavailable_error' },
    });
    expect(early.headers['server']).toBe('llama.cpp');
    expect((await http(`${w.url}/props`)).status).toBe(503);
    await sleep(350);
    const late = await http(`${w.url}/health`);
    expect(late.status).toBe(200);
    expect(late.text).toBe('{"status":"ok"}');
    expect((await http(`${w.url}/v1/health`)).status).toBe(200);
  });

  it('/props reports total_slots and n_ctx', async () => {
    const w = await sim({ type: 'llama_cpp', slots: 6, contextLength: 4096, models: ['stories260K'] });
    const p = (await http(`${w.url}/props`)).json();
    expect(p.total_slots).toBe(6);
    expect(p.default_generation_settings.n_ctx).toBe(4096);
    expect(p.model_alias).toBe('stories260K');
  });

  it('/v1/models carries both models[] and data[]', async () => {
    const w = await sim({ type: 'llama_cpp', models: ['stories260K'], contextLength: 512 });
    const m = (await http(`${w.url}/v1/models`)).json();
    expect(m.object).toBe('list');
    expect(m.models[0]).toMatchObject({ name: 'stories260K', model: 'stories260K' });
    expect(m.data[0]).toMatchObject({ id: 'stories260K', object: 'model', owned_by: 'llamacpp' });
    expect(m.data[0].meta.n_ctx).toBe(512);
  });

  it('/slots shows busy slots, /slots?fail_on_no_slot=1 answers 503 when all are busy, /metrics counts', async () => {
    const w = await sim({ type: 'llama_cpp', slots: 2, decodeTps: 50, timeScale: 0.5, outputTokens: 50 });
    await warm(w.url, 3);
    const idle = await http(`${w.url}/slots?fail_on_no_slot=1`);
    expect(idle.status).toBe(200);
    expect(idle.json().map((s: { is_processing: boolean }) => s.is_processing)).toEqual([false, false]);
    const pending = [1, 2, 3].map(() => http(`${w.url}/v1/chat/completions`, { body: chat('q') }));
    await sleep(100);
    const busy = await http(`${w.url}/slots?fail_on_no_slot=1`);
    expect(busy.status).toBe(503);
    expect(busy.json()).toEqual({
      error: { code: 503, message: 'no slot available', type: 'unavailable_error' },
    });
    const slots = (await http(`${w.url}/slots`)).json();
    expect(slots).toHaveLength(2);
    expect(slots.every((s: { is_processing: boolean }) => s.is_processing)).toBe(true);
    expect(slots[0].next_token[0].n_decoded).toBeGreaterThan(0);
    const metrics = (await http(`${w.url}/metrics`)).text;
    expect(metrics).toContain('llamacpp:requests_processing 2');
    expect(metrics).toContain('llamacpp:requests_deferred 1');
    expect(metrics).toMatch(/# TYPE llamacpp:tokens_predicted_total counter/);
    // /health stays 200 while busy (captures/busy-health.txt).
    expect((await http(`${w.url}/health`)).status).toBe(200);
    await Promise.all(pending);
    expect((await http(`${w.url}/metrics`)).text).toContain('llamacpp:tokens_predicted_total 150');
  });

  it('streams a first chunk with content null, and timings on the finish and usage chunks', async () => {
    const w = await sim({
      type: 'llama_cpp',
      models: ['stories260K'],
      decodeTps: 1000,
      timeScale: 0.1,
      outputTokens: 8,
    });
    const s = await streamEvents(
      `${w.url}/v1/chat/completions`,
      chat('Once upon a time', { stream: true, stream_options: { include_usage: true } }),
    );
    const cs = chunks(s.events);
    expect(cs[0].choices[0]).toMatchObject({
      index: 0,
      delta: { role: 'assistant', content: null },
      finish_reason: null,
    });
    expect(cs[0].system_fingerprint).toBe('b0-unknown');
    const finish = cs.at(-2);
    expect(finish.choices[0].finish_reason).toBe('stop');
    expect(finish.timings).toMatchObject({ predicted_n: 8, cache_n: 0 });
    expect(cs.at(-1).timings.predicted_n).toBe(8);
    expect(cs.at(-1).usage.completion_tokens).toBe(8);
  });

  it('non-streaming answers carry timings consistent with the model', async () => {
    const w = await sim({
      type: 'llama_cpp',
      decodeTps: 100,
      prefillTps: Infinity,
      timeScale: 1,
      outputTokens: 10,
    });
    await warm(w.url);
    const r = (await http(`${w.url}/v1/chat/completions`, { body: chat('hi') })).json();
    expect(r.timings.predicted_n).toBe(10);
    expect(r.timings.predicted_ms).toBeCloseTo(100, 0); // 10 tokens at 100/s
    expect(r.timings.predicted_per_second).toBeCloseTo(100, 0);
  });

  it('reports a mid-stream failure as an SSE `error:` line', async () => {
    const w = await sim({
      type: 'llama_cpp',
      faults: { midStreamErrorRate: 1 },
      decodeTps: 200,
      timeScale: 0.1,
    });
    const s = await streamEvents(`${w.url}/v1/chat/completions`, chat('hi', { stream: true }));
    expect(s.status).toBe(200);
    const err = s.events.find((e) => e.event === 'error')!;
    expect(JSON.parse(err.data)).toEqual({
      code: 500,
      message: 'simulated failure during generation',
      type: 'server_error',
    });
    expect(s.events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(w.stats().log[0]!.outcome).toBe('error');
  });

  it('answers CORS preflight requests', async () => {
    const w = await sim({ type: 'llama_cpp' });
    const r = await http(`${w.url}/v1/chat/completions`, { method: 'OPTIONS' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-methods']).toContain('POST');
  });
});
