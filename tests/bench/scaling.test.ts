import { afterEach, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../src/bench/index.ts';
import { closeSims, simFleet } from './helpers.ts';

afterEach(closeSims);

describe('worker scaling without the solo baseline', () => {
  it('reuses the 1-worker count as the speedup base, measures no one else alone, leaves vs-solo unknown', async () => {
    const spec = { slots: 2, fixedLatencyMs: 100, outputTokens: 4 };
    const { config, sim } = await simFleet([
      { id: 'a', ...spec },
      { id: 'b', ...spec },
    ]);
    const phases: string[] = [];
    const run = runBenchmark({
      config,
      mode: 'scaling',
      requests: 16,
      workerCounts: [1, 2],
      warmupPerWorker: 0,
      soloBaseline: false,
    });
    run.on('level:start', (e) => phases.push(`${e.phase}:${e.workers.join(',')}`));
    const r = await run;
    expect(phases).toEqual(['scaling:a', 'scaling:a,b']);
    const [one, two] = r.scaling_benchmark;
    expect(r.solo_throughput).toEqual({ a: one!.requests_per_second });
    expect(one!.speedup).toBe(1);
    // Two identical workers: about twice one (the speedup was 0 here before the base was reused).
    expect(two!.speedup).toBeGreaterThan(1.6);
    expect(two!.solo_sum_rps).toBe(0);
    expect(two!.efficiency_vs_solo).toBe(0);
    expect(sim.workers[1]!.stats().requests).toBeLessThanOrEqual(16);
  }, 30_000);
});
