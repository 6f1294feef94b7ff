import type { LevelResult, ScalingResult } from './types.ts';

/** Requests per caller below which ramp-up and the tail of a closed-loop level dominate it. */
const MIN_ROUNDS = 4;

const pct = (v: number) => `${v.toFixed(0)}%`;

/**
 * Plain-language reasons a level did not do better, from its own numbers: errors, the client
 * being the bottleneck, saturated workers, imbalance, too few requests for the concurrency.
 */
export function explainLevel(l: Omit<LevelResult, 'notes'>): string[] {
  const notes: string[] = [];
  if (l.failed > 0) {
    const codes = Object.entries(l.errors)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} x${n}`)
      .join(', ');
    notes.push(`${l.failed} of ${l.total_requests} requests failed (${codes})`);
  }
  if (!l.self_check.valid) notes.push(`INVALID: ${l.self_check.reasons.join('; ')}`);
  const real = l.workers.filter((w) => w.cap > 0);
  const totalCap = real.reduce((a, w) => a + w.cap, 0);
  if (l.load === 'closed' && l.total_requests < l.concurrency * MIN_ROUNDS)
    notes.push(
      `only ${l.total_requests} requests for concurrency ${l.concurrency}: ramp-up and the tail weigh heavily; use --requests ${l.concurrency * 10} or more`,
    );
  if (l.load === 'closed' && totalCap > 0 && l.concurrency > totalCap)
    notes.push(
      `concurrency ${l.concurrency} exceeds the fleet's ${totalCap} slots: the rest wait in the queue (p95 wait ${l.queue_wait_p95.toFixed(2)}s), so throughput cannot rise further`,
    );
  const saturated = real.filter((w) => w.slot_occupancy >= 90);
  const idle = real.filter((w) => w.slot_occupancy < 50 && w.requests > 0);
  const unused = real.filter((w) => w.requests === 0);
  if (saturated.length > 0 && saturated.length < real.length && (idle.length > 0 || unused.length > 0))
    notes.push(
      `load imbalance: ${saturated.map((w) => `${w.worker} saturated (${pct(w.slot_occupancy)} of slots)`).join(', ')} while ${[...idle, ...unused].map((w) => `${w.worker} used ${pct(w.slot_occupancy)}`).join(', ')}`,
    );
  else if (saturated.length > 0 && saturated.length === real.length && l.load === 'closed')
    notes.push(
      `every worker was saturated (${saturated.map((w) => pct(w.slot_occupancy)).join(', ')} of slots): the fleet, not the client, set this throughput`,
    );
  if (unused.length > 0 && l.concurrency >= real.length)
    notes.push(`${unused.map((w) => w.worker).join(', ')} served nothing (down or unreachable?)`);
  return notes;
}

/** Why N workers did not give N times one worker's throughput. */
export function explainScaling(r: Omit<ScalingResult, 'notes'>): string[] {
  const notes: string[] = [];
  if (r.healthy_workers < r.workers)
    notes.push(`only ${r.healthy_workers} of ${r.workers} workers were healthy`);
  if (r.workers > 1 && r.scaling_efficiency < 90 && r.efficiency_vs_solo >= 90)
    notes.push(
      `the workers differ in speed: against the sum of each one's solo throughput (${r.solo_sum_rps.toFixed(2)} req/s) the fleet reached ${pct(r.efficiency_vs_solo)}`,
    );
  else if (r.workers > 1 && r.efficiency_vs_solo < 90) notes.push(...explainLevel(r.level));
  return notes;
}
