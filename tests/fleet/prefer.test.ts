import { describe, expect, it } from 'vitest';
import type { RequestOptions } from '../../src/fleet/index.ts';
import type { SimWorkerOptions } from '../../src/sim/index.ts';
import { useSimFleet } from './sim-fleet.ts';

// RequestOptions.preferWorker over real simulated workers on port 0.

const ask = (text: string) => ({ messages: [{ role: 'user' as const, content: text }], max_tokens: 4 });

const startFleet = useSimFleet();
const start = (specs: SimWorkerOptions[]) => startFleet(specs, { settings: { max_retries: 2 } });

/** One slot each, every request the same fixed model time (ms) on that worker. */
const w = (id: string, fixedLatencyMs: number, extra: Partial<SimWorkerOptions> = {}): SimWorkerOptions => ({
  id,
  slots: 1,
  fixedLatencyMs,
  outputTokens: 2,
  ...extra,
});

describe('preferWorker', () => {
  it('runs a request on the named worker while it has a free slot, ahead of the affinity key', async () => {
    const { sim, fleet } = await start([
      w('w1', 20, { slots: 2 }),
      w('w2', 20, { slots: 2 }),
      w('w3', 20, { slots: 2 }),
    ]);
    // Sequential calls: every worker is free each time, so only the option decides.
    const served: string[] = [];
    for (const prefer of ['w3', 'w1', 'w3', 'w2', 'w3']) {
      const r = await fleet.chat(ask(`to ${prefer}`), { preferWorker: prefer });
      served.push(r.worker);
    }
    expect(served).toEqual(['w3', 'w1', 'w3', 'w2', 'w3']);

    // The key binds to w1; naming w2 wins over it, and the key then follows the request to w2.
    const key: RequestOptions = { affinityKey: 'doc-1' };
    expect((await fleet.chat(ask('bind'), { ...key, preferWorker: 'w1' })).worker).toBe('w1');
    expect((await fleet.chat(ask('key only'), key)).worker).toBe('w1');
    expect((await fleet.chat(ask('named'), { ...key, preferWorker: 'w2' })).worker).toBe('w2');
    expect((await fleet.chat(ask('key again'), key)).worker).toBe('w2');

    // Streams honour it too.
    const stream = fleet.chatStream(ask('stream'), { preferWorker: 'w1' });
    for await (const chunk of stream) void chunk;
    expect((await stream.meta).worker).toBe('w1');

    const counts = sim.workers.map((x) => x.stats().requests);
    expect(counts).toEqual([4, 3, 3]);
  });

  it('ignores a worker that does not exist or is down, and one that failed this request', async () => {
    const { sim, fleet } = await start([w('w1', 20), w('w2', 20, { faults: { errorRate: 1 } })]);
    expect((await fleet.chat(ask('unknown'), { preferWorker: 'nope' })).worker).toBe('w1');
    // w2 answers 500: the retry goes to w1 although the request names w2.
    const r = await fleet.chat(ask('retried'), { preferWorker: 'w2' });
    expect(r.worker).toBe('w1');
    expect(r.attempts).toBe(2);
    await sim.workers[1]!.crash();
    // w2 is down (connection refused): the request is served by w1 and counts one failed attempt at most.
    const again = await fleet.chat(ask('down'), { preferWorker: 'w2' });
    expect(again.worker).toBe('w1');
    expect(sim.workers[0]!.stats().completed).toBe(3);
  });

  it('when every worker is busy, the request waits bound to the named worker; other slots take other work first', async () => {
    // w1 frees at 400 ms, w2 at 600 ms (and w1 is busy again until 800 ms).
    const { fleet } = await start([w('w1', 400), w('w2', 600)]);
    const busy = [
      fleet.chat(ask('busy 1'), { preferWorker: 'w1' }),
      fleet.chat(ask('busy 2'), { preferWorker: 'w2' }),
    ];
    // Both queue: first one naming w2, then an unbound one.
    const named = fleet.chat(ask('named'), { preferWorker: 'w2' });
    const unbound = fleet.chat(ask('unbound'));
    const [n, u] = await Promise.all([named, unbound, ...busy]);
    // w1 freed first and took the younger unbound request, leaving the older one for w2.
    expect(u.worker).toBe('w1');
    expect(n.worker).toBe('w2');
    expect(u.queuedMs).toBeLessThan(n.queuedMs);
  });

  it('does not hold a request for a busy named worker: a slot that would idle takes it', async () => {
    const { fleet } = await start([w('w1', 300), w('w2', 2500)]);
    const busy = [
      fleet.chat(ask('busy 1'), { preferWorker: 'w1' }),
      fleet.chat(ask('busy 2'), { preferWorker: 'w2' }),
    ];
    const named = fleet.chat(ask('named'), { preferWorker: 'w2' });
    const unbound = fleet.chat(ask('unbound'));
    const [n, u] = await Promise.all([named, unbound]);
    // w1 frees first: it takes the unbound request before the older one bound to w2, then that
    // one too rather than idle while w2 is busy for seconds.
    expect(u.worker).toBe('w1');
    expect(n.worker).toBe('w1');
    expect(u.queuedMs).toBeLessThan(n.queuedMs);
    // Asked while w1 is free, a request naming busy w2 goes to w1 at once.
    const direct = await fleet.chat(ask('direct'), { preferWorker: 'w2' });
    expect(direct.worker).toBe('w1');
    expect(direct.queuedMs).toBeLessThan(100);
    await Promise.all(busy);
  });
});
