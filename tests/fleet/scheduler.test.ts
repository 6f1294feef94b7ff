import { afterEach, describe, expect, it, vi } from 'vitest';
import { FleetError, isFleetError } from '../../src/core/errors.ts';
import { createRandom } from '../../src/core/random.ts';
import { Fleet } from '../../src/fleet/fleet.ts';
import type { WorkerConfig } from '../../src/config/types.ts';
import { flush, hello, ScriptedBackend, settings, worker } from './helpers.ts';

function makeFleet(workers: WorkerConfig[], over: Parameters<typeof settings>[0] = {}, seed = 1) {
  const backends = new Map<string, ScriptedBackend>();
  const fleet = new Fleet(
    { workers, settings: settings(over) },
    {
      random: createRandom(seed),
      probe: false,
      createBackend: (w) => {
        const b = new ScriptedBackend(w.id);
        backends.set(w.id, b);
        return b;
      },
    },
  );
  return { fleet, b: (id: string) => backends.get(id)! };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('late binding and caps', () => {
  it('never puts more than a worker cap in flight, and queued work goes to whichever slot frees', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 2 }),
      worker('b', { maxConcurrentRequests: 1 }),
    ]);
    const results = Array.from({ length: 6 }, () => fleet.chat(hello));
    await flush();
    expect(b('a').inFlight).toBe(2);
    expect(b('b').inFlight).toBe(1);
    expect(fleet.stats().queue.depth).toBe(3);
    // b frees its slot three times: the queue drains onto b while a stays busy.
    for (let i = 0; i < 3; i++) {
      b('b').open()[0]!.resolve('from b');
      await flush();
    }
    expect(b('b').calls).toHaveLength(4);
    expect(fleet.stats().queue.depth).toBe(0);
    for (const c of b('a').open()) c.resolve('from a');
    b('b').open()[0]!.resolve('from b');
    const done = await Promise.all(results);
    expect(done.filter((r) => r.worker === 'b')).toHaveLength(4);
    expect(b('a').maxInFlight).toBe(2);
    expect(b('b').maxInFlight).toBe(1);
    const st = fleet.stats();
    expect(st.totals.inFlight).toBe(0);
    expect(st.totals.completed).toBe(6);
    expect(st.workers.find((w) => w.id === 'a')!.maxInFlight).toBe(2);
    await fleet.close();
  });

  it('serves interactive requests before batch ones, FIFO inside a class', async () => {
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })]);
    const order: string[] = [];
    const first = fleet.chat(hello);
    await flush();
    const batch1 = fleet.chat(
      { ...hello, messages: [{ role: 'user', content: 'batch1' }] },
      { priority: 'batch' },
    );
    const batch2 = fleet.chat(
      { ...hello, messages: [{ role: 'user', content: 'batch2' }] },
      { priority: 'batch' },
    );
    const inter = fleet.chat({ ...hello, messages: [{ role: 'user', content: 'inter' }] });
    await flush();
    for (let i = 0; i < 4; i++) {
      const c = b('a').open()[0]!;
      order.push(c.req.messages[0]!.content as string);
      c.resolve();
      await flush();
    }
    await Promise.all([first, batch1, batch2, inter]);
    expect(order).toEqual(['hello', 'inter', 'batch1', 'batch2']);
    await fleet.close();
  });

  it('refuses with FLEET_QUEUE_FULL past max_queue_size, and FLEET_QUEUE_TIMEOUT after queue_timeout', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })], {
      maxQueueSize: 2,
      queueTimeout: 5,
    });
    const running = fleet.chat(hello);
    const q1 = fleet.chat(hello);
    const q2 = fleet.chat(hello);
    const errs = [q1.catch((e: unknown) => e), q2.catch((e: unknown) => e)];
    await expect(fleet.chat(hello)).rejects.toMatchObject({ code: 'FLEET_QUEUE_FULL' });
    await vi.advanceTimersByTimeAsync(5001);
    const [e1, e2] = await Promise.all(errs);
    expect(isFleetError(e1, 'FLEET_QUEUE_TIMEOUT')).toBe(true);
    expect(isFleetError(e2, 'FLEET_QUEUE_TIMEOUT')).toBe(true);
    expect((e1 as FleetError).message).toMatch(/queue/);
    b('a').open()[0]!.resolve();
    await expect(running).resolves.toMatchObject({ worker: 'a' });
    expect(fleet.stats().queue.depth).toBe(0);
    await fleet.close();
  });

  it('frees the slot at once when the caller aborts, queued or running', async () => {
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })]);
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const running = fleet.chat(hello, { signal: ac1.signal });
    const queued = fleet.chat(hello, { signal: ac2.signal });
    await flush();
    ac2.abort();
    await expect(queued).rejects.toMatchObject({ code: 'FLEET_ABORTED' });
    ac1.abort();
    await expect(running).rejects.toMatchObject({ code: 'FLEET_ABORTED' });
    expect(b('a').calls[0]!.signal!.aborted).toBe(true);
    // The caller is answered at once; the slot returns after the settle time (the server's view).
    expect(fleet.stats().totals.inFlight).toBe(1);
    await new Promise((r) => setTimeout(r, fleet.abandonSettleMs + 5));
    expect(fleet.stats().totals.inFlight).toBe(0);
    const next = fleet.chat(hello);
    await flush();
    b('a').open()[0]!.resolve();
    await expect(next).resolves.toMatchObject({ worker: 'a', attempts: 1 });
    await fleet.close();
  });
});

describe('choice of worker', () => {
  it('sends a model only to the workers that serve it, and names the served models otherwise', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { model: 'llama', models: ['llama'] }),
      worker('b', { model: 'qwen', models: ['qwen', 'llama'] }),
    ]);
    const q = Array.from({ length: 3 }, () => fleet.chat({ ...hello, model: 'qwen' }));
    await flush();
    expect(b('a').calls).toHaveLength(0);
    expect(b('b').inFlight).toBe(2);
    await expect(fleet.chat({ ...hello, model: 'mistral' })).rejects.toThrow(
      /no worker serves model "mistral"; models served: llama, qwen/,
    );
    for (let i = 0; i < 3; i++) {
      b('b').open()[0]?.resolve();
      await flush();
    }
    await Promise.all(q);
    expect(fleet.models()).toEqual([
      { id: 'llama', workers: ['a', 'b'] },
      { id: 'qwen', workers: ['b'] },
    ]);
    await fleet.close();
  });

  it('breaks ties by the seeded random: the same seed picks the same workers, and load spreads', async () => {
    vi.useFakeTimers();
    const picks = async (seed: number) => {
      const ws = ['a', 'b', 'c', 'd'].map((id) => worker(id, { maxConcurrentRequests: 100 }));
      const { fleet, b } = makeFleet(ws, {}, seed);
      for (const id of ['a', 'b', 'c', 'd'])
        b(id).auto = () => new Promise((r) => setTimeout(() => r('x y'), 100));
      const order: string[] = [];
      for (let i = 0; i < 40; i++) {
        const p = fleet.chat(hello);
        await vi.advanceTimersByTimeAsync(100);
        order.push((await p).worker);
      }
      await fleet.close();
      return order;
    };
    const one = await picks(7);
    expect(await picks(7)).toEqual(one);
    expect(await picks(8)).not.toEqual(one);
    for (const id of ['a', 'b', 'c', 'd']) expect(one.filter((w) => w === id).length).toBeGreaterThan(3);
  });

  it('prefers the faster worker once it has learned rates from real responses', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([
      worker('fast', { maxConcurrentRequests: 4 }),
      worker('slow', { maxConcurrentRequests: 4 }),
    ]);
    b('fast').auto = () => new Promise((r) => setTimeout(() => r('a b c d e f g h'), 100));
    b('slow').auto = () => new Promise((r) => setTimeout(() => r('a b c d e f g h'), 400));
    // Warm both up, one request at a time.
    for (let i = 0; i < 6; i++) {
      const p = fleet.chat(hello);
      await vi.advanceTimersByTimeAsync(500);
      await p;
    }
    const before = { fast: b('fast').calls.length, slow: b('slow').calls.length };
    for (let i = 0; i < 10; i++) {
      const p = fleet.chat(hello);
      await vi.advanceTimersByTimeAsync(500);
      await p;
    }
    expect(b('fast').calls.length - before.fast).toBe(10);
    expect(b('slow').calls.length - before.slow).toBe(0);
    const learned = fleet.stats().workers.map((w) => w.learned.decodeTps);
    expect(learned[0]!).toBeGreaterThan(learned[1]! * 3);
    await fleet.close();
  });

  it('keeps an affinity key on its worker, and spills when that worker is full and others are idle', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 2 }),
      worker('b', { maxConcurrentRequests: 2 }),
    ]);
    const first = fleet.chat(hello, { affinityKey: 'doc1' });
    await flush();
    const home = b('a').calls.length === 1 ? 'a' : 'b';
    const other = home === 'a' ? 'b' : 'a';
    b(home).open()[0]!.resolve();
    await first;
    const rest = Array.from({ length: 3 }, () => fleet.chat(hello, { affinityKey: 'doc1' }));
    await flush();
    // Two on the key's worker (its cap), the third spills to the idle one rather than wait.
    expect(b(home).calls).toHaveLength(3);
    expect(b(other).calls).toHaveLength(1);
    for (const id of [home, other]) for (const c of b(id).open()) c.resolve();
    await Promise.all(rest);
    await fleet.close();
  });

  it('a freed worker takes queued work bound to it (or to nobody) before work bound to a busy worker', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 1 }),
      worker('b', { maxConcurrentRequests: 1 }),
    ]);
    const pa = fleet.chat(hello, { affinityKey: 'A' });
    await flush();
    const homeA = b('a').calls.length === 1 ? 'a' : 'b';
    const homeB = homeA === 'a' ? 'b' : 'a';
    const pb = fleet.chat(hello, { affinityKey: 'B' });
    await flush();
    expect(b(homeB).calls).toHaveLength(1);
    // Queue: A-bound, A-bound, B-bound. When B's worker frees it skips the A-bound ones.
    const q = [
      fleet.chat({ ...hello, messages: [{ role: 'user', content: 'A2' }] }, { affinityKey: 'A' }),
      fleet.chat({ ...hello, messages: [{ role: 'user', content: 'A3' }] }, { affinityKey: 'A' }),
      fleet.chat({ ...hello, messages: [{ role: 'user', content: 'B2' }] }, { affinityKey: 'B' }),
    ];
    await flush();
    b(homeB).open()[0]!.resolve();
    await flush();
    expect(b(homeB).open()[0]!.req.messages[0]!.content).toBe('B2');
    b(homeB).open()[0]!.resolve();
    await flush();
    // Nothing left bound to B: the B worker spills rather than idle.
    expect(b(homeB).open()[0]!.req.messages[0]!.content).toBe('A2');
    for (const id of ['a', 'b']) for (const c of b(id).open()) c.resolve();
    await flush();
    for (const id of ['a', 'b']) for (const c of b(id).open()) c.resolve();
    await Promise.all([pa, pb, ...q]);
    await fleet.close();
  });
});

describe('retries and health', () => {
  it('retries a 5xx on another worker, never a client error', async () => {
    const { fleet, b } = makeFleet(
      [worker('a', { maxConcurrentRequests: 1 }), worker('b', { maxConcurrentRequests: 1 })],
      { circuitBreakerThreshold: 5 },
    );
    let okWorker = '';
    let calls = 0;
    const firstFails = () =>
      ++calls === 1
        ? Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom', { status: 500 }))
        : 'fine';
    b('a').auto = firstFails;
    b('b').auto = firstFails;
    const r = await fleet.chat(hello);
    okWorker = r.worker;
    expect(r.attempts).toBe(2);
    // The first attempt failed on the other worker; the retry went to a different one.
    expect(b('a').calls).toHaveLength(1);
    expect(b('b').calls).toHaveLength(1);
    expect(['a', 'b']).toContain(okWorker);
    const s = fleet.stats();
    expect(s.totals.retried).toBe(1);
    expect(s.totals.failed).toBe(1);

    b('a').auto = () => Promise.reject(new FleetError('FLEET_CONTEXT_OVERFLOW', 'too long'));
    b('b').auto = () => Promise.reject(new FleetError('FLEET_CONTEXT_OVERFLOW', 'too long'));
    const before = b('a').calls.length + b('b').calls.length;
    await expect(fleet.chat(hello)).rejects.toMatchObject({ code: 'FLEET_CONTEXT_OVERFLOW' });
    expect(b('a').calls.length + b('b').calls.length - before).toBe(1);
    await fleet.close();
  });

  it('gives up after max_retries and reports the last error with its worker', async () => {
    const { fleet, b } = makeFleet([worker('a'), worker('b')], {
      maxRetries: 2,
      circuitBreakerThreshold: 100,
    });
    for (const id of ['a', 'b'])
      b(id).auto = () =>
        Promise.reject(new FleetError('FLEET_UPSTREAM_TIMEOUT', 'slow', { phase: 'first_token' }));
    const err = (await fleet.chat(hello).then(
      () => undefined,
      (e: unknown) => e,
    )) as FleetError;
    expect(err.code).toBe('FLEET_UPSTREAM_TIMEOUT');
    expect(['a', 'b']).toContain(err.worker);
    expect(b('a').calls.length + b('b').calls.length).toBe(3);
    await fleet.close();
  });

  it('honours Retry-After: a busy worker gets no work until then', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })]);
    b('a').auto = (_r, n) =>
      n === 1
        ? Promise.reject(new FleetError('FLEET_UPSTREAM_BUSY', 'busy', { status: 503, retryAfterMs: 2000 }))
        : 'ok';
    const p = fleet.chat(hello);
    await vi.advanceTimersByTimeAsync(1500);
    expect(b('a').calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600);
    await expect(p).resolves.toMatchObject({ attempts: 2 });
    await fleet.close();
  });

  it('opens the circuit after consecutive failures, half-opens after the cooldown, closes on success', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([worker('a'), worker('b')], {
      circuitBreakerThreshold: 2,
      circuitBreakerCooldown: 10,
      maxRetries: 0,
    });
    const states: string[] = [];
    fleet.on('worker:state', (e) => states.push(`${e.worker}:${e.from}->${e.to}`));
    let failing = true;
    b('a').auto = () =>
      failing ? Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom', { status: 500 })) : 'ok';
    b('b').auto = () => 'ok';
    const results: string[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(
        await fleet.chat(hello).then(
          (r) => r.worker,
          () => 'err',
        ),
      );
    }
    expect(results.filter((r) => r === 'err')).toHaveLength(2);
    expect(states).toEqual(['a:healthy->degraded', 'a:degraded->down']);
    expect(fleet.stats().workers[0]!.circuit).toBe('open');
    failing = false;
    await vi.advanceTimersByTimeAsync(10_001);
    expect(fleet.stats().workers[0]!.circuit).toBe('half_open');
    for (let i = 0; i < 20 && b('a').calls.length < 3; i++) await fleet.chat(hello);
    expect(fleet.stats().workers[0]!.circuit).toBe('closed');
    expect(states.slice(2)).toEqual(['a:down->degraded', 'a:degraded->healthy']);
    await fleet.close();
  });

  it('takes a worker down on connection refused and re-admits it when a probe says ready', async () => {
    const { fleet, b } = makeFleet([worker('a'), worker('b')], { maxRetries: 1 });
    b('a').auto = () => Promise.reject(new FleetError('FLEET_UPSTREAM_CONNECT', 'a: connection refused'));
    b('b').auto = () => 'ok';
    const rs = await Promise.all([fleet.chat(hello), fleet.chat(hello), fleet.chat(hello)]);
    expect(rs.map((r) => r.worker)).toEqual(['b', 'b', 'b']);
    expect(b('a').calls).toHaveLength(1);
    expect(fleet.stats().workers[0]!.state).toBe('down');
    expect(fleet.stats().workers[0]!.reason).toMatch(/refused/);
    b('a').auto = () => 'ok';
    await fleet.health.probe(fleet.workers[0]!);
    expect(fleet.stats().workers[0]!.state).toBe('healthy');
    await fleet.close();
  });

  it('fails fast with the reasons when every worker for the model is down', async () => {
    const { fleet, b } = makeFleet([worker('a')], { maxRetries: 0 });
    b('a').probeResult = { state: 'down', latencyMs: 1, models: [], reason: 'connection refused' };
    await fleet.ready();
    await expect(fleet.chat(hello)).rejects.toThrow(/no healthy worker: a: down \(connection refused\)/);
    await fleet.close();
  });

  it('probes every health_check_interval and re-admits a worker the moment a probe finds it ready', async () => {
    vi.useFakeTimers();
    const backends = new Map<string, ScriptedBackend>();
    const fleet = new Fleet(
      { workers: [worker('a')], settings: settings({ healthCheckInterval: 30 }) },
      {
        random: createRandom(1),
        createBackend: (w) => {
          const b = new ScriptedBackend(w.id);
          b.probeResult = { state: 'down', latencyMs: 1, models: [], reason: 'connection refused' };
          backends.set(w.id, b);
          return b;
        },
      },
    );
    const b = backends.get('a')!;
    const probes = vi.spyOn(b, 'probe');
    await fleet.ready();
    expect(fleet.stats().workers[0]!.state).toBe('down');
    b.probeResult = { state: 'ready', latencyMs: 1, models: ['m'] };
    // (The first probe ran at creation, before the spy.)
    await vi.advanceTimersByTimeAsync(29_000);
    expect(probes).toHaveBeenCalledTimes(0);
    expect(fleet.stats().workers[0]!.state).toBe('down');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probes).toHaveBeenCalledTimes(1);
    expect(fleet.stats().workers[0]!.state).toBe('healthy');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probes).toHaveBeenCalledTimes(3);
    await fleet.close();
  });

  it('waits a jittered, growing backoff between retries', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([worker('a'), worker('b')], {
      maxRetries: 3,
      circuitBreakerThreshold: 100,
    });
    const times: number[] = [];
    for (const id of ['a', 'b']) {
      b(id).auto = () => {
        times.push(Date.now());
        return times.length < 4 ? Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom')) : 'ok';
      };
    }
    const p = fleet.chat(hello);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toMatchObject({ attempts: 4 });
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 50 ms, 100 ms, 200 ms steps, each jittered to 50-100 % of the step.
    expect(gaps[0]).toBeGreaterThanOrEqual(25);
    expect(gaps[0]).toBeLessThanOrEqual(50);
    expect(gaps[1]).toBeGreaterThanOrEqual(50);
    expect(gaps[1]).toBeLessThanOrEqual(100);
    expect(gaps[2]).toBeGreaterThanOrEqual(100);
    expect(gaps[2]).toBeLessThanOrEqual(200);
    await fleet.close();
  });

  it('a total timeout ends the request with FLEET_UPSTREAM_TIMEOUT and aborts upstream', async () => {
    vi.useFakeTimers();
    const { fleet, b } = makeFleet([worker('a')]);
    const p = fleet.chat(hello, { timeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e as FleetError,
    );
    await vi.advanceTimersByTimeAsync(1999);
    expect(b('a').calls[0]!.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    const err = await p;
    expect(err?.code).toBe('FLEET_UPSTREAM_TIMEOUT');
    expect(err?.phase).toBe('total');
    expect(b('a').calls[0]!.signal!.aborted).toBe(true);
    await fleet.close();
  });

  it('raises a default cap to the slots a probe reports, but never overrides a configured one', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { capSource: 'default', maxConcurrentRequests: 5 }),
      worker('b', { maxConcurrentRequests: 2 }),
    ]);
    b('a').probeResult = { state: 'ready', latencyMs: 1, models: ['m'], capacity: { slots: 8 } };
    b('b').probeResult = { state: 'ready', latencyMs: 1, models: ['m'], capacity: { slots: 8 } };
    const st = await fleet.ready();
    expect(st.workers.map((w) => [w.cap, w.capSource])).toEqual([
      [8, 'probe'],
      [2, 'config'],
    ]);
    await fleet.close();
  });
});

describe('streams', () => {
  it('streams chunks, reports the worker, and retries a failure before the first token elsewhere', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 1 }),
      worker('b', { maxConcurrentRequests: 1 }),
    ]);
    b('a').auto = () => Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom'));
    b('b').auto = () => Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom'));
    let n = 0;
    b('a').auto = () =>
      ++n === 1 ? Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom')) : 'one two three';
    b('b').auto = () =>
      ++n === 1 ? Promise.reject(new FleetError('FLEET_UPSTREAM_SERVER', 'boom')) : 'one two three';
    const s = fleet.chatStream(hello);
    const text: string[] = [];
    for await (const c of s) text.push(c.choices[0]?.delta.content ?? '');
    expect(text.join('|')).toBe('|one|two|three|');
    const meta = await s.meta;
    expect(meta.attempts).toBe(2);
    expect(meta.worker).toBe(s.worker);
    expect(meta.outputTokens).toBe(3);
    expect(fleet.stats().totals.inFlight).toBe(0);
    await fleet.close();
  });

  it('breaking out of a stream aborts upstream and frees the slot', async () => {
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })]);
    b('a').auto = () => 'one two three four';
    const s = fleet.chatStream(hello);
    for await (const c of s) {
      if (c.choices[0]?.delta.content === 'one') break;
    }
    await new Promise((r) => setTimeout(r, fleet.abandonSettleMs + 5));
    expect(fleet.stats().totals.inFlight).toBe(0);
    await expect(s.meta).rejects.toThrow();
    await expect(fleet.chat(hello)).resolves.toMatchObject({ worker: 'a' });
    await fleet.close();
  });
});

describe('config reload', () => {
  it('adds new workers at once, drains removed ones (in-flight finishes, nothing new), replaces changed ones', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 1 }),
      worker('b', { maxConcurrentRequests: 1 }),
    ]);
    const states: string[] = [];
    fleet.on('worker:state', (e) => states.push(`${e.worker}:${e.to}`));
    const pa = fleet.chat(hello);
    const pb = fleet.chat(hello);
    await flush();
    expect(b('a').inFlight + b('b').inFlight).toBe(2);
    const oldB = b('b');
    const result = fleet.reload({
      workers: [worker('b', { maxConcurrentRequests: 3 }), worker('c', { maxConcurrentRequests: 2 })],
      settings: settings(),
    });
    expect(result).toEqual({ added: ['c'], changed: ['b'], removed: ['a'], unchanged: [] });
    expect(states.sort()).toEqual(['a:draining', 'b:draining']);
    // New work goes only to the new b and c, while the old a and b finish what they hold.
    const more = Array.from({ length: 5 }, () => fleet.chat(hello));
    await flush();
    expect(b('b')).not.toBe(oldB);
    expect(b('b').inFlight).toBe(3);
    expect(b('c').inFlight).toBe(2);
    expect(fleet.stats().workers.map((w) => `${w.id}:${w.state}`)).toEqual([
      'b:healthy',
      'c:healthy',
      'b:draining',
      'a:draining',
    ]);
    b('a').open()[0]!.resolve();
    oldB.open()[0]!.resolve();
    await expect(Promise.all([pa, pb])).resolves.toHaveLength(2);
    expect(fleet.stats().workers.map((w) => w.id)).toEqual(['b', 'c']);
    for (const id of ['b', 'c']) for (const c of b(id).open()) c.resolve();
    await Promise.all(more);
    await fleet.close();
  });

  it('fails queued requests for a model no worker serves any more', async () => {
    const { fleet, b } = makeFleet([
      worker('a', { maxConcurrentRequests: 1, model: 'x', models: ['x'] }),
      worker('b'),
    ]);
    const running = fleet.chat({ ...hello, model: 'x' });
    const queued = fleet.chat({ ...hello, model: 'x' });
    await flush();
    fleet.reload({ workers: [worker('b')], settings: settings() });
    await expect(queued).rejects.toThrow(/no worker serves model "x"; models served: m/);
    b('a').open()[0]!.resolve();
    await expect(running).resolves.toMatchObject({ worker: 'a' });
    await fleet.close();
  });
});

describe('drain and close', () => {
  it('drain waits for queued and running work and refuses new requests', async () => {
    const { fleet, b } = makeFleet([worker('a', { maxConcurrentRequests: 1 })]);
    const p1 = fleet.chat(hello);
    const p2 = fleet.chat(hello);
    await flush();
    let drained = false;
    const d = fleet.drain().then(() => (drained = true));
    await expect(fleet.chat(hello)).rejects.toMatchObject({ code: 'FLEET_CLOSED' });
    b('a').open()[0]!.resolve();
    await flush();
    expect(drained).toBe(false);
    b('a').open()[0]!.resolve();
    await Promise.all([p1, p2, d]);
    expect(drained).toBe(true);
    await fleet.close();
  });
});
