import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.ts';
import type { Fleet } from '../../src/fleet/index.ts';
import type { SimWorkerOptions } from '../../src/sim/index.ts';
import { useSimFleet, type SimFleetOptions } from './sim-fleet.ts';

const REQ = { messages: [{ role: 'user' as const, content: 'What is 2 + 2?' }], max_tokens: 8 };

const startFleet = useSimFleet();
const start = (specs: SimWorkerOptions[], opts: SimFleetOptions = {}) =>
  startFleet(specs, { ...opts, settings: { max_retries: 3, ...opts.settings } });

async function closedLoop(
  f: Fleet,
  total: number,
  concurrency: number,
  onDone?: (n: number) => Promise<void> | void,
) {
  let next = 0;
  let done = 0;
  const results: Array<{ worker: string } | Error> = [];
  const caller = async () => {
    while (next < total) {
      next++;
      const r = await f.chat(REQ).catch((e: unknown) => e as Error);
      results.push(r);
      await onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return results;
}

const fast = (id: string, extra: Partial<SimWorkerOptions> = {}): SimWorkerOptions => ({
  id,
  slots: 2,
  fixedLatencyMs: 200,
  timeScale: 0.1,
  outputTokens: 4,
  ...extra,
});

describe('fleet over simulated workers', () => {
  it('a worker that dies mid-run costs retries, not results; it is marked down with the reason', async () => {
    const { sim, fleet } = await start([fast('w1'), fast('w2'), fast('w3')]);
    const results = await closedLoop(fleet, 60, 6, async (n) => {
      if (n === 20) await sim.workers[1]!.crash();
    });
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    const w2 = fleet.stats().workers[1]!;
    expect(w2.state).toBe('down');
    expect(w2.reason).toMatch(/refused|reset|closed|socket|connect/i);
    const after = results.slice(30).filter((r) => !(r instanceof Error) && r.worker === 'w2');
    expect(after).toHaveLength(0);
    for (const w of sim.workers) expect(w.stats().maxInFlight).toBeLessThanOrEqual(2);
  });

  it('a worker that returns 500s: every request still succeeds elsewhere and its circuit opens', async () => {
    const { sim, fleet } = await start([fast('ok1'), fast('bad', { faults: { errorRate: 1 } }), fast('ok2')]);
    const results = await closedLoop(fleet, 40, 4);
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    const bad = fleet.stats().workers[1]!;
    expect(bad.completed).toBe(0);
    expect(bad.failed).toBeGreaterThan(0);
    expect(bad.errors['FLEET_UPSTREAM_SERVER']).toBe(bad.failed);
    expect(bad.circuit).toBe('open');
    expect(sim.workers[1]!.stats().requests).toBeLessThanOrEqual(3);
  });

  it('a worker that hangs: the first-token timeout fires and the request is served elsewhere', async () => {
    const { sim, fleet } = await start([fast('hang', { faults: { hangRate: 1 } }), fast('ok')], {
      worker: { first_token_timeout: 0.3 },
    });
    const results = await closedLoop(fleet, 10, 2);
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    const hang = fleet.stats().workers[0]!;
    expect(hang.errors['FLEET_UPSTREAM_TIMEOUT']).toBeGreaterThan(0);
    // The hung requests were abandoned upstream: the simulator saw the client go.
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.workers[0]!.stats().inFlight).toBe(0);
  });

  it('a slow worker gets a smaller share, and the fleet still uses it', async () => {
    const { sim, fleet } = await start(
      [
        {
          id: 'quick',
          slots: 2,
          decodeTps: 100,
          prefillTps: Infinity,
          batchSlowdown: 0,
          outputTokens: 10,
          timeScale: 0.2,
        },
        {
          id: 'slow',
          slots: 2,
          decodeTps: 100,
          prefillTps: Infinity,
          batchSlowdown: 0,
          outputTokens: 10,
          timeScale: 0.2,
          speed: 0.25,
        },
      ],
      {},
    );
    const results = await closedLoop(fleet, 60, 4);
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    const by = (id: string) => results.filter((r) => !(r instanceof Error) && r.worker === id).length;
    expect(by('quick')).toBeGreaterThan(by('slow') * 2);
    expect(by('slow')).toBeGreaterThan(0);
    expect(sim.workers[1]!.stats().maxInFlight).toBeLessThanOrEqual(2);
  });
});

describe('slot accounting under random chaos (property test)', () => {
  it('thousands of random mixes of success, error, timeout, abort and stream cancellation leave nothing in flight and never exceed a cap', async () => {
    const caps = [3, 2, 4];
    const specs: SimWorkerOptions[] = caps.map((slots, i) => ({
      id: `c${i}`,
      slots,
      maxQueue: 100,
      decodeTps: 2000,
      prefillTps: Infinity,
      outputTokens: 6,
      timeScale: 1,
      seed: 10 + i,
      faults: { errorRate: 0.08, hangRate: 0.03, dropRate: 0.05, malformedRate: 0.04, slowFirstTokenMs: 0 },
    }));
    const { sim, fleet } = await start(specs, {
      settings: { max_retries: 2, circuit_breaker_threshold: 1000 },
      worker: { first_token_timeout: 0.15, stall_timeout: 0.15 },
    });
    const rnd = createRandom(42);
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const TOTAL = 2000;
    let next = 0;
    const caller = async () => {
      while (next < TOTAL) {
        next++;
        const roll = rnd.next();
        const ac = new AbortController();
        if (roll < 0.1) setTimeout(() => ac.abort(), Math.floor(rnd.next() * 20));
        try {
          if (roll >= 0.1 && roll < 0.5) {
            const s = fleet.chatStream(REQ, { signal: ac.signal });
            const cancelAfter = rnd.next() < 0.25 ? 1 : Infinity;
            let n = 0;
            for await (const _c of s) if (++n >= cancelAfter) break;
            count(n >= cancelAfter ? 'stream-cancelled' : 'stream-ok');
          } else {
            await fleet.chat(REQ, { signal: ac.signal });
            count('ok');
          }
        } catch (e) {
          count((e as { code?: string }).code ?? 'other');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, caller));
    await new Promise((r) => setTimeout(r, fleet.abandonSettleMs * 2));
    const st = fleet.stats();
    expect(st.totals.inFlight).toBe(0);
    expect(st.queue.depth).toBe(0);
    for (const w of st.workers) expect(w.maxInFlight).toBeLessThanOrEqual(w.cap);
    // Ground truth from the simulators: never more than the cap in flight on any of them.
    for (const [i, w] of sim.workers.entries()) expect(w.stats().maxInFlight).toBeLessThanOrEqual(caps[i]!);
    // Every abandoned upstream request is eventually seen closed by the simulator.
    await new Promise((r) => setTimeout(r, 300));
    for (const w of sim.workers) expect(w.stats().inFlight).toBe(0);
    expect(outcomes.get('ok')! + outcomes.get('stream-ok')!).toBeGreaterThan(TOTAL / 2);
    expect(outcomes.get('FLEET_ABORTED') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('stream-cancelled') ?? 0).toBeGreaterThan(0);
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(TOTAL);
  }, 120_000);
});
