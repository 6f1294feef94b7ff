import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { startGateway } from '../../src/gateway/index.ts';
import { CHAT, closeAll, post, sim, sleep, startFleetGateway, until } from './helpers.ts';

afterEach(closeAll);

async function json(
  r: Response,
): Promise<{ error: { message: string; type: string; code: string; param: string | null } }> {
  return (await r.json()) as { error: { message: string; type: string; code: string; param: string | null } };
}

describe('gateway errors: OpenAI shape, honest statuses', () => {
  it('400 names the field; invalid JSON says so', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    let r = await post(`${gw.url}/v1/chat/completions`, { model: 'sim-model' });
    expect(r.status).toBe(400);
    let b = await json(r);
    expect(b.error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    expect(b.error.message).toBe('chat request: messages: required');
    r = await post(`${gw.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: -3,
    });
    b = await json(r);
    expect(r.status).toBe(400);
    expect(b.error.param).toBe('max_tokens');
    r = await post(`${gw.url}/v1/chat/completions`, '{"messages": [');
    expect(r.status).toBe(400);
    expect((await json(r)).error.message).toMatch(/^invalid JSON body/);
    r = await post(`${gw.url}/v1/chat/completions`, CHAT, { 'x-fleet-priority': 'urgent' });
    expect(r.status).toBe(400);
    expect((await json(r)).error.message).toContain('x-fleet-priority');
  });

  it('413 when the body is larger than the limit', async () => {
    const { gw } = await startFleetGateway([sim('a')], { gateway: { maxBodyBytes: 1000 } });
    const r = await post(`${gw.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'x'.repeat(2000) }],
    });
    expect(r.status).toBe(413);
    expect(r.headers.get('connection')).toBe('close'); // the unread rest of the body is not drained
    expect((await json(r)).error.code).toBe('body_too_large');
    // Without a Content-Length (chunked), the limit is enforced while reading.
    const big = new TextEncoder().encode(
      JSON.stringify({ messages: [{ role: 'user', content: 'y'.repeat(3000) }] }),
    );
    const chunked = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(big.subarray(0, 1500));
          c.enqueue(big.subarray(1500));
          c.close();
        },
      }),
      duplex: 'half',
    });
    expect(chunked.status).toBe(413);
    expect((await json(chunked)).error.code).toBe('body_too_large');
    // A body that arrives in pieces under the limit is joined whole.
    const small = new TextEncoder().encode(JSON.stringify(CHAT));
    const pieces = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < small.length; i += 7) c.enqueue(small.subarray(i, i + 7));
          c.close();
        },
      }),
      duplex: 'half',
    });
    expect(pieces.status).toBe(200);
    expect((await post(`${gw.url}/v1/chat/completions`, CHAT)).status).toBe(200);
  });

  it('401 without or with a wrong key; health stays public; keys never echoed', async () => {
    const { gw } = await startFleetGateway([sim('a')], { gateway: { apiKeys: ['k-123'] } });
    let r = await post(`${gw.url}/v1/chat/completions`, CHAT);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect((await json(r)).error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    r = await post(`${gw.url}/v1/chat/completions`, CHAT, { authorization: 'Bearer k-12' });
    expect(r.status).toBe(401);
    expect(await r.text()).not.toContain('k-12');
    r = await post(`${gw.url}/v1/chat/completions`, CHAT, { 'x-api-key': 'k-123' });
    expect(r.status).toBe(200);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gw.url}/fleet/status?key=k-123`)).status).toBe(200);
  });

  it('503 + Retry-After when the queue is full', async () => {
    const { gw } = await startFleetGateway([sim('a', { slots: 1, fixedLatencyMs: 10_000 })], {
      settings: { max_queue_size: 1 },
    });
    const first = post(`${gw.url}/v1/chat/completions`, CHAT);
    const second = post(`${gw.url}/v1/chat/completions`, CHAT);
    // Both reach the fleet before the third: one runs, one waits.
    await new Promise((r) => setTimeout(r, 150));
    const r = await post(`${gw.url}/v1/chat/completions`, CHAT);
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await json(r)).error.code).toBe('FLEET_QUEUE_FULL');
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });

  it('502 when the upstream fails after retries; 504 on an upstream timeout', async () => {
    const { gw } = await startFleetGateway([sim('bad', { faults: { errorRate: 1 } })], {
      settings: { max_retries: 1 },
    });
    const r = await post(`${gw.url}/v1/chat/completions`, CHAT);
    expect(r.status).toBe(502);
    const b = await json(r);
    expect(b.error).toMatchObject({ type: 'upstream_error', code: 'FLEET_UPSTREAM_SERVER' });
    expect(b.error.message).toContain('bad');

    const { gw: gw2 } = await startFleetGateway([sim('hang', { faults: { hangRate: 1 } })], {
      settings: { max_retries: 0 },
      worker: { first_token_timeout: 0.2 },
    });
    const r2 = await post(`${gw2.url}/v1/chat/completions`, CHAT);
    expect(r2.status).toBe(504);
    expect((await json(r2)).error).toMatchObject({ type: 'timeout_error', code: 'FLEET_UPSTREAM_TIMEOUT' });
  });

  it('an unknown route is a 404 in the same shape', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const r = await fetch(`${gw.url}/v1/nope`);
    expect(r.status).toBe(404);
    expect((await json(r)).error.code).toBe('unknown_route');
  });

  it('routes by method and exact path; HEAD is GET without a body; ids and error shapes per API', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const head = await fetch(`${gw.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const events = await fetch(`${gw.url}/fleet/events`, { method: 'HEAD' });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    expect(await events.text()).toBe(''); // answered, not left open
    // A known path with the wrong method is an unknown route, in the API's own shape.
    const get = await fetch(`${gw.url}/v1/chat/completions`);
    expect(get.status).toBe(404);
    expect((await json(get)).error.message).toBe('no route GET /v1/chat/completions');
    const ollama = await fetch(`${gw.url}/api/nope`, { method: 'POST', body: '{}' });
    expect(ollama.status).toBe(404);
    expect(await ollama.json()).toEqual({ error: 'no route POST /api/nope' });
    expect((await fetch(`${gw.url}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${gw.url}/health/`)).status).toBe(404);
    // The client's request id is kept; without one the gateway makes one.
    const mine = await post(`${gw.url}/v1/chat/completions`, CHAT, { 'x-request-id': 'trace-42' });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('x-request-id')).toBe('trace-42');
    expect(mine.headers.get('x-fleet-worker')).toBe('a');
    const made = await post(`${gw.url}/v1/chat/completions`, CHAT);
    expect(made.headers.get('x-request-id')).toMatch(/^req-\d+$/);
    // Idle connections are kept 65 s, past the 5 s idle expiry of common clients (no reset race).
    expect(made.headers.get('keep-alive')).toBe('timeout=65');
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    expect(m).toMatch(/fleet_gateway_http_requests_total\{route="\*",status="404"\} 3/);
    expect(m).toMatch(/fleet_gateway_http_requests_total\{route="\/dashboard\/:file",status="404"\} 1/);
    expect(m).toMatch(/fleet_gateway_http_requests_total\{route="\/health",status="200"\} 1/);
  });

  it('refuses a non-loopback host without an API key unless insecure', async () => {
    const config = parseConfig(
      { workers: [{ id: 'a', type: 'openai', host: '127.0.0.1', port: 1, model: 'm' }] },
      { file: 'test' },
    );
    await expect(startGateway({ config, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without an API key.*--insecure/,
    );
  });
});

describe('health, readiness, metrics, status', () => {
  it('/health, /ready, /fleet/status and Prometheus /metrics', async () => {
    const { gw } = await startFleetGateway([sim('a'), sim('b')]);
    expect(await (await fetch(`${gw.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', healthy: 2, workers: 2 });
    for (let i = 0; i < 3; i++) expect((await post(`${gw.url}/v1/chat/completions`, CHAT)).status).toBe(200);
    const status = (await (await fetch(`${gw.url}/fleet/status`)).json()) as {
      totals: { completed: number };
      workers: Array<{ id: string }>;
    };
    expect(status.totals.completed).toBe(3);
    expect(status.workers.map((w) => w.id)).toEqual(['a', 'b']);
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    expect(m).toMatch(/fleet_worker_cap\{worker="a"\} 2/);
    expect(m).toMatch(/fleet_worker_in_flight\{worker="b"\} 0/);
    expect(m).toMatch(/fleet_worker_state\{worker="a",state="healthy"\} 1/);
    expect(m).toMatch(/fleet_queue_depth 0/);
    expect(m).toMatch(/fleet_queue_wait_seconds_count 3/);
    const ok = [...m.matchAll(/fleet_requests_total\{worker="\w+",outcome="ok"\} (\d+)/g)].map((x) =>
      Number(x[1]),
    );
    expect(ok.reduce((a, b) => a + b, 0)).toBe(3);
    expect(m).toMatch(/fleet_request_duration_seconds_bucket\{le="\+Inf",worker="\w+"\} \d+/);
    const out = [...m.matchAll(/fleet_tokens_total\{worker="\w+",kind="output"\} (\d+)/g)].map((x) =>
      Number(x[1]),
    );
    expect(out.reduce((a, b) => a + b, 0)).toBe(24);
    expect(m).toMatch(/fleet_gateway_http_requests_total\{route="\/v1\/chat\/completions",status="200"\} 3/);
  });

  it('/metrics counts every request exactly (593 requests in three waves, failures, scrapes between)', async () => {
    const { gw } = await startFleetGateway([sim('a', { slots: 64, fixedLatencyMs: 0, decodeTps: Infinity })]);
    const count = (m: string, re: RegExp) => [...m.matchAll(re)].reduce((a, x) => a + Number(x[1]), 0);
    const scrape = async () => (await fetch(`${gw.url}/metrics`)).text();
    let ok = 0;
    let bad = 0;
    for (const n of [3, 300, 290]) {
      // 593 in all, with a scrape after each wave: the counts go on from where the last scrape left them.
      const waves = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          i % 10 === 9
            ? post(`${gw.url}/v1/chat/completions`, { ...CHAT, model: 'nope' }) // 404: no worker serves it
            : post(`${gw.url}/v1/chat/completions`, CHAT),
        ),
      );
      for (const r of waves) {
        await r.arrayBuffer();
        if (r.status === 200) ok++;
        else if (r.status === 404) bad++;
        else throw new Error(`unexpected status ${r.status}`);
      }
      const m = await scrape();
      expect(count(m, /fleet_requests_total\{worker="a",outcome="ok"\} (\d+)/g)).toBe(ok);
      expect(count(m, /fleet_request_duration_seconds_count\{worker="a"\} (\d+)/g)).toBe(ok);
      expect(count(m, /fleet_queue_wait_seconds_count (\d+)/g)).toBe(ok);
      expect(count(m, /route="\/v1\/chat\/completions",status="200"\} (\d+)/g)).toBe(ok);
      expect(count(m, /route="\/v1\/chat\/completions",status="404"\} (\d+)/g)).toBe(bad);
    }
    expect(ok + bad).toBe(593);
    expect(bad).toBeGreaterThan(0);
  });

  it('a tail hedge shows as a hedge, and the race it won as cancelled, not as an error', async () => {
    // One slot each; 50 ms per request on quick, 250 ms on slow.
    const w = (id: string, speed: number) =>
      sim(id, { slots: 1, speed, decodeTps: 100, prefillTps: Infinity, batchSlowdown: 0, timeScale: 0.5 });
    const { gw } = await startFleetGateway([w('quick', 1), w('slow', 0.2)]);
    const pair = async () => {
      const rs = await Promise.all([
        post(`${gw.url}/v1/chat/completions`, CHAT),
        post(`${gw.url}/v1/chat/completions`, CHAT),
      ]);
      for (const r of rs) expect(r.status).toBe(200);
      return rs.map((r) => r.headers.get('x-fleet-worker'));
    };
    await pair(); // both speeds learned
    // Now the second request of a pair goes to slow (quick is busy) and is hedged on quick once
    // quick is free: quick answers both.
    expect(await pair()).toEqual(['quick', 'quick']);
    expect(await pair()).toEqual(['quick', 'quick']);
    const status = (await (await fetch(`${gw.url}/fleet/status`)).json()) as {
      totals: Record<string, number>;
      workers: Array<Record<string, number | string>>;
    };
    const t = status.totals;
    expect(t['hedgeWins']).toBeGreaterThanOrEqual(2);
    // Each race cancels the attempt that lost it; none of that is a failure.
    expect(t).toMatchObject({ cancelled: t['hedges'], failed: 0, completed: 6 });
    const slow = status.workers.find((x) => x['id'] === 'slow')!;
    expect(slow['failed']).toBe(0);
    expect(slow['cancelled']).toBeGreaterThanOrEqual(2);
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    const n = (re: RegExp) => Number(re.exec(m)?.[1] ?? NaN);
    expect(n(/fleet_hedges_total\{worker="quick",outcome="ok"\} (\d+)/)).toBe(t['hedgeWins']);
    expect(n(/fleet_requests_total\{worker="slow",outcome="cancelled"\} (\d+)/)).toBe(slow['cancelled']);
    expect(m).not.toMatch(/outcome="FLEET_ABORTED"/);
  });
});

/** A raw HTTP/1.1 connection: what is written is exactly what the gateway's socket reads. */
class RawClient {
  readonly #socket: Socket;
  #buf = Buffer.alloc(0);
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (b: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, b]);
      this.#wake?.();
    });
  }

  static async open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  write(text: string): void {
    this.#socket.write(text);
  }

  /** The next response (status and body; the gateway always sends Content-Length here). */
  async response(): Promise<{ status: number; body: string }> {
    for (;;) {
      const text = this.#buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const len = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (this.#buf.length >= end + 4 + len) {
          const status = Number(text.slice(9, 12));
          const body = this.#buf.subarray(end + 4, end + 4 + len).toString('utf8');
          this.#buf = this.#buf.subarray(end + 4 + len);
          return { status, body };
        }
      }
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

const request = (body: string, headers = `content-length: ${Buffer.byteLength(body)}`) =>
  `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${headers}\r\n\r\n${body}`;
/** Parts in chunked encoding; `last: false` leaves out the terminating chunk (more parts follow). */
const chunked = (parts: string[], last = true) =>
  parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + (last ? '0\r\n\r\n' : '');

describe('gateway request bodies, as they arrive on the socket', () => {
  it('a body in the packet with its headers, then another request on the same connection', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    // Every request stream still ends ('end', then 'close'), however its body was read.
    let ended = 0;
    let closed = 0;
    gw.server.on('request', (req: IncomingMessage) => {
      req.on('end', () => ended++);
      req.on('close', () => closed++);
    });
    const c = await RawClient.open(gw.url);
    try {
      for (let i = 0; i < 3; i++) {
        c.write(request(JSON.stringify(CHAT)));
        const r = await c.response();
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ object: 'chat.completion' });
      }
      // Two requests in one packet (pipelined): both answered, in order.
      c.write(request(JSON.stringify(CHAT)) + request('{"messages": ['));
      expect((await c.response()).status).toBe(200);
      expect((await c.response()).status).toBe(400);
      await until(() => ended === 5 && closed === 5);
    } finally {
      c.close();
    }
  });

  it('a body that comes in pieces, later than its headers, is joined whole', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const c = await RawClient.open(gw.url);
    try {
      const body = JSON.stringify(CHAT);
      const whole = request(body);
      const cut = whole.length - body.length + 10;
      c.write(whole.slice(0, cut));
      await sleep(30);
      c.write(whole.slice(cut));
      const r = await c.response();
      expect(r.status).toBe(200);
      // Chunked, in three packets.
      const parts = [body.slice(0, 5), body.slice(5, 20), body.slice(20)];
      c.write(request('', 'transfer-encoding: chunked') + chunked([parts[0]!], false));
      await sleep(20);
      c.write(chunked([parts[1]!], false));
      await sleep(20);
      c.write(chunked([parts[2]!]));
      expect((await c.response()).status).toBe(200);
    } finally {
      c.close();
    }
  });

  it('413 for a chunked body over the limit, whether it came at once or in pieces', async () => {
    const { gw } = await startFleetGateway([sim('a')], { gateway: { maxBodyBytes: 1000 } });
    const big = JSON.stringify({ messages: [{ role: 'user', content: 'z'.repeat(1500) }] });
    const atOnce = await RawClient.open(gw.url);
    const inPieces = await RawClient.open(gw.url);
    try {
      atOnce.write(request('', 'transfer-encoding: chunked') + chunked([big.slice(0, 800), big.slice(800)]));
      const a = await atOnce.response();
      expect(a.status).toBe(413);
      expect(JSON.parse(a.body)).toMatchObject({ error: { code: 'body_too_large' } });
      inPieces.write(request('', 'transfer-encoding: chunked') + chunked([big.slice(0, 800)], false));
      await sleep(30);
      inPieces.write(chunked([big.slice(800)]));
      expect((await inPieces.response()).status).toBe(413);
    } finally {
      atOnce.close();
      inPieces.close();
    }
  });
});
