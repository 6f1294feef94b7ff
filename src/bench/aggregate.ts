import { LatencyHistogram } from '../core/histogram.ts';
import type { FleetStats } from '../fleet/index.ts';
import type { Sample } from './recorder.ts';
import { round } from './self-check.ts';
import type { Arrival, LevelResult, Percentiles, SelfCheck, WorkerLevelResult } from './types.ts';

const s = (ms: number) => round(ms / 1000, 6);

function percentiles(h: LatencyHistogram): Percentiles {
  return {
    mean: s(h.mean),
    p50: s(h.percentile(50)),
    p90: s(h.percentile(90)),
    p95: s(h.percentile(95)),
    p99: s(h.percentile(99)),
    max: s(h.max),
  };
}

/** Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all equal, 1/n when one takes all. */
export function jainIndex(xs: readonly number[]): number {
  const sum = xs.reduce((a, x) => a + x, 0);
  const sq = xs.reduce((a, x) => a + x * x, 0);
  if (xs.length === 0 || sq === 0) return 1;
  return (sum * sum) / (xs.length * sq);
}

export interface LevelInput {
  concurrency: number;
  samples: readonly Sample[];
  startedAt: number;
  endedAt: number;
  stream: boolean;
  stats: FleetStats;
  selfCheck: SelfCheck;
  rate?: number;
  arrival?: Arrival;
}

/**
 * One level's numbers. Response times are the successful requests' E2E (as the older tool's were);
 * throughput counts successful requests over the level's wall time (first send -> last end).
 */
export function aggregateLevel(inp: LevelInput): Omit<LevelResult, 'notes'> {
  const e2e = new LatencyHistogram();
  const ttft = new LatencyHistogram();
  const tpot = new LatencyHistogram();
  const itl = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const perWorker = new Map<string, { ok: number; failed: number; tokens: number; lat: LatencyHistogram }>();
  let ok = 0;
  let tokens = 0;
  let retried = 0;
  for (const x of inp.samples) {
    if (x.attempts > 1) retried++;
    const key = x.worker ?? '(none)';
    let w = perWorker.get(key);
    if (!w) perWorker.set(key, (w = { ok: 0, failed: 0, tokens: 0, lat: new LatencyHistogram() }));
    if (!x.ok) {
      w.failed++;
      const code = x.error ?? 'UNKNOWN';
      errors[code] = (errors[code] ?? 0) + 1;
      continue;
    }
    ok++;
    tokens += x.outputTokens;
    w.ok++;
    w.tokens += x.outputTokens;
    w.lat.record(x.e2eMs);
    e2e.record(x.e2eMs);
    if (x.ttftMs !== undefined) ttft.record(x.ttftMs);
    if (x.tpotMs !== undefined) tpot.record(x.tpotMs);
    for (const g of x.itlMs) itl.record(g);
  }
  const total = inp.samples.length;
  const wallS = Math.max(1e-9, (inp.endedAt - inp.startedAt) / 1000);
  const workers: WorkerLevelResult[] = inp.stats.workers.map((ws) => {
    const w = perWorker.get(ws.id);
    const n = (w?.ok ?? 0) + (w?.failed ?? 0);
    return {
      worker: ws.id,
      requests: n,
      successful: w?.ok ?? 0,
      failed: w?.failed ?? 0,
      success_rate: n === 0 ? 0 : round(((w?.ok ?? 0) / n) * 100, 2),
      load_percentage: total === 0 ? 0 : round((n / total) * 100, 2),
      requests_per_second: round((w?.ok ?? 0) / wallS, 4),
      output_tokens_per_second: round((w?.tokens ?? 0) / wallS, 2),
      p50_response_time: w ? s(w.lat.percentile(50)) : 0,
      p95_response_time: w ? s(w.lat.percentile(95)) : 0,
      busy_utilization: round(ws.utilisation * 100, 2),
      slot_occupancy: round(ws.slotOccupancy * 100, 2),
      cap: ws.cap,
      p50_service_time: s(ws.latency.p50),
      state: ws.state,
      reason: ws.reason,
      failed_attempts: ws.failed,
      attempt_errors: { ...ws.errors },
      hedges: ws.hedges,
      hedge_wins: ws.hedgeWins,
      cancelled_attempts: ws.cancelled,
    };
  });
  const unattributed = perWorker.get('(none)');
  if (unattributed)
    workers.push({
      worker: '(none)',
      requests: unattributed.failed,
      successful: 0,
      failed: unattributed.failed,
      success_rate: 0,
      load_percentage: total === 0 ? 0 : round((unattributed.failed / total) * 100, 2),
      requests_per_second: 0,
      output_tokens_per_second: 0,
      p50_response_time: 0,
      p95_response_time: 0,
      busy_utilization: 0,
      slot_occupancy: 0,
      cap: 0,
      p50_service_time: 0,
      state: 'none',
      reason: 'failed before any worker was chosen',
      failed_attempts: unattributed.failed,
      attempt_errors: {},
      hedges: 0,
      hedge_wins: 0,
      cancelled_attempts: 0,
    });
  const real = workers.filter((w) => w.cap > 0);
  const res: Omit<LevelResult, 'notes'> = {
    concurrency: inp.concurrency,
    total_requests: total,
    successful: ok,
    failed: total - ok,
    success_rate: total === 0 ? 0 : round((ok / total) * 100, 2),
    total_time: round(wallS, 6),
    requests_per_second: round(ok / wallS, 4),
    avg_response_time: s(e2e.mean),
    min_response_time: s(e2e.min),
    max_response_time: s(e2e.max),
    p50_response_time: s(e2e.percentile(50)),
    p95_response_time: s(e2e.percentile(95)),
    p99_response_time: s(e2e.percentile(99)),
    p90_response_time: s(e2e.percentile(90)),
    load: inp.rate === undefined ? 'closed' : 'open',
    stream: inp.stream,
    e2e: percentiles(e2e),
    total_output_tokens: tokens,
    output_tokens_per_second: round(tokens / wallS, 2),
    errors,
    retried,
    workers,
    fairness: round(jainIndex(real.map((w) => w.requests / w.cap)), 4),
    queue_wait_p95: s(inp.stats.queue.wait.p95),
    self_check: inp.selfCheck,
  };
  if (inp.rate !== undefined) res.rate = inp.rate;
  if (inp.arrival !== undefined) res.arrival = inp.arrival;
  if (ttft.count > 0) res.ttft = percentiles(ttft);
  if (tpot.count > 0) res.tpot = percentiles(tpot);
  if (itl.count > 0) res.itl = percentiles(itl);
  return res;
}
