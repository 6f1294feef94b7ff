import { afterEach, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../src/bench/index.ts';
import { closeSims, simFleet } from './helpers.ts';

afterEach(closeSims);

const spec = { slots: 2, fixedLatencyMs: 100, outputTokens: 4 };

describe('an aborted run resolves with what it measured, marked partial', () => {
  it('aborted in the pause between levels: the finished level is complete, nothing else ran', async () => {
    const { config, sim } = await simFleet([{ id: 'a', ...spec }]);
    const ac = new AbortController();
    const run = runBenchmark({
      config,
      mode: 'concurrency',
      requests: 10,
      concurrencyLevels: [2, 4],
      warmupPerWorker: 0,
      pauseS: 30,
      signal: ac.signal,
    });
    run.on('level:end', () => setTimeout(() => ac.abort(), 50));
    const t0 = performance.now();
    const r = await run;
    // Well before the 30 s pause would have ended.
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.partial).toBe(true);
    expect(r.concurrency_benchmark).toHaveLength(1);
    expect(r.concurrency_benchmark[0]).toMatchObject({ concurrency: 2, successful: 10 });
    expect(r.concurrency_benchmark[0]!.partial).toBeUndefined();
    expect(r.best_concurrency).toEqual({
      concurrency: 2,
      requests_per_second: r.concurrency_benchmark[0]!.requests_per_second,
    });
    expect(r.notes.at(-1)).toMatch(/^interrupted between levels: these results are partial/);
    expect(sim.workers[0]!.stats().requests).toBe(10);
  }, 30_000);

  it('aborted during worker scaling: counts measured so far become rows; the cut one is partial', async () => {
    const { config, sim } = await simFleet([
      { id: 'a', ...spec },
      { id: 'b', ...spec },
    ]);
    const ac = new AbortController();
    const run = runBenchmark({
      config,
      mode: 'scaling',
      requests: 40,
      workerCounts: [1, 2],
      warmupPerWorker: 0,
      signal: ac.signal,
    });
    let levels = 0;
    let done = 0;
    run.on('level:start', () => ((done = 0), levels++));
    run.on('request', () => {
      // Halfway through the second level (2 workers).
      if (++done === 20 && levels === 2) ac.abort();
    });
    const r = await run;
    expect(r.partial).toBe(true);
    expect(r.scaling_benchmark.map((s) => s.workers)).toEqual([1, 2]);
    const [one, two] = r.scaling_benchmark;
    expect(one!.level.partial).toBeUndefined();
    expect(one!.level.successful).toBe(40);
    expect(two!.level.partial).toBe(true);
    expect(two!.level.failed).toBe(0);
    expect(two!.level.successful).toBeGreaterThanOrEqual(20);
    expect(two!.level.successful).toBeLessThan(40);
    expect(two!.level.notes[0]).toMatch(/^interrupted after \d+ of 40 requests/);
    // The solo baseline of b never ran; worker 1 alone is the 1-worker count.
    expect(r.solo_throughput).toEqual({ a: one!.requests_per_second });
    expect(two!.solo_sum_rps).toBe(0);
    expect(r.best_worker_count?.workers).toBe(1);
    expect(r.notes.at(-1)).toMatch(/^interrupted during 2 workers/);
    // The cancelled requests' connections were closed: the servers free their slots.
    for (let i = 0; i < 100 && sim.workers.some((w) => w.stats().inFlight > 0); i++)
      await new Promise((r) => setTimeout(r, 20));
    for (const w of sim.workers) expect(w.stats().inFlight).toBe(0);
  }, 30_000);
});
