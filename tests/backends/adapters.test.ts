/**
 * Every adapter against a simulated worker of its type (src/sim): models, chat, streams, usage,
 * reasoning, every error class, probes, and aborts that the server must see.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { WorkerConfig, WorkerType } from '../../src/config/types.ts';
import type { ChatChunk, ChatRequest } from '../../src/core/openai.ts';
import { startSimWorker, type SimWorker } from '../../src/sim/index.ts';
import { closedPort, collect, expectFleetError, fleetErrorOf, sleep, workerAt } from './helpers.ts';

interface Variant {
  name: string;
  type: WorkerType;
  api?: 'openai' | 'native';
}

const VARIANTS: Variant[] = [
  { name: 'openai', type: 'openai' },
  { name: 'exo', type: 'exo' },
  { name: 'lm_studio', type: 'lm_studio' },
  { name: 'llama_cpp', type: 'llama_cpp' },
  { name: 'vllm', type: 'vllm' },
  { name: 'mlx', type: 'mlx' },
  { name: 'ollama /v1', type: 'ollama', api: 'openai' },
  { name: 'ollama native', type: 'ollama', api: 'native' },
];

const MODEL = 'm1';
const hi: ChatRequest = { messages: [{ role: 'user', content: 'Say hi' }] };
const text = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const reasoning = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.reasoning ?? '').join('');

describe.each(VARIANTS)('$name adapter', (v) => {
  let sim: SimWorker;
  let slow: SimWorker;
  let mid: SimWorker;
  const backends: Backend[] = [];
  const make = (url: string, over: Partial<WorkerConfig> = {}): Backend => {
    const b = createBackend(workerAt(url, { type: v.type, api: v.api ?? 'openai', model: MODEL, ...over }));
    backends.push(b);
    return b;
  };
  let backend: Backend;

  beforeAll(async () => {
    sim = await startSimWorker({
      type: v.type,
      models: [MODEL],
      slots: 2,
      decodeTps: Infinity,
      prefillTps: Infinity,
      outputTokens: 6,
      reasoningTokens: 2,
      contextLength: 256,
      streamTickMs: 1,
    });
    // Slow enough to abort mid-stream: 100 tokens at 40 tokens/s.
    slow = await startSimWorker({
      type: v.type,
      models: [MODEL],
      decodeTps: 40,
      outputTokens: 100,
      streamTickMs: 10,
    });
    // Fast, but with chunks far enough apart that a drop comes after bytes reached the client.
    mid = await startSimWorker({
      type: v.type,
      models: [MODEL],
      decodeTps: 2000,
      outputTokens: 20,
      streamTickMs: 2,
    });
    backend = make(sim.url);
  });
  afterEach(() => {
    sim.setFaults({});
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await sim.close();
    await slow.close();
    await mid.close();
  });

  it('lists its models', async () => {
    const models = await backend.listModels();
    expect(models.map((m) => m.id)).toContain(MODEL);
  });

  it('answers a chat with usage and reasoning kept apart from content', async () => {
    const c = await backend.chat(hi);
    expect(c.object).toBe('chat.completion');
    expect(c.choices[0]?.message.content).toMatch(/\S/);
    expect(c.choices[0]?.message.reasoning).toMatch(/\S/);
    expect(c.choices[0]?.finish_reason).toBe('stop');
    expect(c.usage?.completion_tokens).toBe(6);
    expect(c.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(c.model).toBe(MODEL);
  });

  it('streams a chat: role first, content, reasoning, one finish_reason, usage last', async () => {
    const chunks = await collect(backend.chatStream(hi));
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(text(chunks)).toMatch(/\S/);
    expect(reasoning(chunks)).toMatch(/\S/);
    expect(chunks.filter((c) => c.choices.some((x) => x.finish_reason !== null))).toHaveLength(1);
    const usage = chunks.find((c) => c.usage)?.usage;
    expect(usage?.completion_tokens).toBe(6);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(sim.stats().log.at(-1)?.outcome).toBe('ok');
  });

  it('completes a prompt', async () => {
    const c = await backend.complete({ prompt: 'Once upon a time' });
    expect(c.choices[0]?.text).toMatch(/\S/);
    expect(c.usage?.completion_tokens).toBe(6);
  });

  it('embeds, as numbers even when base64 is asked for', async () => {
    const e = await backend.embed({ input: ['a', 'b'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0]?.embedding.length).toBeGreaterThan(0);
    // The worker would answer base64 (the simulator does, like vLLM and llama.cpp): the backend
    // does not pass the wish on, so the fleet's answer holds the same numbers.
    const b = await backend.embed({ input: ['a', 'b'], encoding_format: 'base64' });
    expect(b.data.map((d) => d.embedding)).toEqual(e.data.map((d) => d.embedding));
  });

  it('sends the worker model when the request names none, and the request model otherwise', async () => {
    await backend.chat(hi);
    expect(sim.stats().log.at(-1)?.model).toBe(MODEL);
    if (v.type !== 'llama_cpp') {
      const err = await expectFleetError(backend.chat({ ...hi, model: 'nope' }), 'FLEET_MODEL_NOT_FOUND');
      expect(err.status).toBe(404);
      expect(err.retryable).toBe(false);
      expect(err.worker).toBe('w1');
    } else {
      // A single-model llama-server answers with its own model whatever the name (captures/chat-unknown-model.txt).
      expect((await backend.chat({ ...hi, model: 'nope' })).model).toBe(MODEL);
    }
  });

  it('maps an HTTP 500 to FLEET_UPSTREAM_SERVER with the server message', async () => {
    sim.setFaults({ errorRate: 1, errorStatus: 500 });
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_SERVER');
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^w1: HTTP 500: /);
    expect(err.message).toContain('simulated server error');
    await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_SERVER');
  });

  it('maps an HTTP 503 to FLEET_UPSTREAM_BUSY', async () => {
    sim.setFaults({ errorRate: 1, errorStatus: 503 });
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_BUSY');
    expect(err.retryable).toBe(true);
  });

  it('maps a context overflow to FLEET_CONTEXT_OVERFLOW', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(60);
    if (v.type === 'ollama' && v.api !== 'native') {
      // Ollama truncates chat silently; embeddings with truncate:false refuse instead.
      await expectFleetError(backend.embed({ input: long, truncate: false }), 'FLEET_CONTEXT_OVERFLOW');
      return;
    }
    const req: ChatRequest = { messages: [{ role: 'user', content: long }], max_tokens: 10 };
    if (v.type === 'ollama') req['truncate'] = false;
    const err = await expectFleetError(backend.chat(req), 'FLEET_CONTEXT_OVERFLOW');
    expect(err.retryable).toBe(false);
    await expectFleetError(collect(backend.chatStream(req)), 'FLEET_CONTEXT_OVERFLOW');
  });

  it('maps a malformed body or stream line to FLEET_UPSTREAM_MALFORMED', async () => {
    sim.setFaults({ malformedRate: 1 });
    await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_MALFORMED');
    await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_MALFORMED');
  });

  it('maps a connection dropped mid-stream to FLEET_UPSTREAM_STREAM_ENDED', async () => {
    const b = make(mid.url);
    mid.setFaults({ dropRate: 1 });
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of b.chatStream(hi)) seen.push(c);
      })(),
      'FLEET_UPSTREAM_STREAM_ENDED',
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('connection lost mid-response');
    expect(text(seen)).toMatch(/\S/);
    // Without streaming the simulator cuts the body in the same tick it starts it, so whether any
    // byte left the machine is up to the kernel: either way the failure is a retryable transport one.
    const e2 = await fleetErrorOf(b.chat(hi));
    expect(['FLEET_UPSTREAM_STREAM_ENDED', 'FLEET_UPSTREAM_CONNECT']).toContain(e2.code);
    expect(e2.retryable).toBe(true);
  });

  it('turns an error sent inside the stream into a FleetError after the chunks before it', async () => {
    sim.setFaults({ midStreamErrorRate: 1 });
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of backend.chatStream(hi)) seen.push(c);
      })(),
      'FLEET_UPSTREAM_SERVER',
    );
    expect(err.message).toContain('simulated failure during generation');
    expect(seen.length).toBeGreaterThan(0);
  });

  it('times out a worker that never answers (first token), and the worker sees the client go', async () => {
    const b = make(sim.url, {
      timeouts: { connectMs: 2000, firstTokenMs: 300, stallMs: 5000, totalMs: 10_000 },
    });
    sim.setFaults({ hangRate: 1 });
    for (const call of [() => b.chat(hi), () => collect(b.chatStream(hi))]) {
      const err = await expectFleetError(call(), 'FLEET_UPSTREAM_TIMEOUT');
      expect(err.phase).toBe('first_token');
      expect(err.message).toContain('no first token after 300 ms');
    }
    await waitFor(() => sim.stats().inFlight === 0);
    expect(
      sim
        .stats()
        .log.slice(-2)
        .map((l) => l.outcome),
    ).toEqual(['hang', 'hang']);
  });

  it('aborts through the signal: FLEET_ABORTED with the reason as cause, upstream request destroyed', async () => {
    const b = make(slow.url);
    const ac = new AbortController();
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of b.chatStream(hi, { signal: ac.signal })) {
          seen.push(c);
          if (text(seen).length > 0) ac.abort(new Error('user left'));
        }
      })(),
      'FLEET_ABORTED',
    );
    expect((err.cause as Error).message).toBe('user left');
    await waitFor(() => slow.stats().log.length > 0 && slow.stats().inFlight === 0);
    expect(slow.stats().log.at(-1)?.outcome).toBe('aborted');
    // An already-aborted signal never reaches the server.
    const before = slow.stats().requests;
    await expectFleetError(b.chat(hi, { signal: AbortSignal.abort() }), 'FLEET_ABORTED');
    expect(slow.stats().requests).toBe(before);
  });

  it('aborts a non-streamed chat in flight', async () => {
    const b = make(slow.url);
    const ac = new AbortController();
    const p = b.chat(hi, { signal: ac.signal });
    await waitFor(() => slow.stats().running > 0);
    ac.abort();
    await expectFleetError(p, 'FLEET_ABORTED');
    await waitFor(() => slow.stats().inFlight === 0);
    expect(slow.stats().log.at(-1)?.outcome).toBe('aborted');
  });

  it('breaking out of the stream loop destroys the upstream request', async () => {
    const b = make(slow.url);
    let n = 0;
    for await (const c of b.chatStream(hi)) {
      if (c.choices[0]?.delta.content) n++;
      if (n === 2) break;
    }
    await waitFor(() => slow.stats().inFlight === 0);
    expect(slow.stats().log.at(-1)?.outcome).toBe('aborted');
  });

  it('describes its model as far as the server can say', async () => {
    const d = await backend.describe(MODEL);
    if (v.type === 'ollama') {
      // Its own /api/show, in either API mode; verbose-only values (arrays, nulls) are dropped.
      expect(d).toMatchObject({
        capabilities: ['completion', 'tools', 'thinking'],
        family: 'llama',
        parameterSize: '7B',
        quantization: 'Q4_K_M',
        format: 'gguf',
        contextLength: 256,
        template: '{{ .Prompt }}',
      });
      expect(d?.modelInfo).toEqual({
        'general.architecture': 'llama',
        'general.parameter_count': 7_000_000_000,
        'llama.context_length': 256,
      });
      await expectFleetError(backend.describe('missing'), 'FLEET_MODEL_NOT_FOUND');
    } else if (v.type === 'lm_studio') {
      // /api/v1/models: type llm, trained_for_tool_use true, vision false.
      expect(d).toEqual({
        capabilities: ['completion', 'tools'],
        family: 'llama',
        parameterSize: '7B',
        quantization: 'Q4_K_M',
        format: 'gguf',
        contextLength: 256,
      });
      expect(await backend.describe('missing')).toBeUndefined();
    } else expect(d).toBeUndefined();
  });

  it('probes a ready worker', async () => {
    const p = await backend.probe();
    expect(p.state, p.reason).toBe('ready');
    expect(p.models).toContain(MODEL);
    expect(p.latencyMs).toBeGreaterThanOrEqual(0);
    expect(p.reason).toBeUndefined();
  });

  it('reports connection refused on a dead worker and recovers when it comes back', async () => {
    const w = await startSimWorker({ type: v.type, models: [MODEL], decodeTps: Infinity, outputTokens: 3 });
    try {
      const b = make(w.url);
      expect((await b.probe()).state).toBe('ready');
      await w.crash();
      // Let the pooled keep-alive sockets see the close (else the first probe reports "connection closed").
      await sleep(50);
      const down = await b.probe();
      expect(down).toMatchObject({
        state: 'down',
        reason: 'connection refused',
        code: 'FLEET_UPSTREAM_CONNECT',
      });
      const err = await expectFleetError(b.chat(hi), 'FLEET_UPSTREAM_CONNECT');
      expect(err.message).toBe('w1: connection refused');
      await w.restart();
      expect((await b.probe()).state).toBe('ready');
      expect((await b.chat(hi)).choices[0]?.message.content).toMatch(/\S/);
    } finally {
      await w.close();
    }
  });

  it('connect refused on a closed port', async () => {
    const b = make(`http://127.0.0.1:${await closedPort()}`);
    const err = await expectFleetError(b.chat(hi), 'FLEET_UPSTREAM_CONNECT');
    expect(err.retryable).toBe(true);
    expect(err.worker).toBe('w1');
    await expectFleetError(collect(b.chatStream(hi)), 'FLEET_UPSTREAM_CONNECT');
    expect((await b.probe()).reason).toBe('connection refused');
  });

  it('sends the API key, and maps a wrong one to FLEET_UPSTREAM_AUTH', async () => {
    const w = await startSimWorker({
      type: v.type,
      models: [MODEL],
      decodeTps: Infinity,
      outputTokens: 3,
      apiKey: 'sekret-123',
    });
    try {
      const good = make(w.url, { apiKey: 'sekret-123' });
      expect((await good.chat(hi)).choices[0]?.message.content).toMatch(/\S/);
      expect((await good.probe()).state).toBe('ready');
      const bad = make(w.url, { apiKey: 'wrong-key-456' });
      const err = await expectFleetError(bad.chat(hi), 'FLEET_UPSTREAM_AUTH');
      expect(err.status).toBe(401);
      expect(err.message).toContain('check api_key');
      expect(err.message).not.toContain('wrong-key-456');
      // MLX guards neither /health nor /v1/models, so only a request can tell a wrong key there.
      const expected =
        v.type === 'mlx' ? { state: 'ready' } : { state: 'down', reason: '401 unauthorized: check api_key' };
      expect(await bad.probe()).toMatchObject(expected);
    } finally {
      await w.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}
