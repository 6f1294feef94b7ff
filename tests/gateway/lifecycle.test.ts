import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type FleetConfig } from '../../src/config/index.ts';
import { parseSse } from '../../src/core/sse.ts';
import type { LiveSnapshot } from '../../src/gateway/index.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/index.ts';
import { CHAT, closeAll, post, sim, startFleetGateway, until } from './helpers.ts';

let extra: SimFleet | undefined;
afterEach(async () => {
  await closeAll();
  await extra?.close();
  extra = undefined;
});

describe('reload, drain and the live event stream', () => {
  it("a reload replaces the config's client keys and CORS origins; the options' stay", async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a')], { gateway: { apiKeys: ['ops-key'] } });
    const withGateway = (gateway: Record<string, unknown>) =>
      parseConfig({ ...s.workerConfig(), gateway }, { file: 'next.json' });
    const status = async (key: string) =>
      (await post(`${gw.url}/v1/chat/completions`, CHAT, { authorization: `Bearer ${key}` })).status;
    expect([await status('ops-key'), await status('team-1')]).toEqual([200, 401]);

    await gw.reload(withGateway({ api_keys: ['team-1'], cors_origins: ['http://localhost:3000'] }));
    expect([await status('ops-key'), await status('team-1'), await status('team-2')]).toEqual([
      200, 200, 401,
    ]);
    const cors = await fetch(`${gw.url}/health`, { headers: { origin: 'http://localhost:3000' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');

    // A rotated key: the old one stops working at once, without a restart.
    await gw.reload(withGateway({ api_keys: ['team-2'] }));
    expect([await status('ops-key'), await status('team-1'), await status('team-2')]).toEqual([
      200, 401, 200,
    ]);
    const after = await fetch(`${gw.url}/health`, { headers: { origin: 'http://localhost:3000' } });
    expect(after.headers.get('access-control-allow-origin')).toBeNull();

    // A bad origin refuses the whole reload: the keys stay as they were.
    await expect(
      gw.reload(withGateway({ api_keys: ['team-3'], cors_origins: ['localhost'] })),
    ).rejects.toThrow(/CORS origin "localhost"/);
    expect([await status('team-2'), await status('team-3')]).toEqual([200, 401]);
  });

  it('POST /fleet/reload: an added worker joins, a removed one drains while its stream finishes', async () => {
    extra = await startSimFleet([sim('b')]);
    const holder: { next?: FleetConfig } = {};
    const { gw, sim: s } = await startFleetGateway(
      [sim('a', { outputTokens: 30, decodeTps: 50, timeScale: 1 })],
      {
        gateway: { loadConfig: () => Promise.resolve(holder.next!) },
      },
    );
    const running = post(`${gw.url}/v1/chat/completions`, { ...CHAT, max_tokens: undefined, stream: true });
    await until(() => s.workers[0]!.stats().inFlight === 1);
    holder.next = parseConfig(extra.workerConfig(), { file: 'next.json' });
    const r = await post(`${gw.url}/fleet/reload`, {});
    expect(await r.json()).toEqual({ ok: true, added: ['b'], changed: [], removed: ['a'], unchanged: [] });
    const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as {
      data: Array<{ workers: string[] }>;
    };
    expect(models.data[0]!.workers).toEqual(['b']);
    const after = await post(`${gw.url}/v1/chat/completions`, CHAT);
    expect(after.headers.get('x-fleet-worker')).toBe('b');
    const res = await running;
    const body = await res.text();
    expect(res.headers.get('x-fleet-worker')).toBe('a');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(s.workers[0]!.stats().log[0]!.outcome).toBe('ok');
  });

  it('reload problems are 400s and leave the fleet as it was', async () => {
    const { gw } = await startFleetGateway([sim('a')], {
      gateway: { loadConfig: () => Promise.reject(new Error('workers[0].port: expected an integer')) },
    });
    const r = await post(`${gw.url}/fleet/reload`, {});
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('workers[0].port');
    expect(gw.fleet.workers.map((w) => w.id)).toEqual(['a']);
  });

  it('drain: in-flight requests finish, new ones are refused, then it closes', async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a', { fixedLatencyMs: 400, timeScale: 1 })]);
    const inflight = post(`${gw.url}/v1/chat/completions`, CHAT);
    await until(() => s.workers[0]!.stats().inFlight === 1);
    const drained = gw.drain();
    const ready = await fetch(`${gw.url}/ready`).catch(() => undefined);
    if (ready) expect(ready.status).toBe(503);
    const refused = await post(`${gw.url}/v1/chat/completions`, CHAT).catch(() => undefined);
    if (refused) expect(refused.status).toBe(503);
    const r = await inflight;
    expect(r.status).toBe(200);
    await drained;
    expect(s.workers[0]!.stats().completed).toBe(1);
  });

  it('/fleet/events streams snapshots with every worker, rates and recent requests', async () => {
    const { gw } = await startFleetGateway([sim('a'), sim('b')], { gateway: { eventsIntervalMs: 100 } });
    const res = await fetch(`${gw.url}/fleet/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(res.body! as AsyncIterable<Uint8Array>);
    const first = await events.next();
    const snap0 = JSON.parse(String(first.value!.data)) as LiveSnapshot;
    expect(first.value!.event).toBe('stats');
    expect(snap0.workers.map((w) => w.id)).toEqual(['a', 'b']);
    for (let i = 0; i < 4; i++) await post(`${gw.url}/v1/chat/completions`, CHAT);
    const recent: LiveSnapshot['recent'] = [];
    let moved = false;
    for await (const e of events) {
      const s = JSON.parse(e.data) as LiveSnapshot;
      recent.push(...s.recent);
      if (s.totals.reqPerSec > 0) moved = true;
      if (recent.length >= 4 && moved) break;
    }
    expect(recent.slice(0, 4).map((r) => [r.path, r.status])).toEqual(
      Array.from({ length: 4 }, () => ['/v1/chat/completions', 200]),
    );
    expect(recent.every((r) => r.worker === 'a' || r.worker === 'b')).toBe(true);
    await res.body!.cancel().catch(() => undefined);
    await until(() => gw.fleet.listenerCount('worker:state') === 0);
  });
});
