/* eslint-disable @typescript-eslint/no-unsafe-call --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { chat, chunks, closeAll, http, sim, streamEvents, warm } from './helpers.ts';

/** LM Studio, vLLM, MLX and exo specifics. */
afterEach(closeAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sim lm_studio', () => {
  it('answers 200 on unknown paths, /health included (the real quirk)', async () => {
    const w = await sim({ type: 'lm_studio' });
    for (const path of ['/health', '/v1/health', '/anything']) {
      const r = await http(`${w.url}${path}`);
      expect(r.status).toBe(200);
      expect(r.text).toContain('Returning 200 anyway');
    }
    // ...while the simulator's own routes still work.
    expect((await http(`${w.url}/sim/stats`)).json().type).toBe('lm_studio');
  });

  it('/api/v0/models shows the state, /api/v1/models the loaded instances with parallel = slots', async () => {
    const w = await sim({
      type: 'lm_studio',
      models: ['qwen3-8b'],
      slots: 5,
      contextLength: 4096,
      coldStartMs: 300,
    });
    const v0 = (await http(`${w.url}/api/v0/models`)).json();
    expect(v0.data[0]).toMatchObject({
      id: 'qwen3-8b',
      state: 'not-loaded',
      max_context_length: 4096,
      type: 'llm',
    });
    expect((await http(`${w.url}/api/v1/models`)).json().models[0].loaded_instances).toEqual([]);
    await sleep(350);
    expect((await http(`${w.url}/api/v0/models`)).json().data[0].state).toBe('loaded');
    const v1 = (await http(`${w.url}/api/v1/models`)).json();
    expect(v1.models[0].key).toBe('qwen3-8b');
    expect(v1.models[0].loaded_instances[0].config).toMatchObject({ parallel: 5, context_length: 4096 });
    expect((await http(`${w.url}/lmstudio-greeting`)).json()).toEqual({ lmstudio: true });
  });

  it('puts reasoning in reasoning_content', async () => {
    const w = await sim({ type: 'lm_studio', reasoningTokens: 3, outputTokens: 8, decodeTps: Infinity });
    const r = (await http(`${w.url}/v1/chat/completions`, { body: chat('hi') })).json();
    expect(r.choices[0].message.reasoning_content.split(' ')).toHaveLength(3);
    expect(r.choices[0].message.content.trim().split(' ')).toHaveLength(5);
    expect(r.usage.completion_tokens).toBe(8);
  });
});

describe('sim vllm', () => {
  it('/health is 200 with an empty body, 503 during cold start', async () => {
    const w = await sim({ type: 'vllm', coldStartMs: 300 });
    expect((await http(`${w.url}/health`)).status).toBe(503);
    await sleep(350);
    const r = await http(`${w.url}/health`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('/metrics reports running and waiting requests', async () => {
    const w = await sim({
      type: 'vllm',
      models: ['meta-llama/Llama-3-8B'],
      slots: 2,
      decodeTps: 50,
      timeScale: 0.5,
    });
    await warm(w.url, 3);
    const pending = [1, 2, 3].map(() =>
      http(`${w.url}/v1/chat/completions`, { body: chat('q', { max_tokens: 20 }) }),
    );
    await sleep(60);
    const m = (await http(`${w.url}/metrics`)).text;
    expect(m).toContain('vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3-8B"} 2');
    expect(m).toContain('vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3-8B"} 1');
    await Promise.all(pending);
    const after = (await http(`${w.url}/metrics`)).text;
    expect(after).toContain('vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3-8B"} 0');
    expect(after).toContain('vllm:generation_tokens_total{engine="0",model_name="meta-llama/Llama-3-8B"} 60');
  });

  it('/v1/models lists max_model_len; reasoning is `reasoning`', async () => {
    const w = await sim({ type: 'vllm', contextLength: 16384, reasoningTokens: 2, decodeTps: Infinity });
    expect((await http(`${w.url}/v1/models`)).json().data[0]).toMatchObject({
      owned_by: 'vllm',
      max_model_len: 16384,
    });
    const s = await streamEvents(`${w.url}/v1/chat/completions`, chat('hi', { stream: true }));
    expect(chunks(s.events).some((c) => typeof c.choices[0]?.delta?.reasoning === 'string')).toBe(true);
  });
});

describe('sim mlx', () => {
  it('/health is 200 even while the model loads', async () => {
    const w = await sim({ type: 'mlx', coldStartMs: 5000 });
    const r = await http(`${w.url}/health`);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
    expect((await http(`${w.url}/v1/chat/completions`, { body: chat('hi') })).status).toBe(503);
  });

  it('sends `: keepalive N/M` comments while the prompt is processed, and reasoning in delta.reasoning', async () => {
    // 4000 prompt tokens at 2000/s = 2 s model x 0.1 = 200 ms of prefill: several ticks of 20 ms.
    const w = await sim({
      type: 'mlx',
      prefillTps: 2000,
      timeScale: 0.1,
      reasoningTokens: 2,
      decodeTps: 1000,
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('z'.repeat(16_000), { stream: true })),
    });
    const text = await res.text();
    const keepalives = text.split('\n').filter((l) => l.startsWith(': keepalive '));
    expect(keepalives.length).toBeGreaterThanOrEqual(3);
    const counts = keepalives.map((l) => Number(/keepalive (\d+)\/(\d+)/.exec(l)![1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(keepalives[0]).toMatch(/^: keepalive 0\/4002$/);
    expect(text).toContain('"reasoning":"');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('chat also answers on /chat/completions', async () => {
    const w = await sim({ type: 'mlx', decodeTps: Infinity });
    expect((await http(`${w.url}/chat/completions`, { body: chat('hi') })).status).toBe(200);
  });
});

describe('sim exo', () => {
  it('answers /healthcheck and chat without the /v1 prefix', async () => {
    const w = await sim({ type: 'exo', decodeTps: Infinity });
    expect((await http(`${w.url}/healthcheck`)).json()).toEqual({ status: 'ok' });
    expect((await http(`${w.url}/chat/completions`, { body: chat('hi') })).status).toBe(200);
    expect((await http(`${w.url}/models`)).json().data[0].owned_by).toBe('exo');
  });
});
