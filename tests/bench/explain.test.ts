import { afterEach, describe, expect, it } from 'vitest';
import {
  explainLevel,
  explainScaling,
  runBenchmark,
  type LevelResult,
  type ScalingResult,
  type WorkerLevelResult,
} from '../../src/bench/index.ts';
import { closeSims, simFleet } from './helpers.ts';

afterEach(closeSims);

function worker(id: string, o: Partial<WorkerLevelResult> = {}): WorkerLevelResult {
  return {
    worker: id,
    requests: 20,
    successful: 20,
    failed: 0,
    success_rate: 100,
    load_percentage: 50,
    requests_per_second: 10,
    output_tokens_per_second: 100,
    p50_response_time: 0.2,
    p95_response_time: 0.25,
    busy_utilization: 99,
    slot_occupancy: 98,
    cap: 2,
    p50_service_time: 0.2,
    state: 'healthy',
    reason: '',
    failed_attempts: 0,
    attempt_errors: {},
    hedges: 0,
    hedge_wins: 0,
    cancelled_attempts: 0,
    ...o,
  };
}

const selfOk = {
  valid: true,
  event_loop_delay_p99_ms: 10,
  event_loop_delay_max_ms: 12,
  dispatch_lag_p99_ms: 0.1,
  client_cpu_percent: 20,
  reasons: [],
};

function level(o: Partial<LevelResult> = {}): Omit<LevelResult, 'notes'> {
  const p = { mean: 0.2, p50: 0.2, p90: 0.2, p95: 0.2, p99: 0.2, max: 0.2 };
  return {
    concurrency: 4,
    total_requests: 40,
    successful: 40,
    failed: 0,
    success_rate: 100,
    total_time: 2,
    requests_per_second: 20,
    avg_response_time: 0.2,
    min_response_time: 0.2,
    max_response_time: 0.2,
    p50_response_time: 0.2,
    p95_response_time: 0.2,
    p99_response_time: 0.2,
    p90_response_time: 0.2,
    load: 'closed',
    stream: true,
    e2e: p,
    total_output_tokens: 400,
    output_tokens_per_second: 200,
    errors: {},
    retried: 0,
    workers: [worker('w1'), worker('w2')],
    fairness: 1,
    queue_wait_p95: 0,
    self_check: selfOk,
    ...o,
  };
}

describe('why a level did not do better', () => {
  it('full slots at concurrency = slots: the fleet set the throughput, each worker named', () => {
    expect(explainLevel(level())).toEqual([
      "every worker's slots were full (w1 98% and w2 98%): the fleet's capacity set this throughput; more workers or slots would raise it",
    ]);
  });

  it('an invalid level comes first and says nothing about capacity (the client was the limit)', () => {
    const notes = explainLevel(
      level({
        self_check: { ...selfOk, valid: false, reasons: ['the benchmark process used 131% of a CPU core'] },
      }),
    );
    expect(notes).toEqual(['INVALID: the benchmark process used 131% of a CPU core']);
  });

  it('concurrency below the slots: bounded by concurrency / response time, with the figure', () => {
    const notes = explainLevel(
      level({
        concurrency: 1,
        p50_response_time: 0.103,
        workers: [worker('w1', { slot_occupancy: 50 }), worker('w2', { requests: 0, successful: 0 })],
      }),
    );
    expect(notes).toEqual([
      "w2 served nothing: concurrency 1 fit in the other workers' slots",
      "concurrency 1 fills at most 1 of the fleet's 4 slots: throughput is bounded by concurrency / response time (1 / 0.103s = 9.7 req/s); raise the concurrency to use the rest",
    ]);
  });

  it('concurrency above the slots of the healthy workers, and the down worker named with its reason', () => {
    const notes = explainLevel(
      level({
        concurrency: 6,
        queue_wait_p95: 0.11,
        workers: [
          worker('w1'),
          worker('w2'),
          worker('w3', {
            requests: 0,
            successful: 0,
            slot_occupancy: 0,
            state: 'down',
            reason: 'w3: HTTP 500: simulated server error',
            failed_attempts: 2,
            attempt_errors: { FLEET_UPSTREAM_SERVER: 2 },
          }),
        ],
      }),
    );
    expect(notes).toEqual([
      'w3: 2 attempts failed (FLEET_UPSTREAM_SERVER x2) and were retried on other workers; it ended down (HTTP 500: simulated server error)',
      'w3 served nothing: it is down (HTTP 500: simulated server error)',
      'concurrency 6 exceeds the 4 slots of the healthy workers: the rest wait in the queue (p95 wait 0.11s), so throughput cannot rise further',
      "every healthy worker's slots were full (w1 98% and w2 98%): the fleet's capacity set this throughput; more workers or slots would raise it",
    ]);
  });

  it('tail hedges and the attempts they cancelled are named, and not as failures', () => {
    const notes = explainLevel(
      level({
        workers: [
          worker('w1', { hedges: 3, hedge_wins: 2, cancelled_attempts: 1 }),
          worker('w2', { cancelled_attempts: 2 }),
        ],
      }),
    );
    expect(notes.slice(0, 3)).toEqual([
      'w1 ran 3 tail hedges (copies of requests a slower worker was still on); 2 answered first',
      'w1: 1 attempt cancelled because another copy answered first (not failures)',
      'w2: 2 attempts cancelled because another copy answered first (not failures)',
    ]);
    expect(notes.join('\n')).not.toMatch(/failed/);
  });

  it('failed requests by code and by worker', () => {
    const notes = explainLevel(
      level({
        failed: 5,
        successful: 35,
        errors: { FLEET_UPSTREAM_SERVER: 4, FLEET_UPSTREAM_TIMEOUT: 1 },
        workers: [worker('w1'), worker('w2', { failed: 5, successful: 15, failed_attempts: 5 })],
      }),
    );
    expect(notes[0]).toBe(
      '5 of 40 requests failed (FLEET_UPSTREAM_SERVER x4, FLEET_UPSTREAM_TIMEOUT x1; w2 5 of 20)',
    );
  });

  it('a slower worker is named from service times (not queue wait), and noise is not enough', () => {
    const slow = explainLevel(
      level({
        workers: [
          worker('w1', { p50_service_time: 0.105, p50_response_time: 0.3 }),
          worker('w2', { p50_service_time: 0.105 }),
          worker('w3', { p50_service_time: 0.337, slot_occupancy: 99.9 }),
        ],
        concurrency: 6,
      }),
    );
    expect(slow).toContain(
      'w3 is slower than the rest: p50 service time 0.337s against 0.105s on w1 and w2 (3.2x)',
    );
    // 30 % apart: more than run-to-run noise between identical workers, but below the 1.5x bar.
    const close = explainLevel(
      level({ workers: [worker('w1', { p50_service_time: 0.1 }), worker('w2', { p50_service_time: 0.13 })] }),
    );
    expect(close.join('\n')).not.toMatch(/slower/);
  });

  it('load imbalance: a saturated worker while another idles with work waiting', () => {
    const notes = explainLevel(
      level({
        concurrency: 8,
        queue_wait_p95: 0.3,
        workers: [worker('w1', { slot_occupancy: 99 }), worker('w2', { slot_occupancy: 30 })],
      }),
    );
    expect(notes).toContain('load imbalance: w1 used 99% of its slots while w2 used 30%');
  });

  it('too few requests for the concurrency, and an open loop over capacity', () => {
    expect(explainLevel(level({ total_requests: 8, concurrency: 4 }))[0]).toBe(
      'only 8 requests for concurrency 4: ramp-up and the tail weigh heavily; use --requests 40 or more',
    );
    const open = explainLevel(
      level({ load: 'open', rate: 20, requests_per_second: 10, queue_wait_p95: 1.2, concurrency: 4 }),
    );
    expect(open).toEqual([
      'offered 20 req/s, completed 10.00 req/s: the fleet is over capacity and requests queued (p95 wait 1.20s), which the response times include',
    ]);
  });
});

function row(o: Partial<ScalingResult>, l: Omit<LevelResult, 'notes'>): Omit<ScalingResult, 'notes'> {
  return {
    workers: 2,
    healthy_workers: 2,
    requests_per_second: 38,
    success_rate: 100,
    throughput_per_worker: 19,
    worker_ids: ['w1', 'w2'],
    concurrency: 4,
    speedup: 1.95,
    scaling_efficiency: 97.5,
    solo_sum_rps: 39,
    efficiency_vs_solo: 97.4,
    level: { ...l, notes: [] },
    ...o,
  };
}
const alone = (rps: number, o: Partial<LevelResult> = {}): LevelResult => ({
  ...level({ requests_per_second: rps, workers: [worker('x')] }),
  notes: [],
  ...o,
});

describe('why N workers did not scale', () => {
  it('identical workers within noise: nothing to explain, and never "differ in speed"', () => {
    // 10 % apart alone (noise on a busy machine) and 88 % of 2x worker 1.
    const notes = explainScaling(row({ scaling_efficiency: 88, efficiency_vs_solo: 92 }, level()), {
      w1: alone(20),
      w2: alone(18.2),
    });
    expect(notes).toEqual([]);
  });

  it('workers of different speed: names the slow one and both figures, and the fair target', () => {
    const notes = explainScaling(
      row(
        {
          workers: 3,
          healthy_workers: 3,
          worker_ids: ['w1', 'w2', 'w3'],
          scaling_efficiency: 61,
          efficiency_vs_solo: 80,
          solo_sum_rps: 44.34,
        },
        level({
          concurrency: 6,
          workers: [
            worker('w1', { slot_occupancy: 79 }),
            worker('w2', { slot_occupancy: 78 }),
            worker('w3', { slot_occupancy: 99.9, p50_service_time: 0.5 }),
          ],
        }),
      ),
      { w1: alone(19.26), w2: alone(19.15), w3: alone(5.93) },
    );
    expect(notes).toEqual([
      'the workers differ in speed: alone, w3 did 5.93 req/s against 19.26 for w1, so speedup / N against worker 1 is no fair measure; the fair target is the sum of solo throughputs (44.34 req/s), of which the fleet reached 80%',
      '3 workers reached 80% of the sum of solo throughputs (44.34 req/s): w1 had 79% and w2 78% of their slots in use',
      'w3 is slower than the rest: p50 service time 0.500s against 0.200s on w1 and w2 (2.5x)',
    ]);
  });

  it('below 90 % of the solo sum with full slots: requests took longer than alone, by how much', () => {
    const notes = explainScaling(
      row(
        {
          workers: 3,
          healthy_workers: 3,
          worker_ids: ['w1', 'w2', 'w3'],
          efficiency_vs_solo: 85,
          scaling_efficiency: 85,
          solo_sum_rps: 57,
        },
        level({
          workers: ['w1', 'w2', 'w3'].map((id) => worker(id, { p50_response_time: 0.115 })),
          concurrency: 6,
        }),
      ),
      {
        w1: alone(19, { p50_response_time: 0.1 }),
        w2: alone(19, { p50_response_time: 0.1 }),
        w3: alone(19, { p50_response_time: 0.1 }),
      },
    );
    expect(notes).toEqual([
      '3 workers reached 85% of the sum of solo throughputs (57.00 req/s): requests took longer than with each worker alone (w1 p50 0.115s vs 0.100s alone (+15%), w2 p50 0.115s vs 0.100s alone (+15%), w3 p50 0.115s vs 0.100s alone (+15%))',
    ]);
  });

  it('a worker failing alone and an unhealthy one are named with what went wrong', () => {
    const notes = explainScaling(
      row(
        { healthy_workers: 1, efficiency_vs_solo: 95, scaling_efficiency: 50 },
        level({
          workers: [
            worker('w1'),
            worker('w2', { requests: 0, successful: 0, state: 'down', reason: 'connection refused' }),
          ],
        }),
      ),
      { w1: alone(19), w2: alone(0, { failed: 40, successful: 0, errors: { FLEET_NO_WORKER: 40 } }) },
    );
    expect(notes).toEqual([
      'only 1 of 2 workers were healthy (w2: connection refused)',
      'w2 alone: 40 of 40 requests failed (FLEET_NO_WORKER x40)',
      'w2 served nothing: it is down (connection refused)',
    ]);
  });
});

describe('explanations on real runs against simulated fleets', () => {
  it('one slow worker: named with its solo throughput and service time; identical workers: no speed claim', async () => {
    // 5 tokens at 100 tok/s = 50 ms on w1 and w2; w3 runs at 0.3x speed (167 ms).
    const spec = { slots: 2, decodeTps: 100, prefillTps: Infinity, batchSlowdown: 0, outputTokens: 5 };
    const { config } = await simFleet([
      { id: 'w1', ...spec },
      { id: 'w2', ...spec },
      { id: 'w3', ...spec, speed: 0.3 },
    ]);
    const r = await runBenchmark({
      config,
      mode: 'scaling',
      requests: 36,
      workerCounts: [1, 2, 3],
      warmupPerWorker: 1,
    });
    const [one, two, three] = r.scaling_benchmark;
    expect(one!.notes).toEqual([]);
    // Two identical workers: whatever the noise, never "differ in speed" or "slower".
    expect(two!.notes.join('\n')).not.toMatch(/differ in speed|slower/);
    const n3 = three!.notes.join('\n');
    expect(n3).toMatch(/the workers differ in speed: alone, w3 did [\d.]+ req\/s against [\d.]+ for w[12]/);
    // Service times 167 ms against 50 ms plus transport (a few ms on a loaded machine): about 3x.
    const m =
      /w3 is slower than the rest: p50 service time ([\d.]+)s against ([\d.]+)s on w1 and w2 \(([\d.]+)x\)/.exec(
        n3,
      );
    expect(m, n3).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0.16);
    expect(Number(m![2])).toBeGreaterThanOrEqual(0.05);
    expect(Number(m![2])).toBeLessThan(0.08);
    expect(Number(m![3])).toBeGreaterThan(2);
    expect(three!.level.notes.join('\n')).toMatch(/w3 is slower than the rest/);
  }, 60_000);
});
