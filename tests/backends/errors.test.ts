import { describe, expect, it } from 'vitest';
import {
  mapHttpError,
  mapStreamError,
  mapTransportError,
  parseErrorBody,
} from '../../src/backends/errors.ts';
import type { FleetErrorCode } from '../../src/core/errors.ts';

const W = 'gpu-1';
const openai = (message: string, type = 'invalid_request_error', code: unknown = null, extra = {}) =>
  JSON.stringify({ error: { message, type, param: null, code, ...extra } });
const bare = (message: string) => JSON.stringify({ error: message });
const flat = (message: string, type: string, code: number) =>
  JSON.stringify({ object: 'error', message, type, code });

describe('parseErrorBody', () => {
  it('reads the three error shapes, FastAPI detail, and plain text', () => {
    expect(parseErrorBody(openai('bad', 'invalid_request_error', 'x'))).toMatchObject({
      message: 'bad',
      type: 'invalid_request_error',
      code: 'x',
      structured: true,
    });
    expect(parseErrorBody(bare('boom'))).toMatchObject({ message: 'boom', structured: true });
    expect(parseErrorBody(flat('gone', 'NotFoundError', 404))).toMatchObject({
      message: 'gone',
      type: 'NotFoundError',
      code: 404,
    });
    expect(
      parseErrorBody(JSON.stringify({ detail: [{ msg: 'field required' }, { msg: 'too long' }] })).message,
    ).toBe('field required; too long');
    expect(parseErrorBody('<html>\n<h1>502 Bad Gateway</h1></html>')).toMatchObject({
      message: '<html> <h1>502 Bad Gateway</h1></html>',
      structured: false,
    });
    expect(parseErrorBody('x'.repeat(2000)).message.length).toBeLessThan(600);
  });
});

describe('mapHttpError', () => {
  const table: Array<[string, number, string, FleetErrorCode, boolean]> = [
    // [what, status, body, code, retryable]
    [
      'llama.cpp context overflow',
      400,
      openai(
        'request (1601 tokens) exceeds the available context size (512 tokens), try increasing it',
        'exceed_context_size_error',
        400,
        { n_prompt_tokens: 1601, n_ctx: 512 },
      ),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'vLLM context overflow (current shape)',
      400,
      openai(
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).",
        'BadRequestError',
        400,
      ),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'vLLM context overflow (flat shape)',
      400,
      flat(
        "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens.",
        'BadRequestError',
        400,
      ),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'OpenAI context_length_exceeded',
      400,
      openai('too long', 'invalid_request_error', 'context_length_exceeded'),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'Ollama truncate:false (400)',
      400,
      bare('the input length exceeds the context length'),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'Ollama truncate:false (500)',
      500,
      bare('the input length exceeds the context length'),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'LM Studio context overflow',
      400,
      openai(
        'Trying to keep the first 9000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough.',
      ),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'MLX context overflow',
      400,
      bare('Prompt (9000 tokens) plus max_tokens (100) exceeds the context length (4096)'),
      'FLEET_CONTEXT_OVERFLOW',
      false,
    ],
    [
      'LM Studio no model loaded',
      404,
      openai(
        'No models loaded. Please load a model in the developer page or use the `lms load` command.',
        'invalid_request_error',
        null,
        { param: 'model' },
      ),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'LM Studio no model loaded as 400',
      400,
      openai('No models loaded. Please load a model.'),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'vLLM unknown model (flat)',
      404,
      flat('The model `llama-3` does not exist.', 'NotFoundError', 404),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'vLLM unknown model (current)',
      404,
      openai('The model `llama-3` does not exist.', 'NotFoundError', 404),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'Ollama native unknown model',
      404,
      bare('model "llama9" not found, try pulling it first'),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'Ollama /v1 unknown model',
      404,
      openai('model "llama9" not found, try pulling it first', 'not_found_error'),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'MLX failed load',
      404,
      bare('Repository Not Found for url: https://huggingface.co/api/models/x/y'),
      'FLEET_MODEL_NOT_FOUND',
      false,
    ],
    [
      'llama.cpp wrong path',
      404,
      JSON.stringify({ error: { message: 'File Not Found', type: 'not_found_error', code: 404 } }),
      'FLEET_BAD_REQUEST',
      false,
    ],
    ['plain-text 404', 404, 'Not Found', 'FLEET_BAD_REQUEST', false],
    [
      'Ollama queue full',
      503,
      bare('server busy, please try again.  maximum pending requests exceeded'),
      'FLEET_UPSTREAM_BUSY',
      true,
    ],
    [
      'llama.cpp loading',
      503,
      JSON.stringify({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }),
      'FLEET_UPSTREAM_BUSY',
      true,
    ],
    ['rate limited', 429, openai('Rate limit reached', 'rate_limit_error'), 'FLEET_UPSTREAM_BUSY', true],
    [
      'internal error',
      500,
      openai('CUDA error: out of memory', 'server_error', 500),
      'FLEET_UPSTREAM_SERVER',
      true,
    ],
    ['bad gateway html', 502, '<html>bad gateway</html>', 'FLEET_UPSTREAM_SERVER', true],
    ['empty 500', 500, '', 'FLEET_UPSTREAM_SERVER', true],
    ['Ollama 499 request canceled', 499, bare('request canceled'), 'FLEET_UPSTREAM_SERVER', true],
    [
      'llama.cpp invalid JSON 500',
      500,
      openai('[json.exception.parse_error.101] parse error at line 1', 'server_error', 500),
      'FLEET_BAD_REQUEST',
      false,
    ],
    ['validation 400', 400, openai("'messages' is required"), 'FLEET_BAD_REQUEST', false],
    [
      'FastAPI 422',
      422,
      JSON.stringify({ detail: [{ loc: ['body', 'messages'], msg: 'Field required' }] }),
      'FLEET_BAD_REQUEST',
      false,
    ],
    ['MLX missing length', 411, 'Length Required', 'FLEET_BAD_REQUEST', false],
    [
      'llama.cpp wrong key',
      401,
      openai('Invalid API Key', 'authentication_error', 401),
      'FLEET_UPSTREAM_AUTH',
      false,
    ],
    ['vLLM wrong key', 401, bare('Unauthorized'), 'FLEET_UPSTREAM_AUTH', false],
    ['forbidden', 403, openai('nope', 'permission_error', 403), 'FLEET_UPSTREAM_AUTH', false],
    ['401 with no body', 401, '', 'FLEET_UPSTREAM_AUTH', false],
    ['200 garbage', 200, '<html>hello</html>', 'FLEET_UPSTREAM_MALFORMED', true],
    ['200 empty', 200, '', 'FLEET_UPSTREAM_MALFORMED', true],
  ];

  it.each(table)('%s: HTTP %i -> %s', (_what, status, body, code, retryable) => {
    const err = mapHttpError(status, body, {}, W);
    expect(err.code, err.message).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.worker).toBe(W);
    expect(err.status).toBe(status);
    expect(err.message.startsWith(`${W}: `)).toBe(true);
  });

  it("keeps the server's message after the worker id and status", () => {
    const err = mapHttpError(500, openai('CUDA error: out of memory', 'server_error'), {}, W);
    expect(err.message).toBe('gpu-1: HTTP 500: CUDA error: out of memory');
    expect(mapHttpError(401, '', {}, W).message).toBe('gpu-1: HTTP 401: unauthorized (check api_key)');
  });

  it('reads the token counts of a context overflow (llama.cpp fields, vLLM wording)', () => {
    const llama = mapHttpError(
      400,
      openai('exceeds the available context size', 'exceed_context_size_error', 400, {
        n_prompt_tokens: 1601,
        n_ctx: 512,
      }),
      {},
      W,
    );
    expect(llama.details).toMatchObject({ n_prompt_tokens: 1601, n_ctx: 512 });
    const vllm = mapHttpError(
      400,
      flat(
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
        'BadRequestError',
        400,
      ),
      {},
      W,
    );
    expect(vllm.details).toMatchObject({ n_ctx: 4096, n_prompt_tokens: 5000 });
  });

  it('takes retryAfterMs from retry-after-ms, Retry-After seconds or an HTTP date', () => {
    expect(mapHttpError(503, bare('server busy'), { 'retry-after': '3' }, W).retryAfterMs).toBe(3000);
    expect(mapHttpError(429, '', { 'retry-after-ms': '250', 'retry-after': '9' }, W).retryAfterMs).toBe(250);
    const now = Date.UTC(2030, 0, 1, 0, 0, 0);
    const date = new Date(now + 5000).toUTCString();
    expect(mapHttpError(503, '', { 'retry-after': date }, W, now).retryAfterMs).toBe(5000);
    expect(mapHttpError(503, '', new Headers({ 'Retry-After': '2' }), W).retryAfterMs).toBe(2000);
    expect(mapHttpError(503, '', {}, W).retryAfterMs).toBeUndefined();
    // Only busy answers carry a delay.
    expect(mapHttpError(500, '', { 'retry-after': '3' }, W).retryAfterMs).toBeUndefined();
  });
});

describe('mapStreamError', () => {
  it('maps an error event by its inner code or wording', () => {
    expect(mapStreamError('{"code":500,"message":"slot died","type":"server_error"}', W).code).toBe(
      'FLEET_UPSTREAM_SERVER',
    );
    expect(
      mapStreamError(
        '{"error":{"code":400,"message":"request (900 tokens) exceeds the available context size (512 tokens)","type":"exceed_context_size_error"}}',
        W,
      ).code,
    ).toBe('FLEET_CONTEXT_OVERFLOW');
    expect(mapStreamError({ error: 'model "x" not found, try pulling it first' }, W).code).toBe(
      'FLEET_MODEL_NOT_FOUND',
    );
    const e = mapStreamError(
      { error: 'an error was encountered while running the model: unexpected EOF' },
      W,
    );
    expect(e.code).toBe('FLEET_UPSTREAM_SERVER');
    expect(e.message).toBe(
      'gpu-1: error in stream: an error was encountered while running the model: unexpected EOF',
    );
    expect(
      mapStreamError({ object: 'error', message: 'engine died', type: 'InternalServerError', code: 500 }, W)
        .code,
    ).toBe('FLEET_UPSTREAM_SERVER');
    expect(mapStreamError('not json at all', W).message).toContain('not json at all');
  });
});

describe('mapTransportError', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['ECONNREFUSED', 'request', 'FLEET_UPSTREAM_CONNECT', 'connection refused'],
    ['ECONNRESET', 'request', 'FLEET_UPSTREAM_CONNECT', 'connection reset by the server'],
    ['ENOTFOUND', 'request', 'FLEET_UPSTREAM_CONNECT', 'host not found (DNS)'],
    ['UND_ERR_SOCKET', 'request', 'FLEET_UPSTREAM_CONNECT', 'connection closed by the server'],
    ['UND_ERR_SOCKET', 'body', 'FLEET_UPSTREAM_STREAM_ENDED', 'connection lost mid-response'],
    ['UND_ERR_CONNECT_TIMEOUT', 'request', 'FLEET_UPSTREAM_TIMEOUT', 'connect timed out'],
    ['UND_ERR_HEADERS_TIMEOUT', 'request', 'FLEET_UPSTREAM_TIMEOUT', 'timed out waiting for the response'],
    ['UND_ERR_BODY_TIMEOUT', 'body', 'FLEET_UPSTREAM_TIMEOUT', 'timed out waiting for the body'],
  ] as const)('%s during the %s -> %s', (code, stage, expected, words) => {
    const e = mapTransportError(err(code), W, stage);
    expect(e.code).toBe(expected);
    expect(e.message).toContain(words);
    expect(e.worker).toBe(W);
  });

  it('gives the timeout phase and finds codes in causes and AggregateErrors', () => {
    expect(mapTransportError(err('UND_ERR_CONNECT_TIMEOUT'), W, 'request').phase).toBe('connect');
    expect(mapTransportError(err('UND_ERR_HEADERS_TIMEOUT'), W, 'request').phase).toBe('first_token');
    expect(mapTransportError(err('UND_ERR_BODY_TIMEOUT'), W, 'body').phase).toBe('stall');
    const wrapped = new TypeError('fetch failed', { cause: new AggregateError([err('ECONNREFUSED')]) });
    expect(mapTransportError(wrapped, W, 'request').message).toBe('gpu-1: connection refused');
  });
});
