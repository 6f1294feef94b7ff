/* eslint-disable @typescript-eslint/no-unsafe-return --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/core/clock.ts';
import { chat, closeAll, http, sim, streamEvents, warm } from './helpers.ts';

afterEach(closeAll);

const CHAT = '/v1/chat/completions';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sim faults', () => {
  it('errorRate 1 answers every request with errorStatus in the type shape', async () => {
    const w = await sim({ faults: { errorRate: 1 } });
    const rs = await Promise.all([1, 2, 3, 4].map(() => http(`${w.url}${CHAT}`, { body: chat('x') })));
    expect(rs.map((r) => r.status)).toEqual([500, 500, 500, 500]);
    expect(rs[0]!.json().error.type).toBe('server_error');
    w.setFaults({ errorRate: 1, errorStatus: 503 });
    const v = await sim({ type: 'vllm', faults: { errorRate: 1, errorStatus: 503 } });
    expect((await http(`${w.url}${CHAT}`, { body: chat('x') })).status).toBe(503);
    expect((await http(`${v.url}${CHAT}`, { body: chat('x') })).json()).toMatchObject({
      type: 'ServiceUnavailableError',
      code: 503,
    });
    const st = w.stats();
    expect(st.failed).toBe(5);
    expect(st.log.every((l) => l.outcome === 'error')).toBe(true);
  });

  it('a hung request holds its slot until the client aborts, then frees it at once', async () => {
    const w = await sim({ slots: 1, decodeTps: Infinity, faults: { hangRate: 1 } });
    const ac = new AbortController();
    const hung = http(`${w.url}${CHAT}`, { body: chat('x'), signal: ac.signal }).catch((e: Error) => e);
    await sleep(150);
    expect(w.stats().running).toBe(1);
    w.setFaults({});
    // The next request queues behind the hung one...
    const next = http(`${w.url}${CHAT}`, { body: chat('y') });
    await sleep(50);
    expect(w.stats().queued).toBe(1);
    ac.abort();
    expect(await hung).toBeInstanceOf(Error);
    // ...and runs as soon as the hung one's client is gone.
    const r = await next;
    expect(r.status).toBe(200);
    const st = w.stats();
    expect(st.running).toBe(0);
    expect(st.inFlight).toBe(0);
    expect(st.log.map((l) => l.outcome)).toEqual(['hang', 'ok']);
  });

  it('a client that disconnects mid-stream frees its slot (outcome aborted)', async () => {
    const w = await sim({ slots: 1, decodeTps: 50, timeScale: 1, outputTokens: 100 });
    const ac = new AbortController();
    const res = await request(`${w.url}${CHAT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('x', { stream: true })),
      signal: ac.signal,
    });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    ac.abort();
    await sleep(50);
    const st = w.stats();
    expect(st.running).toBe(0);
    expect(st.log[0]!.outcome).toBe('aborted');
    expect(st.log[0]!.outputTokens).toBeLessThan(100);
  });

  it('drop destroys a stream after half its tokens, and a plain response mid-body', async () => {
    const w = await sim({ decodeTps: 1000, timeScale: 0.1, outputTokens: 20, faults: { dropRate: 1 } });
    const res = await request(`${w.url}${CHAT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('x', { stream: true })),
    });
    expect(res.statusCode).toBe(200);
    let text = '';
    const err = await (async () => {
      try {
        for await (const c of res.body) text += String(c);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(Error);
    expect(text).toContain('"content":"');
    expect(text).not.toContain('[DONE]');
    const plain = await http(`${w.url}${CHAT}`, { body: chat('x') }).catch((e: Error) => e);
    expect(plain).toBeInstanceOf(Error);
    const st = w.stats();
    expect(st.log.map((l) => l.outcome)).toEqual(['dropped', 'dropped']);
    expect(st.log[0]!.outputTokens).toBe(10);
    expect(st.running).toBe(0);
  });

  it('a mid-stream error whose request finishes while it is being cut ends the response once', async () => {
    // On a loaded machine time moves between the tick that reaches the fault and the engine
    // catching up as it cancels: the request's own end fires inside that cancel. This clock
    // creeps 200 ms on every read to make that happen every time.
    let t = performance.now();
    const creeping: Clock = {
      ...systemClock,
      now: () => (t = Math.max(t + 200, performance.now())),
    };
    const w = await sim({
      clock: creeping,
      decodeTps: 100,
      outputTokens: 20,
      faults: { midStreamErrorRate: 1 },
    });
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      for (let i = 0; i < 5; i++) {
        const s = await http(`${w.url}${CHAT}`, { body: chat('x', { stream: true }) });
        expect(s.status).toBe(200);
        expect(s.text).toContain('simulated failure during generation');
      }
      await sleep(20);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toEqual([]);
    expect(w.stats().log.map((l) => l.outcome)).toEqual(['error', 'error', 'error', 'error', 'error']);
  });

  it('malformed: a 200 whose JSON does not parse, or one broken SSE data line', async () => {
    const w = await sim({ decodeTps: Infinity, faults: { malformedRate: 1 } });
    const r = await http(`${w.url}${CHAT}`, { body: chat('x') });
    expect(r.status).toBe(200);
    expect(() => r.json()).toThrow(SyntaxError);
    const s = await streamEvents(`${w.url}${CHAT}`, chat('x', { stream: true }));
    const bad = s.events.filter((e) => {
      if (e.data === '[DONE]') return false;
      try {
        JSON.parse(e.data);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad).toHaveLength(1);
    expect(w.stats().log.map((l) => l.outcome)).toEqual(['malformed', 'malformed']);
  });

  it('slowFirstTokenMs delays the first token by that much model time', async () => {
    const w = await sim({
      decodeTps: 1000,
      prefillTps: Infinity,
      timeScale: 0.5,
      faults: { slowFirstTokenMs: 400 },
    });
    await warm(w.url);
    const s = await streamEvents(`${w.url}${CHAT}`, chat('x', { stream: true, max_tokens: 2 }));
    const first = s.events.find((e) => e.data.includes('"content":"'))!;
    // In model time (the log): 400 ms x 0.5 plus one decode step (1 ms x 0.5). The client sees it
    // never early, and late only by delivery, which a loaded CI box can stretch.
    const log = w.stats().log[0]!;
    expect(log.firstTokenAt! - log.startedAt!).toBeCloseTo(200.5, 1);
    expect(first.at).toBeGreaterThanOrEqual(200);
    expect(first.at).toBeLessThan(400);
  });

  it('crash() kills in-flight requests and refuses connections; restart() serves on the same port after cold start', async () => {
    const w = await sim({ type: 'llama_cpp', decodeTps: 50, timeScale: 0.5, coldStartMs: 200 });
    await sleep(120);
    const port = w.port;
    const inflight = http(`${w.url}${CHAT}`, { body: chat('x') }).catch((e: Error) => e);
    await sleep(30);
    await w.crash();
    expect(await inflight).toBeInstanceOf(Error);
    const refused = await http(`${w.url}/health`).catch((e: Error & { code?: string }) => e);
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    await w.restart();
    expect(w.port).toBe(port);
    expect((await http(`${w.url}/health`)).status).toBe(503); // loading again
    await sleep(120);
    expect((await http(`${w.url}/health`)).status).toBe(200);
    expect(w.stats().log[0]!.outcome).toBe('dropped');
  });

  it('crashAfter: the request after the limit brings the server down', async () => {
    const w = await sim({ decodeTps: Infinity, faults: { crashAfter: 2 } });
    expect((await http(`${w.url}${CHAT}`, { body: chat('a') })).status).toBe(200);
    expect((await http(`${w.url}${CHAT}`, { body: chat('b') })).status).toBe(200);
    expect(await http(`${w.url}${CHAT}`, { body: chat('c') }).catch((e: Error) => e)).toBeInstanceOf(Error);
    await sleep(20);
    expect(await http(`${w.url}/sim/stats`).catch((e: Error) => e)).toBeInstanceOf(Error);
    await w.restart();
    w.setFaults({});
    expect((await http(`${w.url}${CHAT}`, { body: chat('d') })).status).toBe(200);
  });

  it('faults are seeded: the same seed gives the same outcomes in the same order', async () => {
    const faults = { errorRate: 0.3, malformedRate: 0.3 };
    const run = async (seed: number) => {
      const w = await sim({ seed, decodeTps: Infinity, faults });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await http(`${w.url}${CHAT}`, { body: chat('x') });
        let ok = r.status === 200;
        try {
          r.json();
        } catch {
          ok = false;
        }
        out.push(r.status === 200 ? (ok ? 0 : 2) : 1);
      }
      return out;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(a).toContain(0);
    expect(a).toContain(1);
    expect(a).toContain(2);
    expect(await run(43)).not.toEqual(a);
  });

  it('POST /sim/faults changes faults at run time and rejects bad values with a clear message', async () => {
    const w = await sim({ decodeTps: Infinity });
    const set = await http(`${w.url}/sim/faults`, { body: { errorRate: 1, errorStatus: 502 } });
    expect(set.status).toBe(200);
    expect((await http(`${w.url}${CHAT}`, { body: chat('x') })).status).toBe(502);
    const bad = await http(`${w.url}/sim/faults`, { body: { errorRate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json().error).toBe(
      'sim faults: faults.errorRate: expected a fraction from 0 to 1, got 2 (number)',
    );
    const unknown = await http(`${w.url}/sim/faults`, { body: { eror_rate: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.json().error).toContain('faults.eror_rate');
    await http(`${w.url}/sim/faults`, { body: {} });
    expect((await http(`${w.url}${CHAT}`, { body: chat('x') })).status).toBe(200);
  });
});
