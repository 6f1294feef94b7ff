import { afterEach, describe, expect, it } from 'vitest';
import { CHAT, closeAll, post, sim, sleep, startFleetGateway, until } from './helpers.ts';

afterEach(closeAll);

const STREAM = { ...CHAT, stream: true, max_tokens: undefined };

describe('streaming through the gateway', () => {
  it('passes chunks through as they arrive, with the worker header and no buffering headers', async () => {
    const { gw } = await startFleetGateway([sim('a', { outputTokens: 20, decodeTps: 25, timeScale: 1 })]);
    const t0 = Date.now();
    const r = await post(`${gw.url}/v1/chat/completions`, STREAM);
    expect(r.headers.get('x-fleet-worker')).toBe('a');
    expect(r.headers.get('x-accel-buffering')).toBe('no');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const arrivals: number[] = [];
    let body = '';
    const dec = new TextDecoder();
    for await (const part of r.body! as AsyncIterable<Uint8Array>) {
      arrivals.push(Date.now() - t0);
      body += dec.decode(part);
    }
    const total = arrivals.at(-1)!;
    // 20 tokens at 25 tok/s take ~800 ms; the first reached us long before the end.
    expect(total).toBeGreaterThan(500);
    expect(arrivals[0]!).toBeLessThan(total * 0.6);
    expect(arrivals.length).toBeGreaterThanOrEqual(5);
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('a client that disconnects aborts the upstream request and frees the slot', async () => {
    const { gw, sim: s } = await startFleetGateway([
      sim('a', { outputTokens: 400, decodeTps: 20, timeScale: 1 }),
    ]);
    const ac = new AbortController();
    const r = await post(`${gw.url}/v1/chat/completions`, STREAM, {}).catch(() => undefined);
    void r?.body?.cancel();
    // The same again, this time aborting through a signal once the first chunk has arrived.
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(STREAM),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const w = s.workers[0]!;
    await until(() => w.stats().log.filter((l) => l.outcome === 'aborted').length === 2);
    await until(() => gw.fleet.stats().workers[0]!.inFlight === 0);
    expect(w.stats().inFlight).toBe(0);
    const recent = gw.fleet.stats().workers[0]!;
    expect(recent.errors['FLEET_ABORTED']).toBe(2);
    // The slot is free: the next request is served at once.
    const next = await post(`${gw.url}/v1/chat/completions`, { ...CHAT, max_tokens: 2 });
    expect(next.status).toBe(200);
  });

  it('a client that leaves a non-streamed request aborts it upstream and frees the slot', async () => {
    const { gw, sim: s } = await startFleetGateway([
      sim('a', { slots: 1, outputTokens: 400, decodeTps: 20, timeScale: 1 }),
    ]);
    const w = s.workers[0]!;
    const ac = new AbortController();
    const left = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CHAT, max_tokens: undefined }),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await until(() => w.stats().running > 0);
    ac.abort();
    expect(await left).toBeInstanceOf(Error);
    await until(() => w.stats().log.some((l) => l.outcome === 'aborted'));
    await until(() => gw.fleet.stats().workers[0]!.inFlight === 0);
    expect(gw.fleet.stats().workers[0]!.errors['FLEET_ABORTED']).toBe(1);
    const next = await post(`${gw.url}/v1/chat/completions`, { ...CHAT, max_tokens: 2 });
    expect(next.status).toBe(200);
  });

  it('sends keep-alive comments during a long prefill (headers go out before the worker is known)', async () => {
    // ~20 prompt tokens at 30 tokens/s: the first token comes after ~0.6 s.
    const { gw } = await startFleetGateway([sim('a', { prefillTps: 30, timeScale: 1, outputTokens: 3 })], {
      gateway: { keepAliveMs: 100 },
    });
    const r = await post(`${gw.url}/v1/chat/completions`, {
      ...STREAM,
      messages: [{ role: 'user', content: 'a long document '.repeat(5) }],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fleet-worker')).toBeNull();
    const body = await r.text();
    expect(body.startsWith(': keep-alive\n\n')).toBe(true);
    expect(body.match(/: keep-alive/g)!.length).toBeGreaterThanOrEqual(3);
    expect(body).toContain('"content"');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('an error before the first chunk is a real status; after it, an in-band error event', async () => {
    const { gw } = await startFleetGateway(
      [sim('a', { faults: { midStreamErrorRate: 1 }, outputTokens: 10 })],
      {
        settings: { max_retries: 0 },
      },
    );
    const bad = await post(`${gw.url}/v1/chat/completions`, { ...STREAM, model: 'nope' });
    expect(bad.status).toBe(404);
    const r = await post(`${gw.url}/v1/chat/completions`, STREAM);
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body).toMatch(/data: \{"error":\{"message":".+","type":"upstream_error"/);
  });

  it('affinity: turns of one conversation, or one x-fleet-affinity key, stay on one worker', async () => {
    const { gw } = await startFleetGateway([sim('a'), sim('b'), sim('c')]);
    const workers = new Set<string | null>();
    for (let i = 0; i < 6; i++) {
      const r = await post(`${gw.url}/v1/chat/completions`, {
        messages: [
          { role: 'system', content: 'You summarise papers.' },
          { role: 'user', content: 'Paper text ...' },
          { role: 'assistant', content: 'Summary ...' },
          { role: 'user', content: `Question ${i}` },
        ],
        max_tokens: 2,
      });
      workers.add(r.headers.get('x-fleet-worker'));
    }
    expect(workers.size).toBe(1);
    const keyed = new Set<string | null>();
    for (let i = 0; i < 6; i++) {
      const r = await post(
        `${gw.url}/v1/chat/completions`,
        { ...CHAT, max_tokens: 2 },
        { 'x-fleet-affinity': 'doc-7' },
      );
      keyed.add(r.headers.get('x-fleet-worker'));
      await sleep(1);
    }
    expect(keyed.size).toBe(1);
  });
});
