import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/core/tokens.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/index.ts';
import { chat, closeAll, http, sim, warm } from './helpers.ts';

/** /sim/stats is the ground truth later tests and benchmarks lean on. */
let fleet: SimFleet | undefined;
afterEach(async () => {
  await closeAll();
  await fleet?.close();
  fleet = undefined;
});

const CHAT = '/v1/chat/completions';

describe('sim stats', () => {
  it('counts concurrency exactly: maxInFlight, maxRunning, maxQueued', async () => {
    const w = await sim({ slots: 3, maxQueue: 10, decodeTps: 100, timeScale: 0.2, outputTokens: 20 });
    await warm(w.url, 7);
    await Promise.all(Array.from({ length: 7 }, () => http(`${w.url}${CHAT}`, { body: chat('q') })));
    const st = (await http(`${w.url}/sim/stats`)).json();
    expect(st).toMatchObject({
      id: 'sim-1',
      type: 'openai',
      requests: 7,
      completed: 7,
      failed: 0,
      inFlight: 0,
    });
    expect(st.maxInFlight).toBe(7);
    expect(st.maxRunning).toBe(3);
    expect(st.maxQueued).toBe(4);
    expect(st.decodeTokens).toBe(140);
    expect(st.log).toHaveLength(7);
  });

  it("stops counting a request as in flight once its client has left (within the fleet's settle time)", async () => {
    const w = await sim({ slots: 1, maxQueue: 4, decodeTps: 50, outputTokens: 100 });
    await warm(w.url, 2);
    for (let i = 0; i < 20; i++) {
      const ac = new AbortController();
      const first = http(`${w.url}${CHAT}`, { body: chat(`a${i}`), signal: ac.signal }).catch(
        (e: Error) => e,
      );
      await new Promise((r) => setTimeout(r, 5));
      ac.abort();
      // The fleet holds a slot 25 ms after cutting a request short; the server must have let go by then.
      await new Promise((r) => setTimeout(r, 25));
      const next = new AbortController();
      const second = http(`${w.url}${CHAT}`, { body: chat(`b${i}`), signal: next.signal }).catch(
        (e: Error) => e,
      );
      await first;
      await new Promise((r) => setTimeout(r, 5));
      next.abort();
      await second;
    }
    await new Promise((r) => setTimeout(r, 50));
    const st = w.stats();
    expect(st.log.filter((l) => l.outcome === 'aborted')).toHaveLength(40);
    expect(st.maxInFlight).toBe(1);
    expect(st.maxQueued).toBe(0);
    expect(st.inFlight).toBe(0);
  });

  it('logs each request: times, tokens, status and outcome, in arrival order', async () => {
    const w = await sim({ decodeTps: 100, prefillTps: 1000, timeScale: 0.1, outputTokens: 10 });
    await http(`${w.url}${CHAT}`, { body: chat('hello', { model: 'sim-model' }) });
    await http(`${w.url}${CHAT}`, { body: chat('hello', { model: 'other' }) });
    const [ok, missing] = w.stats().log;
    expect(ok).toMatchObject({
      id: 1,
      model: 'sim-model',
      path: CHAT,
      stream: false,
      promptTokens: estimateTokens('user: hello\n'),
      cachedTokens: 0,
      outputTokens: 10,
      status: 200,
      outcome: 'ok',
    });
    expect(ok!.startedAt!).toBeGreaterThanOrEqual(ok!.arrivedAt);
    expect(ok!.firstTokenAt!).toBeGreaterThan(ok!.startedAt!);
    // 3 prompt tokens at 1000/s + 10 output tokens at 100/s, x timeScale 0.1 = 0.3 + 10 ms.
    expect(ok!.finishedAt! - ok!.startedAt!).toBeCloseTo(0.3 + 10, 3);
    expect(missing).toMatchObject({ id: 2, status: 404, outcome: 'rejected' });
  });

  it('counts prefix-cache hits and the tokens they saved', async () => {
    const w = await sim({ decodeTps: Infinity, prefillTps: Infinity });
    const doc = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    await http(`${w.url}${CHAT}`, { body: chat(`${doc}Question one?`) });
    await http(`${w.url}${CHAT}`, { body: chat(`${doc}Question two?`) });
    await http(`${w.url}${CHAT}`, { body: chat('Something else entirely') });
    const st = w.stats();
    const expected = Math.floor(`user: ${doc}Question `.length / 4);
    // The third shares only the role marker `user: ` (1 whole token), as a chat template's prefix is shared.
    expect(st.log.map((l) => l.cachedTokens)).toEqual([0, expected, 1]);
    expect(st.cacheHits).toBe(2);
    expect(st.cacheHitTokens).toBe(expected + 1);
    expect(st.prefillTokens).toBe(st.log.reduce((s, l) => s + l.promptTokens - l.cachedTokens, 0));
  });

  it('POST /sim/reset clears counters and the log', async () => {
    const w = await sim({ decodeTps: Infinity });
    await http(`${w.url}${CHAT}`, { body: chat('x') });
    expect((await http(`${w.url}/sim/reset`, { method: 'POST' })).status).toBe(200);
    const st = w.stats();
    expect(st).toMatchObject({ requests: 0, completed: 0, maxInFlight: 0, decodeTokens: 0, log: [] });
  });

  it('keeps only the last logLimit entries', async () => {
    const w = await sim({ decodeTps: Infinity, logLimit: 3 });
    for (let i = 0; i < 8; i++) await http(`${w.url}${CHAT}`, { body: chat(`x${i}`) });
    const st = w.stats();
    expect(st.requests).toBe(8);
    expect(st.log.map((l) => l.id)).toEqual([6, 7, 8]);
  });
});

describe('sim fleet', () => {
  it('starts several workers and prints the guide worker config', async () => {
    fleet = await startSimFleet([
      { slots: 5, type: 'lm_studio' },
      { slots: 2, speed: 0.5, models: ['m'] },
    ]);
    const cfg = fleet.workerConfig();
    expect(cfg.workers).toEqual([
      {
        id: 'sim-1',
        host: '127.0.0.1',
        port: fleet.workers[0]!.port,
        type: 'lm_studio',
        model: 'sim-model',
        max_concurrent_requests: 5,
      },
      {
        id: 'sim-2',
        host: '127.0.0.1',
        port: fleet.workers[1]!.port,
        type: 'openai',
        model: 'm',
        max_concurrent_requests: 2,
      },
    ]);
    expect(fleet.workers[0]!.port).not.toBe(fleet.workers[1]!.port);
    expect(fleet.workers[1]!.options.seed).toBe(2);
    const r = await http(`${fleet.workers[1]!.url}${CHAT}`, {
      body: chat('x', { model: 'm', max_tokens: 1 }),
    });
    expect(r.status).toBe(200);
  });

  it('refuses duplicate ids and closes what it started when one worker cannot start', async () => {
    await expect(startSimFleet([{ id: 'a' }, { id: 'a' }])).rejects.toThrow(/"a" is used twice/);
    const taken = await sim();
    await expect(startSimFleet([{ id: 'x' }, { id: 'y', port: taken.port }])).rejects.toThrow(/EADDRINUSE/);
  });
});
