import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { FleetError } from '../../src/core/errors.ts';
import { createRandom } from '../../src/core/random.ts';
import { Fleet } from '../../src/fleet/fleet.ts';
import { createFleet } from '../../src/fleet/index.ts';
import { startSimFleet, type SimFleet, type SimWorkerOptions } from '../../src/sim/index.ts';
import type { RequestEndEvent } from '../../src/fleet/types.ts';
import { hello, ScriptedBackend, settings, worker } from './helpers.ts';

/** A fast and a slow worker with one slot each; answers after `fastMs` / `slowMs` of fake time. */
function makeFleet(opts: { hedge?: boolean; fastMs?: number; slowMs?: number } = {}) {
  const backends = new Map<string, ScriptedBackend>();
  const fleet = new Fleet(
    {
      workers: [worker('fast', { maxConcurrentRequests: 1 }), worker('slow', { maxConcurrentRequests: 1 })],
      settings: settings({ maxRetries: 1 }),
    },
    {
      random: createRandom(1),
      probe: false,
      ...(opts.hedge === undefined ? {} : { hedge: opts.hedge }),
      createBackend: (w) => {
        const b = new ScriptedBackend(w.id);
        backends.set(w.id, b);
        return b;
      },
    },
  );
  const b = (id: string) => backends.get(id)!;
  const after = (ms: number, text: string) => () => new Promise<string>((r) => setTimeout(() => r(text), ms));
  b('fast').auto = after(opts.fastMs ?? 100, 'from fast');
  b('slow').auto = after(opts.slowMs ?? 400, 'from slow');
  const ends: RequestEndEvent[] = [];
  fleet.on('request:end', (e) => ends.push(e));
  return { fleet, b, after, ends };
}

/** Two requests at once (one per slot) until both workers' speeds are learned. */
async function learn(fleet: Fleet): Promise<void> {
  const both = [fleet.chat(hello), fleet.chat(hello)];
  await vi.advanceTimersByTimeAsync(1000);
  const workers = (await Promise.all(both)).map((r) => r.worker).sort();
  expect(workers).toEqual(['fast', 'slow']);
}

function text(r: Awaited<ReturnType<Fleet['chat']>>): string | null | undefined {
  return r.response.choices[0]?.message.content;
}

const REQ = { messages: [{ role: 'user' as const, content: 'What is 2 + 2?' }], max_tokens: 10 };

afterEach(() => {
  vi.useRealTimers();
});

describe('tail hedges', () => {
  it('an idle fast worker takes over a request the slow one is still on; the slow attempt is cancelled', async () => {
    vi.useFakeTimers();
    const { fleet, b, ends } = makeFleet();
    await learn(fleet);
    ends.length = 0;
    const [first, second] = [fleet.chat(hello), fleet.chat(hello)];
    const r1 = await vi.advanceTimersByTimeAsync(1000).then(() => first);
    const r2 = await second;
    expect(r1.worker).toBe('fast');
    // The second went to the slow worker (the fast one was busy), was hedged on the fast one
    // 10 ms after it freed, and the fast answer came back at 100 + 10 + 100 ms.
    expect(r2.worker).toBe('fast');
    expect(text(r2)).toBe('from fast');
    expect(r2.latencyMs).toBe(210);
    const slowCall = b('slow').calls.at(-1)!;
    expect(slowCall.signal?.aborted).toBe(true);
    expect(ends.map((e) => `${e.worker}:${e.ok ? 'ok' : e.error}`).sort()).toEqual([
      'fast:ok',
      'fast:ok',
      'slow:FLEET_ABORTED',
    ]);
    // The lost race is marked cancelled, and the winning copy as a hedge.
    expect(ends.find((e) => e.worker === 'slow')).toMatchObject({ cancelled: true, ok: false });
    expect(ends.filter((e) => e.hedge === true).map((e) => `${e.worker}:${e.ok}`)).toEqual(['fast:true']);
    const st = fleet.stats();
    expect(st.totals.inFlight).toBe(0);
    expect(st.totals).toMatchObject({ hedges: 1, hedgeWins: 1, cancelled: 1, failed: 0 });
    expect(st.workers.find((w) => w.id === 'slow')).toMatchObject({ cancelled: 1, failed: 0, hedges: 0 });
    // Every attempt started ends exactly one way.
    for (const w of st.workers) expect(w.started).toBe(w.completed + w.failed + w.cancelled);
    for (const w of st.workers) expect(w.maxInFlight).toBeLessThanOrEqual(1);
    // A lost race is not the slow worker's failure.
    expect(st.workers.find((w) => w.id === 'slow')!.failed).toBe(0);
    expect(fleet.workers.find((w) => w.id === 'fast')!.hedgeWins).toBe(1);
    expect(b('fast').maxInFlight).toBe(1);
    await fleet.close();
  });

  it('when the primary answers first the hedge is cancelled and its slot freed', async () => {
    vi.useFakeTimers();
    const { fleet, b, after } = makeFleet();
    await learn(fleet);
    // The slow worker turns out quicker than learned this time: 150 ms, while the hedge needs until 210.
    b('slow').auto = after(150, 'from slow');
    const [first, second] = [fleet.chat(hello), fleet.chat(hello)];
    await vi.advanceTimersByTimeAsync(1000);
    expect((await first).worker).toBe('fast');
    const r2 = await second;
    expect(r2.worker).toBe('slow');
    expect(text(r2)).toBe('from slow');
    const hedge = b('fast').calls.at(-1)!;
    expect(hedge.signal?.aborted).toBe(true);
    expect(fleet.workers.find((w) => w.id === 'fast')!.hedges).toBe(1);
    expect(fleet.stats().totals.inFlight).toBe(0);
    expect(fleet.stats().workers.find((w) => w.id === 'fast')).toMatchObject({
      failed: 0,
      cancelled: 1,
      hedges: 1,
      hedgeWins: 0,
    });
    await fleet.close();
  });

  it('a request that has to queue preempts a running hedge and gets its slot', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet();
    await learn(fleet);
    const [first, second] = [fleet.chat(hello), fleet.chat(hello)];
    await vi.advanceTimersByTimeAsync(120); // fast answered at 100, hedged the slow request at 110
    expect((await first).worker).toBe('fast');
    expect(fleet.workers.find((w) => w.id === 'fast')!.hedges).toBe(1);
    const third = fleet.chat(hello); // both slots taken: it queues and preempts the hedge
    await vi.advanceTimersByTimeAsync(1000);
    const [r2, r3] = await Promise.all([second, third]);
    expect(r2.worker).toBe('slow');
    expect(r3.worker).toBe('fast');
    // The preempted hedge's slot was given up after the settle time, then the third ran (100 ms).
    expect(r3.latencyMs).toBeGreaterThanOrEqual(100 + fleet.abandonSettleMs);
    expect(r3.latencyMs).toBeLessThan(400);
    expect(b('fast').maxInFlight).toBe(1);
    expect(fleet.stats().totals.inFlight).toBe(0);
    await fleet.close();
  });

  it('when the primary fails while the hedge runs, the hedge answers; when both fail, the retry loop decides', async () => {
    vi.useFakeTimers();
    const { fleet, b, after } = makeFleet();
    await learn(fleet);
    const boom = () =>
      new Promise<string>((_, reject) =>
        setTimeout(() => reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom', { status: 500 })), 150),
      );
    b('slow').auto = boom;
    const [first, second] = [fleet.chat(hello), fleet.chat(hello)];
    await vi.advanceTimersByTimeAsync(1000);
    expect((await first).worker).toBe('fast');
    const r2 = await second;
    expect(r2.worker).toBe('fast');
    expect(r2.attempts).toBe(1);
    expect(fleet.stats().workers.find((w) => w.id === 'slow')!.errors).toEqual({ FLEET_UPSTREAM_SERVER: 1 });

    // Both fail: the primary's error goes to the retry loop, which retries it (max_retries 1).
    let fastCalls = 0;
    b('fast').auto = () => (++fastCalls === 2 ? boom() : after(100, 'from fast')());
    const [third, fourth] = [fleet.chat(hello), fleet.chat(hello)];
    await vi.advanceTimersByTimeAsync(3000);
    expect((await third).worker).toBe('fast');
    const r4 = await fourth;
    expect(r4.attempts).toBe(2);
    expect(r4.worker).toBe('fast');
    expect(fleet.stats().totals.inFlight).toBe(0);
    await fleet.close();
  });

  it('is off with hedge: false: the slow worker keeps its request', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet({ hedge: false });
    await learn(fleet);
    const [first, second] = [fleet.chat(hello), fleet.chat(hello)];
    await vi.advanceTimersByTimeAsync(1000);
    expect((await first).worker).toBe('fast');
    const r2 = await second;
    expect(r2.worker).toBe('slow');
    expect(r2.latencyMs).toBe(400);
    expect(b('fast').calls).toHaveLength(2);
    await fleet.close();
  });

  it('never hedges between workers of the same speed', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet({ slowMs: 100 });
    await learn(fleet);
    for (let i = 0; i < 3; i++) {
      // Staggered: the second starts 50 ms later, so one worker sits idle while the other still
      // has 40 ms to go: a fresh start there (100 ms) would not be sooner.
      const x = fleet.chat(hello);
      await vi.advanceTimersByTimeAsync(50);
      const y = fleet.chat(hello);
      await vi.advanceTimersByTimeAsync(1000);
      await Promise.all([x, y]);
    }
    expect(fleet.workers.every((w) => w.hedges === 0)).toBe(true);
    expect(b('fast').calls.length + b('slow').calls.length).toBe(8);
    await fleet.close();
  });
});

describe('tail hedges over simulated workers', () => {
  let sim: SimFleet | undefined;
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    await sim?.close();
    fleet = sim = undefined;
  });

  const spec = (id: string, speed: number, seed: number): SimWorkerOptions => ({
    id,
    slots: 2,
    decodeTps: 100,
    prefillTps: Infinity,
    batchSlowdown: 0,
    outputTokens: 10,
    timeScale: 0.2, // 20 ms per request at speed 1, 100 ms at speed 0.2
    speed,
    seed,
    faults: { errorRate: 0.05, dropRate: 0.05 },
  });

  it('random mixes with hedges, faults and aborts leave nothing in flight and never exceed a cap', async () => {
    sim = await startSimFleet([spec('quick', 1, 1), spec('slow', 0.2, 2)]);
    const config = parseConfig(
      { workers: sim.workerConfig().workers, settings: { max_retries: 2, circuit_breaker_threshold: 1000 } },
      { file: 'test' },
    );
    const f = (fleet = createFleet(config, { probe: false, random: createRandom(3) }));
    const rnd = createRandom(7);
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const TOTAL = 400;
    let next = 0;
    // Three callers on four slots: the quick worker is often idle while the slow one still works.
    const caller = async () => {
      while (next < TOTAL) {
        next++;
        const ac = new AbortController();
        if (rnd.next() < 0.1) setTimeout(() => ac.abort(), Math.floor(rnd.next() * 60));
        try {
          await f.chat(REQ, { signal: ac.signal });
          count('ok');
        } catch (e) {
          count((e as { code?: string }).code ?? 'other');
        }
      }
    };
    await Promise.all(Array.from({ length: 3 }, caller));
    await new Promise((r) => setTimeout(r, f.abandonSettleMs * 2));
    const st = f.stats();
    expect(st.totals.inFlight).toBe(0);
    expect(st.queue.depth).toBe(0);
    for (const w of st.workers) expect(w.maxInFlight).toBeLessThanOrEqual(w.cap);
    for (const w of sim.workers) expect(w.stats().maxInFlight).toBeLessThanOrEqual(2);
    const quick = f.workers.find((w) => w.id === 'quick')!;
    expect(quick.hedges).toBeGreaterThan(0);
    expect(quick.hedgeWins).toBeGreaterThan(0);
    // Every attempt started ended one way: answered, failed (caller aborts among them) or cancelled.
    for (const w of st.workers) expect(w.started).toBe(w.completed + w.failed + w.cancelled);
    expect(st.totals.cancelled).toBeGreaterThan(0);
    expect(st.totals.hedges).toBe(st.workers.reduce((n, w) => n + w.hedges, 0));
    // The simulators saw every cancelled attempt go.
    await new Promise((r) => setTimeout(r, 300));
    for (const w of sim.workers) expect(w.stats().inFlight).toBe(0);
    expect(sim.workers[1]!.stats().log.some((e) => e.outcome === 'aborted')).toBe(true);
    expect(outcomes.get('ok')!).toBeGreaterThan(TOTAL * 0.8);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
  }, 60_000);

  it('the last request on a slow worker finishes about when the fast worker could have done it', async () => {
    const quiet = (id: string, speed: number): SimWorkerOptions => ({
      ...spec(id, speed, 1),
      slots: 1,
      timeScale: 1, // 100 ms at speed 1, 500 ms at speed 0.2
      faults: {},
    });
    sim = await startSimFleet([quiet('quick', 1), quiet('slow', 0.2)]);
    const config = parseConfig({ workers: sim.workerConfig().workers }, { file: 'test' });
    const f = (fleet = createFleet(config, { probe: false, random: createRandom(1) }));
    for (let i = 0; i < 2; i++) await Promise.all([f.chat(REQ), f.chat(REQ)]); // learn both speeds
    const t0 = performance.now();
    const [a, b] = await Promise.all([f.chat(REQ), f.chat(REQ)]);
    const elapsed = performance.now() - t0;
    expect(a.worker).toBe('quick');
    expect(b.worker).toBe('quick');
    // Without the hedge: 500 ms on the slow worker; with it: 100 + 10 + 100 ms plus HTTP.
    expect(elapsed).toBeLessThan(400);
    expect(sim.workers[1]!.stats().log.at(-1)!.outcome).toBe('aborted');
  }, 30_000);
});
