/**
 * Stream and response edge cases through the OpenAI-compatible adapter, against scripted servers:
 * comments, pings, error events, reads split anywhere, early ends, bad JSON, timeouts, keep-alive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { WorkerConfig } from '../../src/config/types.ts';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import type { ChatChunk, ChatRequest } from '../../src/core/openai.ts';
import {
  chunk,
  collect,
  expectFleetError,
  finishChunk,
  json,
  sleep,
  sseHead,
  startServer,
  workerAt,
  writeSlowly,
  type Handler,
  type TestServer,
} from './helpers.ts';

const hi: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
const text = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

let servers: TestServer[] = [];
let backends: Backend[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  backends = [];
});

async function setup(handler: Handler, over: Partial<WorkerConfig> = {}, clock?: Clock) {
  const server = await startServer(handler);
  servers.push(server);
  const backend = createBackend(workerAt(server.url, over), clock ? { clock } : {});
  backends.push(backend);
  return { server, backend };
}

const timeouts = (t: Partial<WorkerConfig['timeouts']>): Partial<WorkerConfig> => ({
  timeouts: { connectMs: 2000, firstTokenMs: 5000, stallMs: 5000, totalMs: 10_000, ...t },
});

describe('SSE parsing through the adapter', () => {
  it('skips comments, pings and other named events; accepts CRLF and `data:` without a space', async () => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(
        ': ping\n\n' +
          'event: ping\ndata: {"type":"ping"}\n\n' +
          `data:${chunk('Hel')}\r\n\r\n` +
          ': keepalive 10/20\n\n' +
          `data: ${chunk('lo')}\r\n\r\n` +
          `data: ${finishChunk()}\n\n` +
          'data: [DONE]\n\n',
      );
    });
    const chunks = await collect(backend.chatStream(hi));
    expect(text(chunks)).toBe('Hello');
    expect(chunks).toHaveLength(3);
  });

  it('joins a JSON object split over several data lines of one event', async () => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      const [a, b] = [chunk('x').slice(0, 20), chunk('x').slice(20)];
      res.end(`data: ${a}\ndata: ${b}\n\ndata: ${finishChunk()}\n\ndata: [DONE]\n\n`);
    });
    expect(text(await collect(backend.chatStream(hi)))).toBe('x');
  });

  it('reads a stream split at every byte, multi-byte characters included', async () => {
    const body = `data: ${chunk('héllo 🌍 ')}\n\ndata: ${chunk('wörld')}\n\ndata: ${finishChunk()}\n\ndata: [DONE]\n\n`;
    const { backend } = await setup(async (_req, res) => {
      sseHead(res);
      const bytes = Buffer.from(body);
      await writeSlowly(
        res,
        [...bytes].map((b) => Buffer.from([b])),
        0,
      );
      res.end();
    });
    expect(text(await collect(backend.chatStream(hi)))).toBe('héllo 🌍 wörld');
  });

  it("turns llama.cpp's `error:` line into a FleetError after the chunks before it", async () => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(
        `data: ${chunk('a')}\n\nerror: {"code":500,"message":"slot crashed","type":"server_error"}\n\n`,
      );
    });
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of backend.chatStream(hi)) seen.push(c);
      })(),
      'FLEET_UPSTREAM_SERVER',
    );
    expect(err.message).toBe('w1: error in stream: slot crashed');
    expect(text(seen)).toBe('a');
  });

  it.each([
    [
      'event: error',
      'event: error\ndata: {"error":{"message":"exceeds the available context size","type":"exceed_context_size_error","code":400}}\n\n',
      'FLEET_CONTEXT_OVERFLOW',
    ],
    [
      'data: {"error":..}',
      'data: {"error":{"message":"model crashed","type":"server_error"}}\n\n',
      'FLEET_UPSTREAM_SERVER',
    ],
    [
      'vLLM flat error then [DONE]',
      'data: {"object":"error","message":"engine dead","type":"InternalServerError","code":500}\n\ndata: [DONE]\n\n',
      'FLEET_UPSTREAM_SERVER',
    ],
  ] as const)('maps an in-stream error sent as %s', async (_name, payload, code) => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(`data: ${chunk('a')}\n\n${payload}`);
    });
    await expectFleetError(collect(backend.chatStream(hi)), code);
  });

  it('normalises reasoning_content, reasoning and thinking into delta.reasoning', async () => {
    const delta = (d: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: 'c', created: 1, model: 'm', choices: [{ index: 0, delta: d, finish_reason: null }] })}\n\n`;
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(
        delta({ role: 'assistant', reasoning_content: 'a' }) +
          delta({ reasoning: 'b' }) +
          delta({ thinking: 'c' }) +
          delta({ reasoning: 'd', reasoning_content: 'd' }) +
          delta({ content: 'answer' }) +
          `data: ${finishChunk()}\n\ndata: [DONE]\n\n`,
      );
    });
    const chunks = await collect(backend.chatStream(hi));
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning ?? '').join('')).toBe('abcd');
    expect(text(chunks)).toBe('answer');
    expect(JSON.stringify(chunks)).not.toContain('reasoning_content');
  });

  it('keeps usage and timings that arrive on the last content chunk', async () => {
    const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(
        `data: ${chunk('a')}\n\ndata: ${finishChunk('stop', { usage, timings: { predicted_n: 2 } })}\n\ndata: [DONE]\n\n`,
      );
    });
    const last = (await collect(backend.chatStream(hi))).at(-1)!;
    expect(last.usage).toEqual(usage);
    expect(last.timings).toEqual({ predicted_n: 2 });
    expect(last.choices[0]?.finish_reason).toBe('stop');
  });

  it('fails a stream that ends with neither [DONE] nor a finish_reason', async () => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(`data: ${chunk('a')}\n\n`);
    });
    const err = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_STREAM_ENDED');
    expect(err.message).toContain('stream ended before completion');
  });

  it('accepts a stream that saw its finish_reason but lost the final [DONE]', async () => {
    const { backend } = await setup(async (_req, res) => {
      sseHead(res);
      await writeSlowly(res, [`data: ${chunk('a')}\n\n`, `data: ${finishChunk()}\n\n`]);
      res.destroy();
    });
    const chunks = await collect(backend.chatStream(hi));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('fails a stream whose connection drops mid-way', async () => {
    const { backend } = await setup(async (_req, res) => {
      sseHead(res);
      await writeSlowly(res, [`data: ${chunk('a')}\n\n`]);
      res.destroy();
    });
    const err = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_STREAM_ENDED');
    expect(err.message).toContain('connection lost mid-response');
    expect(err.status).toBe(200);
  });

  it('maps a data line that is not JSON to FLEET_UPSTREAM_MALFORMED, quoting it', async () => {
    const { backend } = await setup((_req, res) => {
      sseHead(res);
      res.end(`data: ${chunk('a')}\n\ndata: {"choices":[{"delta":\n\n`);
    });
    const err = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_MALFORMED');
    expect(err.message).toContain('stream data is not JSON');
    expect(err.message).toContain('{\\"choices\\":[{\\"delta\\":');
  });

  it('replays a JSON answer as chunks when the server ignored stream: true', async () => {
    const { backend } = await setup((_req, res) => {
      json(res, 200, {
        id: 'x',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    });
    const chunks = await collect(backend.chatStream(hi));
    expect(text(chunks)).toBe('whole');
    expect(chunks[0]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(2);
  });
});

describe('non-streamed bodies', () => {
  it.each([
    ['not JSON', '<html>oops</html>'],
    ['JSON without choices', '{"id":"x","object":"chat.completion"}'],
    ['choices that is not a list', '{"choices":{}}'],
    ['empty', ''],
  ])('maps a 200 body that is %s to FLEET_UPSTREAM_MALFORMED', async (_what, body) => {
    const { backend } = await setup((_req, res) => json(res, 200, body));
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_MALFORMED');
    expect(err.status).toBe(200);
    expect(err.worker).toBe('w1');
  });

  it('reads a body that comes in pieces after its headers; a pause longer than stallMs is a stall', async () => {
    const body = JSON.stringify({
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'in pieces' }, finish_reason: 'stop' }],
    });
    const thirds = [body.slice(0, 20), body.slice(20, 60), body.slice(60)];
    let gapMs = 30;
    const { backend } = await setup(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.flushHeaders();
        await sleep(gapMs);
        await writeSlowly(res, thirds, gapMs);
        res.end();
      },
      timeouts({ stallMs: 150 }),
    );
    // Not all there with the headers: read through text(), with the stall timer between pieces.
    const r = await backend.chat(hi);
    expect(r.choices[0]?.message.content).toBe('in pieces');
    gapMs = 400;
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_TIMEOUT');
    expect(err.phase).toBe('stall');
  });

  it('maps a body cut off mid-way to FLEET_UPSTREAM_STREAM_ENDED', async () => {
    const { backend } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      await writeSlowly(res, ['{"choices":[{"message":']);
      res.destroy();
    });
    await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_STREAM_ENDED');
  });

  it('takes Retry-After from a 503 and retry-after-ms from a 429', async () => {
    const { backend, server } = await setup((_req, res) =>
      json(
        res,
        503,
        { error: 'server busy, please try again.  maximum pending requests exceeded' },
        { 'retry-after': '2' },
      ),
    );
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_BUSY');
    expect(err.retryAfterMs).toBe(2000);
    expect(err.message).toContain('server busy');
    const e2 = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_BUSY');
    expect(e2.retryAfterMs).toBe(2000);
    server.setHandler((_req, res) =>
      json(res, 429, { error: { message: 'slow down' } }, { 'retry-after-ms': '150' }),
    );
    expect((await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_BUSY')).retryAfterMs).toBe(150);
  });
});

describe('what is sent', () => {
  it('defaults the model, always asks for usage when streaming, never sends stream_options otherwise', async () => {
    const { backend, server } = await setup((req, res) => {
      if (req.json()['stream'] === true) {
        sseHead(res);
        res.end(`data: ${finishChunk()}\n\ndata: [DONE]\n\n`);
      } else json(res, 200, { choices: [] });
    });
    await collect(backend.chatStream({ ...hi, stream_options: { include_usage: false }, top_k: 5 }));
    await backend.chat({ ...hi, model: 'other', stream_options: { include_usage: true } });
    const [s, n] = server.requests.map((r) => r.json());
    expect(s).toMatchObject({ model: 'm', stream: true, stream_options: { include_usage: true }, top_k: 5 });
    expect(n).toMatchObject({ model: 'other', stream: false });
    expect(n).not.toHaveProperty('stream_options');
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');
  });

  it('sends a limit given only as max_completion_tokens as max_tokens too (what local servers read)', async () => {
    const { backend, server } = await setup((_req, res) => json(res, 200, { choices: [] }));
    await backend.chat({ ...hi, max_completion_tokens: 64 });
    await backend.chat({ ...hi, max_tokens: 8, max_completion_tokens: 64 });
    const [only, both] = server.requests.map((r) => r.json());
    expect(only).toMatchObject({ max_tokens: 64, max_completion_tokens: 64 });
    expect(both).toMatchObject({ max_tokens: 8, max_completion_tokens: 64 });
  });

  it('sends Authorization: Bearer only when a key is configured', async () => {
    const { backend, server } = await setup((_req, res) => json(res, 200, { choices: [] }), {
      apiKey: 'k-123',
    });
    await backend.chat(hi);
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer k-123');
    const other = createBackend(workerAt(server.url));
    backends.push(other);
    await other.chat(hi);
    expect(server.requests[1]?.headers['authorization']).toBeUndefined();
  });

  it('keeps a path prefix of base_url', async () => {
    const server = await startServer((_req, res) => json(res, 200, { choices: [] }));
    servers.push(server);
    const b = createBackend(workerAt(`${server.url}/llm`));
    backends.push(b);
    await b.chat(hi);
    expect(server.requests[0]?.path).toBe('/llm/v1/chat/completions');
  });

  it('reuses one keep-alive connection for requests and finished streams', async () => {
    const ports = new Set<number>();
    const { backend, server } = await setup((req, res, raw) => {
      ports.add(raw.socket.remotePort ?? 0);
      if (req.json()['stream'] === true) {
        sseHead(res);
        res.end(`data: ${chunk('a')}\n\ndata: ${finishChunk()}\n\ndata: [DONE]\n\n`);
      } else json(res, 200, { choices: [] });
    });
    for (let i = 0; i < 3; i++) {
      // undici marks a connection free a tick after its response ends (and the end of a body after
      // [DONE] is read in the background): leave a moment, or the pool rightly opens another one.
      await collect(backend.chatStream(hi));
      await sleep(10);
      await backend.chat(hi);
      await sleep(10);
    }
    expect(ports.size).toBe(1);
    expect(server.clientGone).toBe(0);
  });
});

describe('leaving a stream', () => {
  it('before reading it sends nothing; while it opens, the upstream request is closed', async () => {
    const { backend, server } = await setup((_req, res) => {
      sseHead(res);
      res.write(`data: ${chunk('a')}\n\n`); // then nothing: the stream stays open
    });
    const unread = backend.chatStream(hi)[Symbol.asyncIterator]();
    expect(await unread.return?.()).toEqual({ done: true, value: undefined });
    expect(await unread.next()).toEqual({ done: true, value: undefined });
    await sleep(20);
    expect(server.requests).toHaveLength(0);

    // return() while the first next() is still waiting for the response's headers.
    const it = backend.chatStream(hi)[Symbol.asyncIterator]();
    const first = it.next();
    const left = it.return?.();
    expect(((await first).value as ChatChunk | undefined)?.choices[0]?.delta.content).toBe('a');
    expect((await left)?.done).toBe(true);
    for (let i = 0; i < 50 && server.clientGone === 0; i++) await sleep(10);
    expect(server.clientGone).toBe(1);
    expect(server.requests).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('first token: headers and keep-alive comments do not count as a token', async () => {
    const { backend, server } = await setup(
      async (_req, res) => {
        sseHead(res);
        await writeSlowly(
          res,
          Array.from({ length: 40 }, () => ': keepalive\n\n'),
          20,
        );
      },
      timeouts({ firstTokenMs: 250 }),
    );
    const t0 = performance.now();
    const err = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_TIMEOUT');
    expect(err.phase).toBe('first_token');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    await sleep(30);
    expect(server.clientGone).toBe(1);
  });

  it('stall: silence between chunks ends the stream and the connection', async () => {
    const { backend, server } = await setup(
      async (_req, res) => {
        sseHead(res);
        await writeSlowly(res, [`data: ${chunk('a')}\n\n`]);
        await sleep(5000);
      },
      timeouts({ stallMs: 200 }),
    );
    const seen: ChatChunk[] = [];
    const err = await expectFleetError(
      (async () => {
        for await (const c of backend.chatStream(hi)) seen.push(c);
      })(),
      'FLEET_UPSTREAM_TIMEOUT',
    );
    expect(err.phase).toBe('stall');
    expect(err.message).toBe('w1: stream stalled: no data for 200 ms (stall timeout)');
    expect(seen).toHaveLength(1);
    await sleep(30);
    expect(server.clientGone).toBe(1);
  });

  it('stall: a slow consumer is not a stalled server', async () => {
    const { backend } = await setup(
      (_req, res) => {
        sseHead(res);
        res.end(`data: ${chunk('a')}\n\ndata: ${chunk('b')}\n\ndata: ${finishChunk()}\n\ndata: [DONE]\n\n`);
      },
      timeouts({ stallMs: 100 }),
    );
    const seen: ChatChunk[] = [];
    for await (const c of backend.chatStream(hi)) {
      seen.push(c);
      await sleep(250);
    }
    expect(text(seen)).toBe('ab');
  });

  it('total: a stream that trickles forever is cut at the total timeout', async () => {
    const { backend } = await setup(
      async (_req, res) => {
        sseHead(res);
        await writeSlowly(
          res,
          Array.from({ length: 200 }, () => `data: ${chunk('.')}\n\n`),
          20,
        );
      },
      timeouts({ stallMs: 1000, totalMs: 400 }),
    );
    const err = await expectFleetError(collect(backend.chatStream(hi)), 'FLEET_UPSTREAM_TIMEOUT');
    expect(err.phase).toBe('total');
    expect(err.message).toContain('timed out after 400 ms');
  });

  it('non-streamed: the first-token timeout covers the wait for the headers', async () => {
    const { backend } = await setup(
      async () => {
        await sleep(3000);
      },
      timeouts({ firstTokenMs: 200 }),
    );
    const err = await expectFleetError(backend.chat(hi), 'FLEET_UPSTREAM_TIMEOUT');
    expect(err.phase).toBe('first_token');
  });

  it('runs on the injected clock: advancing a manual clock fires the timeout', async () => {
    const clock = new ManualClock();
    let arrived = false;
    const { backend } = await setup(
      async () => {
        arrived = true;
        await sleep(5000);
      },
      timeouts({ firstTokenMs: 60_000, totalMs: 600_000 }),
      clock,
    );
    const p = backend.chat(hi);
    const outcome = expectFleetError(p, 'FLEET_UPSTREAM_TIMEOUT');
    while (!arrived) await sleep(5);
    clock.advance(59_999);
    await sleep(20);
    clock.advance(1);
    const err = await outcome;
    expect(err.phase).toBe('first_token');
    expect(err.message).toContain('no first token after 60 s');
  });
});

/** A clock that moves only when told to. */
class ManualClock implements Clock {
  #t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now = () => this.#t;
  wallNow = () => 1_700_000_000_000 + this.#t;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#t + ms, fn });
    return id as unknown as TimerHandle;
  };
  clearTimeout = (h: TimerHandle | undefined) => {
    if (h !== undefined) this.#timers.delete(h as unknown as number);
  };
  sleep = () => Promise.reject(new Error('not used'));
  advance(ms: number): void {
    this.#t += ms;
    for (const [id, t] of [...this.#timers]) {
      if (t.at <= this.#t) {
        this.#timers.delete(id);
        t.fn();
      }
    }
  }
}
