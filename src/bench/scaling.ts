import { explainScaling } from './explain.ts';
import { round } from './self-check.ts';
import type { LevelResult, ScalingResult } from './types.ts';

/** Which worker counts run: the requested ones up to the configured workers, sorted, deduplicated. */
export function scalingPlan(
  configured: number,
  requested: readonly number[],
): { counts: number[]; skipped: number[] } {
  const uniq = [...new Set(requested)].sort((a, b) => a - b);
  return {
    counts: uniq.filter((n) => n >= 1 && n <= configured),
    skipped: uniq.filter((n) => n > configured),
  };
}

/**
 * One worker count's row. Efficiency is given two ways (DESIGN.md "Measurement"): speedup / N
 * against worker 1 alone, and throughput / the sum of each of the N workers' solo throughput,
 * which stays fair when the machines differ. `solo` holds the solo levels by worker id; when one
 * of the N was not measured alone (`--no-solo`) the solo sum and that efficiency are 0 (unknown).
 */
export function scalingResult(
  n: number,
  ids: string[],
  healthy: number,
  level: LevelResult,
  solo: Readonly<Record<string, LevelResult>>,
): ScalingResult {
  const rps = level.requests_per_second;
  const base = solo[ids[0] ?? '']?.requests_per_second ?? 0;
  const known = ids.every((id) => solo[id] !== undefined);
  const soloSum = known ? ids.reduce((a, id) => a + (solo[id]?.requests_per_second ?? 0), 0) : 0;
  const speedup = base > 0 ? rps / base : 0;
  const row: Omit<ScalingResult, 'notes'> = {
    workers: n,
    healthy_workers: healthy,
    requests_per_second: rps,
    success_rate: level.success_rate,
    throughput_per_worker: round(rps / n, 4),
    worker_ids: ids,
    concurrency: level.concurrency,
    speedup: round(speedup, 4),
    scaling_efficiency: round((speedup / n) * 100, 2),
    solo_sum_rps: round(soloSum, 4),
    efficiency_vs_solo: soloSum > 0 ? round((rps / soloSum) * 100, 2) : 0,
    level,
  };
  return { ...row, notes: explainScaling(row, solo) };
}
