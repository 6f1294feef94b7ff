import type { LevelResult, ScalingResult, WorkerLevelResult } from './types.ts';

/** Requests per caller below which ramp-up and the tail of a closed-loop level dominate it. */
const MIN_ROUNDS = 4;
/**
 * A worker is called slower than the rest only when its p50 response time is this many times the
 * others' median: identical workers differ by a few percent from run to run, so noise never
 * crosses it.
 */
const SLOW_FACTOR = 1.5;
/** Solo throughputs must differ by this factor before the workers are said to differ in speed. */
const SPEED_FACTOR = 1.25;
/** Fewer successful requests than this and a worker's p50 says too little to compare. */
const MIN_SAMPLES = 3;
/** Slot occupancy (percent) from which a worker counts as saturated. */
const SATURATED = 90;

const pct = (v: number) => `${v.toFixed(0)}%`;
const sec = (v: number) => `${v.toFixed(3)}s`;
const list = (xs: readonly string[]) =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1] ?? ''}`;
const codes = (errors: Readonly<Record<string, number>>) =>
  Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} x${n}`)
    .join(', ');
const isUp = (w: WorkerLevelResult) => w.state === 'healthy' || w.state === 'degraded';
/** Why a worker is not healthy, without the worker id the fleet's reason may start with. */
const reasonOf = (w: WorkerLevelResult) =>
  w.reason.startsWith(`${w.worker}: `) ? w.reason.slice(w.worker.length + 2) : w.reason;
const why = (w: WorkerLevelResult) => (reasonOf(w) ? ` (${reasonOf(w)})` : '');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** A finding: `problem` ones (something went wrong) are repeated in the worker-scaling notes. */
interface Finding {
  problem: boolean;
  text: string;
}

function findings(l: Omit<LevelResult, 'notes'>): Finding[] {
  const out: Finding[] = [];
  const problem = (text: string) => out.push({ problem: true, text });
  const info = (text: string) => out.push({ problem: false, text });
  const valid = l.self_check.valid;
  if (!valid) problem(`INVALID: ${l.self_check.reasons.join('; ')}`);
  const real = l.workers.filter((w) => w.cap > 0);
  if (l.failed > 0) {
    const where = l.workers
      .filter((w) => w.failed > 0)
      .map((w) => `${w.worker} ${w.failed} of ${w.requests}`)
      .join(', ');
    problem(`${l.failed} of ${l.total_requests} requests failed (${codes(l.errors)}; ${where})`);
  }
  // Attempts that failed and were retried elsewhere never show as failed requests: name them.
  for (const w of real) {
    const hidden = w.failed_attempts - w.failed;
    if (hidden > 0)
      problem(
        `${w.worker}: ${hidden} attempts failed (${codes(w.attempt_errors)}) and were retried on other workers${isUp(w) ? '' : `; it ended ${w.state}${why(w)}`}`,
      );
  }
  // Tail hedges move requests from slow workers to fast ones at the end of a level: say so, so a
  // slow worker's smaller share and its cancelled attempts are not read as trouble.
  for (const w of real.filter((x) => x.hedges > 0))
    info(
      `${w.worker} ran ${w.hedges} tail ${w.hedges === 1 ? 'hedge' : 'hedges'} (copies of requests a slower worker was still on); ${w.hedge_wins} answered first`,
    );
  for (const w of real.filter((x) => x.cancelled_attempts > 0))
    info(
      `${w.worker}: ${w.cancelled_attempts} ${w.cancelled_attempts === 1 ? 'attempt' : 'attempts'} cancelled because another copy answered first (not failures)`,
    );
  const totalCap = real.reduce((a, w) => a + w.cap, 0);
  // Slots of workers that could take work: a down worker's slots do not count as capacity.
  const upCap = real.filter(isUp).reduce((a, w) => a + w.cap, 0);
  const slots =
    upCap === totalCap ? `the fleet's ${totalCap} slots` : `the ${upCap} slots of the healthy workers`;
  for (const w of real.filter((x) => x.requests === 0)) {
    if (!isUp(w)) problem(`${w.worker} served nothing: it is ${w.state}${why(w)}`);
    else if (l.load === 'closed' && l.concurrency <= totalCap - w.cap)
      info(`${w.worker} served nothing: concurrency ${l.concurrency} fit in the other workers' slots`);
    else problem(`${w.worker} served nothing although it was healthy and requests were waiting`);
  }
  // A worker whose typical service time (without queue wait, which is the fleet's, not the
  // worker's) is far above the others' is slower, whatever the cause.
  const timed = real.filter((w) => w.successful >= MIN_SAMPLES && w.p50_service_time > 0);
  for (const w of timed) {
    const others = timed.filter((o) => o !== w);
    const ref = median(others.map((o) => o.p50_service_time));
    if (others.length > 0 && ref > 0 && w.p50_service_time >= ref * SLOW_FACTOR)
      problem(
        `${w.worker} is slower than the rest: p50 service time ${sec(w.p50_service_time)} against ${sec(ref)} on ${list(others.map((o) => o.worker))} (${(w.p50_service_time / ref).toFixed(1)}x)`,
      );
  }
  if (l.load === 'closed' && l.total_requests < l.concurrency * MIN_ROUNDS)
    problem(
      `only ${l.total_requests} requests for concurrency ${l.concurrency}: ramp-up and the tail weigh heavily; use --requests ${l.concurrency * 10} or more`,
    );
  if (l.load === 'open' && l.rate !== undefined && l.requests_per_second < l.rate * 0.95 && l.successful > 0)
    info(
      `offered ${l.rate} req/s, completed ${l.requests_per_second.toFixed(2)} req/s: the fleet is over capacity and requests queued (p95 wait ${l.queue_wait_p95.toFixed(2)}s), which the response times include`,
    );
  // Capacity remarks describe the fleet; when the client was the bottleneck they would mislead.
  if (!valid || l.load !== 'closed' || upCap === 0) return out;
  const saturated = real.filter((w) => w.slot_occupancy >= SATURATED);
  if (l.concurrency < upCap && l.successful > 0) {
    const bound = l.p50_response_time > 0 ? l.concurrency / l.p50_response_time : 0;
    info(
      `concurrency ${l.concurrency} fills at most ${l.concurrency} of ${slots}: throughput is bounded by concurrency / response time (${l.concurrency} / ${sec(l.p50_response_time)} = ${bound.toFixed(1)} req/s); raise the concurrency to use the rest`,
    );
  } else if (l.concurrency > upCap)
    info(
      `concurrency ${l.concurrency} exceeds ${slots}: the rest wait in the queue (p95 wait ${l.queue_wait_p95.toFixed(2)}s), so throughput cannot rise further`,
    );
  const underused = real.filter((w) => w.slot_occupancy < 50 && w.requests > 0 && isUp(w));
  if (l.concurrency >= upCap && saturated.length > 0 && underused.length > 0)
    problem(
      `load imbalance: ${list(saturated.map((w) => `${w.worker} used ${pct(w.slot_occupancy)} of its slots`))} while ${list(underused.map((w) => `${w.worker} used ${pct(w.slot_occupancy)}`))}`,
    );
  else if (l.concurrency >= upCap && saturated.length === real.filter(isUp).length)
    info(
      `every ${upCap === totalCap ? '' : 'healthy '}worker's slots were full (${list(saturated.map((w) => `${w.worker} ${pct(w.slot_occupancy)}`))}): the fleet's capacity set this throughput; more workers or slots would raise it`,
    );
  return out;
}

/**
 * Plain-language reasons a level did not do better, from its own numbers, each naming the worker
 * and the figure: the client being the bottleneck, failures (also ones hidden by retries), a
 * worker that served nothing, a worker far slower than the rest, too few requests, concurrency
 * below or above the fleet's slots, imbalance, and full slots.
 */
export function explainLevel(l: Omit<LevelResult, 'notes'>): string[] {
  return findings(l).map((f) => f.text);
}

/**
 * Why N workers did not give N times one worker's throughput. `solo` holds the levels of these
 * workers each measured alone (by id; missing ones were not measured).
 */
export function explainScaling(
  r: Omit<ScalingResult, 'notes'>,
  solo: Readonly<Record<string, LevelResult>> = {},
): string[] {
  const notes: string[] = [];
  const down = r.level.workers.filter((w) => w.cap > 0 && !isUp(w));
  if (r.healthy_workers < r.workers)
    notes.push(
      `only ${r.healthy_workers} of ${r.workers} workers were healthy${down.length > 0 ? ` (${down.map((w) => `${w.worker}: ${reasonOf(w) || w.state}`).join('; ')})` : ''}`,
    );
  if (r.workers < 2) return notes;
  const alone = r.worker_ids.flatMap((id) => {
    const l = solo[id];
    return l ? [{ id, l }] : [];
  });
  for (const { id, l } of alone)
    if (l.failed > 0)
      notes.push(`${id} alone: ${l.failed} of ${l.total_requests} requests failed (${codes(l.errors)})`);
  const sound = alone.filter(({ l }) => l.failed === 0 && l.successful >= MIN_SAMPLES);
  const fast = sound.reduce<(typeof sound)[number] | undefined>(
    (a, x) => (a && a.l.requests_per_second >= x.l.requests_per_second ? a : x),
    undefined,
  );
  const slow = sound.filter(
    (x) => fast && x.l.requests_per_second * SPEED_FACTOR <= fast.l.requests_per_second,
  );
  if (fast && slow.length > 0)
    notes.push(
      `the workers differ in speed: alone, ${list(slow.map((x) => `${x.id} did ${x.l.requests_per_second.toFixed(2)} req/s`))} against ${fast.l.requests_per_second.toFixed(2)} for ${fast.id}, so speedup / N against worker 1 is no fair measure; the fair target is the sum of solo throughputs (${r.solo_sum_rps.toFixed(2)} req/s), of which the fleet reached ${pct(r.efficiency_vs_solo)}`,
    );
  const target = r.solo_sum_rps > 0 ? r.efficiency_vs_solo : r.scaling_efficiency;
  if (target < 90) {
    const causes: string[] = [];
    const real = r.level.workers.filter((w) => w.cap > 0 && w.requests > 0);
    const short = real.filter((w) => w.slot_occupancy < SATURATED);
    if (short.length > 0)
      causes.push(
        `${list(short.map((w, i) => `${w.worker}${i === 0 ? ' had' : ''} ${pct(w.slot_occupancy)}`))} of ${short.length === 1 ? 'its' : 'their'} slots in use`,
      );
    const slower = real.flatMap((w) => {
      const s = solo[w.worker];
      if (!s || s.successful < MIN_SAMPLES || w.successful < MIN_SAMPLES || s.p50_response_time <= 0)
        return [];
      const ratio = w.p50_response_time / s.p50_response_time;
      return ratio >= 1.05
        ? [
            `${w.worker} p50 ${sec(w.p50_response_time)} vs ${sec(s.p50_response_time)} alone (+${pct((ratio - 1) * 100)})`,
          ]
        : [];
    });
    if (slower.length > 0)
      causes.push(`requests took longer than with each worker alone (${slower.join(', ')})`);
    const against =
      r.solo_sum_rps > 0
        ? `${pct(r.efficiency_vs_solo)} of the sum of solo throughputs (${r.solo_sum_rps.toFixed(2)} req/s)`
        : `${pct(r.scaling_efficiency)} of ${r.workers}x worker 1`;
    notes.push(
      `${r.workers} workers reached ${against}: ${causes.length > 0 ? causes.join('; ') : 'no worker stands out in the per-worker figures'}`,
    );
  }
  const own = findings(r.level).filter((f) => f.problem);
  for (const f of own) if (!notes.includes(f.text)) notes.push(f.text);
  return notes;
}
