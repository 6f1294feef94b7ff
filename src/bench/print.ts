import type { BenchmarkResults, LevelResult, Percentiles, ScalingResult } from './types.ts';
import type { BenchmarkRun } from './run.ts';

const RULE = '='.repeat(60);
const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);

function banner(title: string): string {
  return `\n${RULE}\n${title}\n${RULE}\n`;
}

function pctRow(name: string, p: Percentiles | undefined, unitMs: boolean): string {
  if (!p) return '';
  const v = (x: number) => (unitMs ? (x * 1000).toFixed(1) : x.toFixed(3)).padStart(9);
  return `  ${name.padEnd(6)}${v(p.mean)}${v(p.p50)}${v(p.p90)}${v(p.p95)}${v(p.p99)}${v(p.max)}\n`;
}

/** The older tool's per-level block (exact lines), then ours: percentiles, tokens, balance, self-check. */
export function formatLevel(l: LevelResult): string {
  let s =
    'Results:\n' +
    `  Requests/sec: ${f1(l.requests_per_second)}\n` +
    `  Success rate: ${f1(l.success_rate)}%\n` +
    `  Avg response time: ${f2(l.avg_response_time)}s\n` +
    `  P95 response time: ${f2(l.p95_response_time)}s\n` +
    `  P99 response time: ${f2(l.p99_response_time)}s\n` +
    '\nWorker utilization:\n';
  for (const w of l.workers) {
    s +=
      `  ${w.worker}: ${w.requests} requests, ${f1(w.success_rate)}% success rate, ${f1(w.load_percentage)}% of load` +
      ` | ${f2(w.requests_per_second)} req/s, ${f1(w.output_tokens_per_second)} tok/s, p50 ${f2(w.p50_response_time)}s, p95 ${f2(w.p95_response_time)}s, busy ${f1(w.busy_utilization)}%, slots ${f1(w.slot_occupancy)}%\n`;
  }
  const ms = (l.ttft?.p50 ?? l.e2e.p50) < 1;
  s += `\nLatency (${ms ? 'ms' : 's'})${'mean'.padStart(ms ? 8 : 9)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p95'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}\n`;
  s +=
    pctRow('TTFT', l.ttft, ms) +
    pctRow('TPOT', l.tpot, ms) +
    pctRow('ITL', l.itl, ms) +
    pctRow('E2E', l.e2e, ms);
  s += `Output tokens/s: ${f1(l.output_tokens_per_second)} (${l.total_output_tokens} tokens in ${f2(l.total_time)}s)\n`;
  s += `Balance (Jain's index, requests per slot): ${l.fairness.toFixed(3)}\n`;
  const errs = Object.entries(l.errors);
  s += `Errors: ${errs.length === 0 ? 'none' : errs.map(([c, n]) => `${c} x${n}`).join(', ')}${l.retried > 0 ? ` (${l.retried} requests retried)` : ''}\n`;
  const sc = l.self_check;
  s += `Client self-check: ${sc.valid ? 'ok' : 'INVALID'} (event loop p99 ${f1(sc.event_loop_delay_p99_ms)} ms, dispatch lag p99 ${f2(sc.dispatch_lag_p99_ms)} ms, CPU ${sc.client_cpu_percent.toFixed(0)}%)\n`;
  for (const n of l.notes) s += `Note: ${n}\n`;
  return s;
}

export function formatScalingSummary(rows: readonly ScalingResult[]): string {
  if (rows.length === 0) return '';
  let s = banner('WORKER SCALING');
  s += `${'Workers'.padEnd(9)}${'req/s'.padStart(10)}${'per worker'.padStart(12)}${'speedup'.padStart(10)}${'efficiency'.padStart(12)}${'vs solo sum'.padStart(13)}\n`;
  for (const r of rows)
    s += `${String(r.workers).padEnd(9)}${f2(r.requests_per_second).padStart(10)}${f2(r.throughput_per_worker).padStart(12)}${(f2(r.speedup) + 'x').padStart(10)}${(f1(r.scaling_efficiency) + '%').padStart(12)}${(f1(r.efficiency_vs_solo) + '%').padStart(13)}\n`;
  for (const r of rows) for (const n of r.notes) s += `Note (${r.workers} workers): ${n}\n`;
  return s;
}

export function formatComplete(r: BenchmarkResults, savedTo: string | undefined): string {
  let s = banner(r.partial ? 'BENCHMARK INTERRUPTED (partial results)' : 'BENCHMARK COMPLETE');
  if (r.best_concurrency)
    s += `Best concurrency: ${r.best_concurrency.concurrency} (${f1(r.best_concurrency.requests_per_second)} req/sec)\n`;
  if (r.best_worker_count)
    s += `Best worker count: ${r.best_worker_count.workers} (${f1(r.best_worker_count.requests_per_second)} req/sec)\n`;
  for (const n of r.notes) s += `Note: ${n}\n`;
  if (savedTo !== undefined) s += `Results saved to: ${savedTo}\n`;
  return s;
}

/** Prints a run as it goes, in the guide's layout. */
export function printRun(run: BenchmarkRun, out: (s: string) => void): void {
  run.on('health', ({ phase, stats, healthy }) => {
    const n = stats.workers.length;
    if (phase === 'scaling') out(banner(`TESTING WITH ${n} WORKER${n === 1 ? '' : 'S'}`));
    if (phase === 'solo') out(banner(`SOLO BASELINE: ${stats.workers.map((w) => w.id).join(', ')}`));
    out(`Healthy workers: ${healthy}/${n}\n`);
    for (const w of stats.workers)
      if (w.state !== 'healthy' && w.state !== 'degraded') out(`  ${w.id}: DOWN (${w.reason || w.state})\n`);
  });
  run.on('note', (n) => out(`Note: ${n}\n`));
  run.on('level:start', (e) => {
    if (e.phase === 'concurrency') out(banner(`BENCHMARKING WITH CONCURRENCY: ${e.concurrency}`));
    if (e.phase === 'rate') out(banner(`BENCHMARKING WITH RATE: ${e.rate ?? 0} req/s`));
  });
  run.on('level:end', ({ phase, result }) => {
    if (phase === 'scaling' || phase === 'solo') {
      const n = result.workers.length;
      out(`Throughput: ${f2(result.requests_per_second)} req/sec\n`);
      out(`Per worker: ${f2(result.requests_per_second / Math.max(1, n))} req/sec\n`);
      out(
        `Success rate: ${f1(result.success_rate)}%, avg response time ${f2(result.avg_response_time)}s, P95 ${f2(result.p95_response_time)}s (concurrency ${result.concurrency})\n`,
      );
      for (const note of result.notes) out(`Note: ${note}\n`);
    } else out(formatLevel(result));
  });
}
