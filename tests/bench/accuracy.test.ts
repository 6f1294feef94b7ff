import { afterEach, describe, expect, it } from 'vitest';
import { runBenchmark, type LevelResult, type RequestRecord } from '../../src/bench/index.ts';
import { closeSims, simFleet } from './helpers.ts';

afterEach(closeSims);

const within = (measured: number, expected: number, frac: number) =>
  expect(Math.abs(measured - expected) / expected).toBeLessThanOrEqual(frac);

/**
 * Within `frac` of `expected`, and later by at most what the machine took on top: the longest
 * stall the benchmark saw of its own process while the level ran (its event-loop delay). When this
 * shared 2-core machine is busy (the other test files run beside this one), the process is not
 * scheduled for a while and requests end late by that much: latency a client would see, which the
 * benchmark reports in its self-check, not an error of its measurement.
 */
const withinOrLate = (measured: number, expected: number, frac: number, l: LevelResult) => {
  expect(measured).toBeGreaterThanOrEqual(expected * (1 - frac));
  expect(measured).toBeLessThanOrEqual(expected * (1 + frac) + l.self_check.event_loop_delay_max_ms / 1000);
};

describe('measured against simulated workers whose service time is known', () => {
  it('closed loop: req/s and response times match the analytical value within 2 %', async () => {
    // 2 workers x 5 slots, every request exactly 4 s: concurrency 10 keeps all slots busy, so
    // throughput = 10 / 4 s = 2.5 req/s and every response time = 4 s. Transport on this loaded
    // 2-core machine (client and servers share one process) costs 10-60 ms per request when other
    // jobs compete for the cores: long requests keep it near 1 %, so what is left to see is the
    // benchmark's own error (checked 3 times in a row with both cores kept busy by others). The warm-up
    // (5 per worker = one request per slot) opens every connection before the measured level.
    const { config, sim } = await simFleet(
      [0, 1].map(() => ({ slots: 5, fixedLatencyMs: 4000, outputTokens: 10 })),
    );
    const records: RequestRecord[] = [];
    const run = runBenchmark({
      config,
      mode: 'concurrency',
      requests: 20,
      concurrencyLevels: [10],
      warmupPerWorker: 5,
    });
    run.on('request', (r) => records.push(r));
    const r = await run;
    const l = r.concurrency_benchmark[0]!;
    expect(l.successful).toBe(20);
    within(l.requests_per_second, 2.5, 0.02);
    within(l.avg_response_time, 4, 0.02);
    within(l.p50_response_time, 4, 0.02);
    // p99 of 20 requests is the slowest one. When this shared 2-core machine stalls the process
    // (other jobs, GC), every request in flight at that moment ends late by the stall: real latency
    // a client would see, not the benchmark's error. The benchmark measures such stalls itself
    // (its event-loop delay), so the bound is 2 % plus what it saw.
    const stallS = l.self_check.event_loop_delay_max_ms / 1000;
    expect(l.p99_response_time).toBeGreaterThanOrEqual(4);
    expect(l.p99_response_time).toBeLessThanOrEqual(4 * 1.02 + stallS);
    expect(l.min_response_time).toBeGreaterThanOrEqual(3.999);
    expect(records).toHaveLength(20);
    // Each worker saw exactly its cap (the warm-up included) and the fleet split the load evenly.
    for (const w of sim.workers) expect(w.stats().maxInFlight).toBe(5);
    expect(l.workers.map((w) => w.requests)).toEqual([10, 10]);
    expect(l.fairness).toBeGreaterThan(0.99);
    for (const w of l.workers) expect(w.slot_occupancy).toBeGreaterThan(95);
    expect(l.self_check.valid).toBe(true);
  }, 40_000);

  it('streaming: TTFT, TPOT and E2E follow the decode model (20 tokens at 50 tok/s)', async () => {
    // Alone on a worker: first token after one decode step (20 ms), last after 20 x 20 ms = 400 ms.
    const { config } = await simFleet([
      { slots: 1, decodeTps: 50, prefillTps: Infinity, batchSlowdown: 0, outputTokens: 20, streamTickMs: 5 },
    ]);
    const r = await runBenchmark({
      config,
      mode: 'concurrency',
      requests: 10,
      concurrencyLevels: [1],
      warmupPerWorker: 1,
    });
    const l = r.concurrency_benchmark[0]!;
    withinOrLate(l.e2e.p50, 0.4, 0.03, l);
    within(l.tpot!.p50, 0.02, 0.05);
    expect(l.ttft!.p50).toBeGreaterThanOrEqual(0.02);
    expect(l.ttft!.p50).toBeLessThan(0.045);
    expect(l.itl!.p50).toBeGreaterThan(0);
    expect(l.total_output_tokens).toBe(200);
    within(l.output_tokens_per_second, 200 / (10 * 0.4), 0.04);
  }, 30_000);

  it('open loop at a constant rate below capacity: achieved rate = offered rate, no queueing', async () => {
    const { config } = await simFleet([{ slots: 4, fixedLatencyMs: 200, outputTokens: 5 }]);
    const r = await runBenchmark({
      config,
      mode: 'concurrency',
      rates: [10],
      arrival: 'constant',
      durationS: 3,
      warmupPerWorker: 1,
    });
    expect(r.concurrency_benchmark).toEqual([]);
    const l = r.rate_benchmark![0]!;
    expect(l.load).toBe('open');
    expect(l.total_requests).toBe(30);
    // 30 requests due over 2.9 s, the last ending 0.2 s later.
    withinOrLate(l.total_time, 3.1, 0.03, l);
    withinOrLate(l.p50_response_time, 0.2, 0.04, l);
    expect(l.concurrency).toBeLessThanOrEqual(4);
  }, 30_000);

  it('open loop above capacity: latency counts from the scheduled send, so queueing shows', async () => {
    // Capacity 2 slots / 0.2 s = 10 req/s; offered 20 req/s for 30 requests: the backlog grows.
    const { config } = await simFleet([{ slots: 2, fixedLatencyMs: 200, outputTokens: 5 }]);
    const r = await runBenchmark({
      config,
      mode: 'concurrency',
      rates: [20],
      arrival: 'constant',
      requests: 30,
      warmupPerWorker: 0,
    });
    const l = r.rate_benchmark![0]!;
    within(l.requests_per_second, 10, 0.08);
    // The last request is due at 1.45 s but ends near 3.0 s: ~1.5 s, far above the 0.2 s service time.
    expect(l.max_response_time).toBeGreaterThan(1.2);
    expect(l.p50_response_time).toBeGreaterThan(0.5);
  }, 30_000);

  it('marks a level invalid when the load generator was the bottleneck', async () => {
    const { config } = await simFleet([{ slots: 2, fixedLatencyMs: 50, timeScale: 0.2, outputTokens: 3 }]);
    const r = await runBenchmark(
      { config, mode: 'concurrency', requests: 6, concurrencyLevels: [2], warmupPerWorker: 0 },
      { monitor: () => () => ({ eventLoopDelayP99Ms: 400, eventLoopDelayMaxMs: 800, cpuPercent: 99 }) },
    );
    const l: LevelResult = r.concurrency_benchmark[0]!;
    expect(l.self_check.valid).toBe(false);
    expect(l.self_check.reasons.join(' ')).toMatch(/event loop.*400/);
    expect(l.notes[0] ?? l.notes.join()).toMatch(/INVALID/);
    // An invalid level is never reported as the best one.
    expect(r.best_concurrency).toBeUndefined();
  });
});
