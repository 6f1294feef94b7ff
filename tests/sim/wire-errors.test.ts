import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/core/tokens.ts';
import type { SimType } from '../../src/sim/index.ts';
import { chat, closeAll, http, sim } from './helpers.ts';

/** Each type's exact error bodies (reference/backends.md, captures/llama-server). */
afterEach(closeAll);

const CHAT = '/v1/chat/completions';
const oa = (message: string, type: string, param: string | null, code: string | null) => ({
  error: { message, type, param, code },
});

describe('sim error shapes', () => {
  const notFound: Record<SimType, unknown> = {
    openai: oa(
      'The model `nope` does not exist or you do not have access to it.',
      'invalid_request_error',
      'model',
      'model_not_found',
    ),
    exo: oa(
      'The model `nope` does not exist or you do not have access to it.',
      'invalid_request_error',
      'model',
      'model_not_found',
    ),
    lm_studio: oa(
      'No models loaded. Please load a model in the developer page or use the `lms load` command.',
      'invalid_request_error',
      'model',
      null,
    ),
    ollama: oa('model "nope" not found, try pulling it first', 'not_found_error', null, null),
    llama_cpp: { error: { code: 404, message: "model 'nope' not found", type: 'not_found_error' } },
    vllm: { object: 'error', message: 'The model `nope` does not exist.', type: 'NotFoundError', code: 404 },
    mlx: { error: "Failed to load model 'nope': repository not found" },
  };
  it.each(Object.entries(notFound))('%s: unknown model -> 404', async (type, expected) => {
    // llama.cpp only checks the name in router mode (several models); see the next test.
    const w = await sim({ type: type as SimType, models: ['m1', 'm2'] });
    const r = await http(`${w.url}${CHAT}`, { body: chat('hi', { model: 'nope' }) });
    expect(r.status).toBe(404);
    expect(r.json()).toEqual(expected);
    expect(w.stats().log[0]!.outcome).toBe('rejected');
  });

  it('llama_cpp with one model ignores the requested name, as the real server does', async () => {
    const w = await sim({ type: 'llama_cpp', models: ['stories260K'], decodeTps: Infinity });
    const r = await http(`${w.url}${CHAT}`, { body: chat('hi', { model: 'gpt-4o', max_tokens: 4 }) });
    expect(r.status).toBe(200);
    expect(r.json().model).toBe('stories260K');
  });

  const unauthorized: Record<SimType, unknown> = {
    openai: oa('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
    exo: oa('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
    lm_studio: oa('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
    ollama: oa('unauthorized', 'api_error', null, null),
    llama_cpp: { error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } },
    vllm: { error: 'Unauthorized' },
    mlx: { error: 'Unauthorized' },
  };
  it.each(Object.entries(unauthorized))(
    '%s: missing or wrong key -> 401; the right key passes',
    async (type, expected) => {
      const w = await sim({ type: type as SimType, apiKey: 'sekret', decodeTps: Infinity });
      const none = await http(`${w.url}${CHAT}`, { body: chat('hi') });
      const wrong = await http(`${w.url}${CHAT}`, {
        body: chat('hi'),
        headers: { authorization: 'Bearer nope' },
      });
      const right = await http(`${w.url}${CHAT}`, {
        body: chat('hi'),
        headers: { authorization: 'Bearer sekret' },
      });
      expect([none.status, wrong.status, right.status]).toEqual([401, 401, 200]);
      expect(none.json()).toEqual(expected);
      expect(wrong.json()).toEqual(expected);
      // Model listings are protected too, except llama.cpp's public /v1/models.
      const models = await http(`${w.url}/v1/models`);
      expect(models.status).toBe(type === 'llama_cpp' || type === 'mlx' ? 200 : 401);
    },
  );

  const P = estimateTokens(`user: ${'x'.repeat(400)}\n`); // 102
  const openAiOverflow =
    `This model's maximum context length is 100 tokens. However, you requested ${P + 10} tokens ` +
    `(${P} in the messages, 10 in the completion). Please reduce the length of the messages or completion.`;
  const overflow: Partial<Record<SimType, unknown>> = {
    openai: oa(openAiOverflow, 'invalid_request_error', 'messages', 'context_length_exceeded'),
    exo: oa(openAiOverflow, 'invalid_request_error', 'messages', 'context_length_exceeded'),
    vllm: { object: 'error', message: openAiOverflow, type: 'BadRequestError', code: 400 },
    lm_studio: oa(
      `Trying to keep the first ${P} tokens when context the overflows. However, the model is loaded with context ` +
        'length of only 100 tokens, which is not enough. Try to load the model with a larger context length, or ' +
        'provide a shorter input',
      'invalid_request_error',
      'messages',
      null,
    ),
    llama_cpp: {
      error: {
        code: 400,
        message: `request (${P + 10} tokens) exceeds the available context size (100 tokens), try increasing it`,
        type: 'exceed_context_size_error',
        n_prompt_tokens: P,
        n_ctx: 100,
      },
    },
    mlx: { error: `Prompt (${P} tokens) plus max_tokens (10) exceeds the context length (100)` },
  };
  it.each(Object.entries(overflow))(
    '%s: prompt + max_tokens over the context -> 400',
    async (type, expected) => {
      const w = await sim({ type: type as SimType, contextLength: 100 });
      const r = await http(`${w.url}${CHAT}`, { body: chat('x'.repeat(400), { max_tokens: 10 }) });
      expect(r.status).toBe(400);
      expect(r.json()).toEqual(expected);
    },
  );

  it('ollama truncates silently instead (unless truncate: false, see the Ollama tests)', async () => {
    const w = await sim({ type: 'ollama', contextLength: 100, decodeTps: Infinity });
    const r = await http(`${w.url}${CHAT}`, { body: chat('x'.repeat(400), { max_tokens: 10 }) });
    expect(r.status).toBe(200);
    expect(r.json().usage).toMatchObject({ prompt_tokens: 90, completion_tokens: 10 });
  });

  const busy: Record<SimType, unknown> = {
    openai: oa('The server is overloaded, please try again later.', 'server_error', null, null),
    exo: oa('The server is overloaded, please try again later.', 'server_error', null, null),
    lm_studio: oa('The server is overloaded, please try again later.', 'server_error', null, null),
    ollama: oa('server busy, please try again.  maximum pending requests exceeded', 'api_error', null, null),
    llama_cpp: {
      error: {
        code: 503,
        message: 'server busy: all slots and the queue are full',
        type: 'unavailable_error',
      },
    },
    vllm: {
      object: 'error',
      message: 'The server is overloaded, please try again later.',
      type: 'ServiceUnavailableError',
      code: 503,
    },
    mlx: { error: 'The server is overloaded, please try again later.' },
  };
  it.each(Object.entries(busy))('%s: slots and queue full -> 503', async (type, expected) => {
    const w = await sim({ type: type as SimType, slots: 1, maxQueue: 0, decodeTps: 50, timeScale: 0.05 });
    const [a, b] = await Promise.all([
      http(`${w.url}${CHAT}`, { body: chat('a', { max_tokens: 20 }) }),
      http(`${w.url}${CHAT}`, { body: chat('b', { max_tokens: 20 }) }),
    ]);
    const rejected = a.status === 503 ? a : b;
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    expect(rejected.json()).toEqual(expected);
  });

  const noRoute: Record<SimType, { status: number; body: unknown }> = {
    openai: { status: 404, body: oa('Invalid URL (GET /nope)', 'invalid_request_error', null, null) },
    exo: { status: 404, body: oa('Invalid URL (GET /nope)', 'invalid_request_error', null, null) },
    lm_studio: { status: 200, body: 'Unexpected endpoint or method. (GET /nope). Returning 200 anyway' },
    ollama: { status: 404, body: '404 page not found' },
    llama_cpp: {
      status: 404,
      body: { error: { message: 'File Not Found', type: 'not_found_error', code: 404 } },
    },
    vllm: { status: 404, body: { detail: 'Not Found' } },
    mlx: { status: 404, body: 'Not Found' },
  };
  it.each(Object.entries(noRoute))('%s: unknown path', async (type, expected) => {
    const w = await sim({ type: type as SimType });
    const r = await http(`${w.url}/nope`);
    expect(r.status).toBe(expected.status);
    expect(typeof expected.body === 'string' ? r.text : r.json()).toEqual(expected.body);
  });

  it.each(['openai', 'lm_studio', 'ollama', 'llama_cpp', 'vllm', 'mlx', 'exo'] as SimType[])(
    '%s: invalid JSON body',
    async (type) => {
      const w = await sim({ type });
      const r = await http(`${w.url}${CHAT}`, { body: '{"messages": [ {"role":"user", "content": "hi"} ' });
      // llama.cpp answers 500 server_error (captures/err-invalid-json.txt); the others 400.
      expect(r.status).toBe(type === 'llama_cpp' ? 500 : 400);
      if (type === 'llama_cpp') expect(r.json().error.type).toBe('server_error');
      expect(JSON.stringify(r.json())).toMatch(/JSON|json/);
    },
  );

  it("rejects messages that are not an array with the type's 400", async () => {
    const w = await sim({ type: 'llama_cpp' });
    const r = await http(`${w.url}${CHAT}`, { body: { messages: 'hello' } });
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({
      error: { code: 400, message: "Expected 'messages' to be an array", type: 'invalid_request_error' },
    });
  });

  const loading: Record<SimType, { status: number; body: unknown }> = {
    openai: {
      status: 503,
      body: oa('Model is loading, please try again later.', 'server_error', null, null),
    },
    exo: { status: 503, body: oa('Model is loading, please try again later.', 'server_error', null, null) },
    lm_studio: { status: 404, body: notFound.lm_studio },
    ollama: { status: 503, body: oa('Model is loading, please try again later.', 'api_error', null, null) },
    llama_cpp: {
      status: 503,
      body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } },
    },
    vllm: {
      status: 503,
      body: {
        object: 'error',
        message: 'Model is loading, please try again later.',
        type: 'ServiceUnavailableError',
        code: 503,
      },
    },
    mlx: { status: 503, body: { error: 'Model is loading, please try again later.' } },
  };
  it.each(Object.entries(loading))(
    '%s: cold start refuses inference until the model is loaded',
    async (type, expected) => {
      const w = await sim({ type: type as SimType, coldStartMs: 300, decodeTps: Infinity });
      const early = await http(`${w.url}${CHAT}`, { body: chat('hi') });
      expect(early.status).toBe(expected.status);
      expect(early.json()).toEqual(expected.body);
      await new Promise((r) => setTimeout(r, 350));
      const late = await http(`${w.url}${CHAT}`, { body: chat('hi') });
      expect(late.status).toBe(200);
    },
  );
});
