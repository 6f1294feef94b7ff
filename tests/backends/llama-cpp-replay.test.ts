/**
 * The llama_cpp adapter against real llama-server responses, replayed byte for byte
 * (tests/fixtures/llama-server, recorded from llama.cpp serving stories260K with 4 slots).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import type { Backend } from '../../src/backends/types.ts';
import { loadCaptures, startReplay, type ReplayServer } from '../fixtures/replay.ts';
import { collect, expectFleetError, workerAt } from './helpers.ts';

const captures = loadCaptures(fileURLToPath(new URL('../fixtures/llama-server/', import.meta.url)));
const CHAT = '/v1/chat/completions';

let replay: ReplayServer;
let backend: Backend;

beforeAll(async () => {
  replay = await startReplay(captures);
  backend = createBackend(workerAt(replay.url, { type: 'llama_cpp', model: 'stories260K' }));
});
afterAll(async () => {
  await backend.close();
  await replay.close();
});
afterEach(() => {
  replay.setOptions({ splitBytes: 0 });
  replay.route('GET', '/slots', 'slots');
  replay.route('GET', '/metrics', 'metrics');
  replay.route('GET', '/health', 'health');
  replay.requests.length = 0;
});

const lastBody = () => JSON.parse(replay.requests.at(-1)!.body) as Record<string, unknown>;

describe('captures', () => {
  it('parses every recorded file', () => {
    expect(captures.size).toBeGreaterThanOrEqual(29);
    for (const c of captures.values()) {
      expect(c.status, c.name).toBeGreaterThanOrEqual(200);
      if (!c.chunked) {
        const len = c.headers.find(([k]) => k === 'Content-Length')?.[1];
        expect(c.body.length, c.name).toBe(Number(len));
      }
    }
  });
});

describe('llama_cpp adapter on recorded responses', () => {
  it('lists the model from data[] (the response also carries an Ollama-style models[])', async () => {
    const models = await backend.listModels();
    expect(models).toEqual([
      { id: 'stories260K', object: 'model', created: 1795825490, owned_by: 'llamacpp', context_length: 512 },
    ]);
  });

  it('probes an idle server: ready, 4 slots, none busy, n_ctx 512, build info', async () => {
    const p = await backend.probe();
    expect(p).toMatchObject({
      state: 'ready',
      models: ['stories260K'],
      loadedModels: ['stories260K'],
      capacity: { slots: 4, busy: 0, waiting: 0 },
      contextLength: 512,
      version: 'b0-unknown',
    });
    expect(p.latencyMs).toBeGreaterThanOrEqual(0);
    const paths = replay.requests.map((r) => r.path).sort();
    // /metrics only because /props says endpoint_metrics: true.
    expect(paths).toEqual(['/health', '/metrics', '/props', '/slots', '/v1/models']);
  });

  it('probes a busy server: busy from /slots is_processing, waiting from llamacpp:requests_deferred', async () => {
    replay.route('GET', '/slots', 'busy-slots');
    replay.route('GET', '/metrics', 'busy-metrics');
    replay.route('GET', '/health', 'busy-health');
    const p = await backend.probe();
    expect(p.state).toBe('ready');
    expect(p.capacity).toEqual({ slots: 4, busy: 4, waiting: 4 });
  });

  it('falls back to llamacpp:requests_processing when /slots answers 503 (no slot available)', async () => {
    replay.route('GET', '/slots', 'busy-slots-fail');
    replay.route('GET', '/metrics', 'busy-metrics');
    const p = await backend.probe();
    expect(p.state).toBe('ready');
    expect(p.capacity).toEqual({ slots: 4, busy: 4, waiting: 4 });
  });

  it('counts the idle slots of /slots?fail_on_no_slot=1 answered 200', async () => {
    replay.route('GET', '/slots', 'idle-slots-fail');
    const p = await backend.probe();
    expect(p.capacity?.busy).toBe(0);
  });

  it('accepts the early /health answer recorded without a request line', async () => {
    replay.route('GET', '/health', 'health-early-1');
    expect((await backend.probe()).state).toBe('ready');
  });

  it('reads a non-streamed chat with usage, cached tokens and timings', async () => {
    replay.route('POST', CHAT, 'chat-nonstream');
    const c = await backend.chat({
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 32,
    });
    expect(c.choices[0]?.message.content).toBe('"Here," replake a little girl. "It\'s a spector,"');
    expect(c.choices[0]?.finish_reason).toBe('length');
    expect(c.usage).toEqual({
      prompt_tokens: 79,
      completion_tokens: 32,
      total_tokens: 111,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(c.timings?.['prompt_n']).toBe(79);
    expect(c.timings?.['predicted_per_second']).toBeCloseTo(1794.5, 1);
    const sent = lastBody();
    expect(sent['model']).toBe('stories260K');
    expect(sent['stream']).toBe(false);
    expect(sent).not.toHaveProperty('stream_options');
  });

  it('reads n=2 choices and the server answering with its own model name', async () => {
    replay.route('POST', CHAT, 'chat-n2');
    const c = await backend.chat({ messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(c.choices.map((x) => x.message.content)).toEqual(['"Hey', 'y. W']);
    replay.route('POST', CHAT, 'chat-unknown-model');
    const d = await backend.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(d.model).toBe('stories260K');
    expect(lastBody()['model']).toBe('gpt-4o');
  });

  it.each([
    ['chat-nonstream-stop', 'length'],
    ['err-bad-role', 'length'],
    ['err-empty-messages', 'length'],
  ])('reads %s as a normal completion', async (name, finish) => {
    replay.route('POST', CHAT, name);
    const c = await backend.chat({ messages: [{ role: 'user', content: 'x' }] });
    expect(c.choices[0]?.finish_reason).toBe(finish);
    expect(c.choices[0]?.message.content?.length).toBeGreaterThan(10);
  });

  it('reads a legacy completion', async () => {
    replay.route('POST', '/v1/completions', 'completions-legacy');
    const c = await backend.complete({ prompt: 'Once upon a time', max_tokens: 16 });
    expect(c.choices[0]?.text).toBe(', there was a little girl named Lily. She loved to play');
    expect(c.usage?.completion_tokens).toBe(16);
  });

  for (const split of [0, 1, 7, 64]) {
    it(`streams with a usage chunk (content:null first chunk), body split every ${split || 'no'} bytes`, async () => {
      replay.setOptions({ splitBytes: split, gapMs: 0 });
      replay.route('POST', CHAT, 'chat-stream-usage');
      const chunks = await collect(
        backend.chatStream({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 8 }),
      );
      expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: null });
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(text).toBe('"Here?" A');
      expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'length')).toHaveLength(1);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual({
        prompt_tokens: 46,
        completion_tokens: 8,
        total_tokens: 54,
        prompt_tokens_details: { cached_tokens: 45 },
      });
      expect(last.timings?.['cache_n']).toBe(45);
      expect(lastBody()['stream_options']).toEqual({ include_usage: true });
    });
  }

  it('streams without a usage chunk, keeping timings on the finish chunk', async () => {
    replay.setOptions({ splitBytes: 13, gapMs: 0 });
    replay.route('POST', CHAT, 'chat-stream');
    const chunks = await collect(
      backend.chatStream({ messages: [{ role: 'user', content: 'Once upon a time' }] }),
    );
    expect(chunks).toHaveLength(10);
    const fin = chunks.at(-1)!;
    expect(fin.choices[0]?.finish_reason).toBe('length');
    expect(fin.timings?.['predicted_n']).toBe(8);
    expect(fin.usage).toBeUndefined();
  });

  it('maps a context overflow (400 exceed_context_size_error) with its token counts', async () => {
    replay.route('POST', CHAT, 'err-context-overflow');
    const err = await expectFleetError(
      backend.chat({ messages: [{ role: 'user', content: 'long' }] }),
      'FLEET_CONTEXT_OVERFLOW',
    );
    expect(err.status).toBe(400);
    expect(err.worker).toBe('w1');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({
      n_prompt_tokens: 1601,
      n_ctx: 512,
      type: 'exceed_context_size_error',
    });
    expect(err.message).toContain(
      'w1: HTTP 400: request (1601 tokens) exceeds the available context size (512 tokens)',
    );
  });

  it('maps a context overflow answered to a streaming request', async () => {
    replay.route('POST', CHAT, 'err-context-overflow-stream');
    const err = await expectFleetError(
      collect(backend.chatStream({ messages: [{ role: 'user', content: 'long' }] })),
      'FLEET_CONTEXT_OVERFLOW',
    );
    expect(err.details?.['n_ctx']).toBe(512);
  });

  it.each(['err-invalid-json', 'err-wrong-ctype'])(
    'maps %s (500 json parse_error) to a non-retryable bad request',
    async (name) => {
      replay.route('POST', CHAT, name);
      const err = await expectFleetError(
        backend.chat({ messages: [{ role: 'user', content: 'x' }] }),
        'FLEET_BAD_REQUEST',
      );
      expect(err.status).toBe(500);
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('json.exception.parse_error.101');
    },
  );

  it.each([
    ['err-messages-not-array', "Expected 'messages' to be an array"],
    ['err-missing-messages', "'messages' is required"],
  ])('maps %s to FLEET_BAD_REQUEST with the server message', async (name, text) => {
    replay.route('POST', CHAT, name);
    const err = await expectFleetError(backend.chat({ messages: [] }), 'FLEET_BAD_REQUEST');
    expect(err.status).toBe(400);
    expect(err.message).toContain(text);
  });

  it.each(['err-404', 'err-wrong-method'])(
    'maps %s (404 File Not Found) to a bad request naming the endpoint, not a model',
    async (name) => {
      replay.route('POST', CHAT, name);
      const err = await expectFleetError(
        backend.chat({ messages: [{ role: 'user', content: 'x' }] }),
        'FLEET_BAD_REQUEST',
      );
      expect(err.status).toBe(404);
      expect(err.message).toContain('File Not Found');
      expect(err.message).toContain('check base_url');
    },
  );
});
