/**
 * `npm run bench:batch`: the guide's job - the research preset (5 prompts) over 100 papers of
 * ~6,000 tokens - on simulated Mac-Studio-like workers with prefix caches, three ways in one run:
 * 3 workers with document affinity, 3 workers with --no-affinity, and 1 worker with affinity.
 * Each run starts on fresh workers (empty caches). Prints model-time figures (what the job would
 * take on the simulated hardware), ratios, and the ideal each could reach.
 *
 * Figures in docs/performance.md use --time-scale 0.5: at 0.1-0.2 this one process (15 streaming
 * workers, the fleet, the batch) is CPU-bound on a shared machine and event-loop delays stretch
 * model time by a few percent.
 *
 * Flags: --papers N (100), --time-scale X (0.1), --tokens N (6000 per paper),
 *        --prefill-tps N (1000), --decode-tps N (40), --output-tokens N (120), --slots N (5),
 *        --cache-tokens N (131072), --only a3,n3,a1 (which runs: 3 workers with affinity, 3 without,
 *        1 worker; all by default), --dump PREFIX (writes each run's simulator request logs to
 *        PREFIX-<run>.json, for looking at the end of the job).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPreset, prepareBatch, runBatch } from '../src/batch/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { createFleet } from '../src/fleet/index.ts';
import { startSimFleet, type SimWorkerOptions } from '../src/sim/index.ts';
import { listFlag, numberFlag } from './args.ts';
import { paper } from './papers.ts';

const PAPERS = numberFlag('papers', 100);
const SCALE = numberFlag('time-scale', 0.1);
const TOKENS = numberFlag('tokens', 6000);
const PREFILL = numberFlag('prefill-tps', 1000);
const DECODE = numberFlag('decode-tps', 40);
const OUTPUT = numberFlag('output-tokens', 120);
const SLOTS = numberFlag('slots', 5);
const SLOWDOWN = 0.05;
const CACHE = numberFlag('cache-tokens', 131072);
/** Which runs: a3 (3 workers, affinity), n3 (3 workers, --no-affinity), a1 (1 worker); all by default. */
const only = listFlag('only');
const ONLY = only && new Set(only);

const worker = (id: string): SimWorkerOptions => ({
  id,
  slots: SLOTS,
  prefillTps: PREFILL,
  decodeTps: DECODE,
  batchSlowdown: SLOWDOWN,
  outputTokens: OUTPUT,
  cacheTokens: CACHE,
  contextLength: 8192,
  timeScale: SCALE,
  maxQueue: 256,
});

interface RunFigures {
  label: string;
  workers: number;
  modelS: number;
  realS: number;
  ok: number;
  cacheHitTokens: number;
  prefillTokens: number;
  utilisation: number[];
  /** Per worker (model s from the start of the run): when its last request ended, documents prefilled. */
  tail: Array<{ id: string; endS: number; prefills: number; requests: number }>;
}

async function run(dir: string, label: string, workers: number, affinity: boolean): Promise<RunFigures> {
  const sim = await startSimFleet(Array.from({ length: workers }, (_, i) => worker(`studio-${i + 1}`)));
  const config = parseConfig(
    { workers: sim.workerConfig().workers, settings: { health_check_interval: 3600, request_timeout: 3600 } },
    { file: 'bench' },
  );
  const fleet = createFleet(config);
  const preset = findPreset('research');
  try {
    const prep = await prepareBatch({
      inputs: [join(dir, 'papers')],
      cwd: dir,
      output: `${label.replace(/\W+/g, '-')}.json`,
      prompts: preset.prompts,
      ...(preset.system === undefined ? {} : { sharedSystem: preset.system }),
      affinity,
      fresh: true,
    });
    const t0 = performance.now();
    const result = await runBatch(prep, fleet);
    const realS = (performance.now() - t0) / 1000;
    prep.journal.close();
    const stats = sim.workers.map((w) => w.stats());
    const dump = process.argv.indexOf('--dump');
    if (dump >= 0)
      writeFileSync(
        `${process.argv[dump + 1]}-${label.replace(/\W+/g, '-')}.json`,
        JSON.stringify(stats.map((s) => ({ id: s.id, log: s.log }))),
      );
    // Sim logs count from each worker's start (all started together): the run starts at the first arrival.
    const origin = Math.min(...stats.flatMap((s) => s.log.map((l) => l.arrivedAt)));
    return {
      label,
      workers,
      realS,
      modelS: result.summary.totalTimeS / SCALE,
      ok: result.summary.successful,
      cacheHitTokens: stats.reduce((n, s) => n + s.cacheHitTokens, 0),
      prefillTokens: stats.reduce((n, s) => n + s.prefillTokens, 0),
      utilisation: result.summary.workers.map((w) => w.utilisation),
      tail: stats.map((s) => ({
        id: s.id,
        endS: (Math.max(...s.log.map((l) => l.finishedAt ?? 0)) - origin) / 1000 / SCALE,
        prefills: s.log.filter((l) => l.cachedTokens < l.promptTokens / 2).length,
        requests: s.log.length,
      })),
    };
  } finally {
    await fleet.close();
    await sim.close();
  }
}

/**
 * The ideal makespan: all slot-time spread perfectly over every slot. With affinity each paper is
 * prefilled once; without, every prompt prefills it. Decode runs SLOTS sequences at once.
 */
function ideal(workers: number, affinity: boolean): number {
  const docTokens = Math.ceil(TOKENS * 1.0) + 60;
  const decodeS = (OUTPUT * (1 + SLOWDOWN * (SLOTS - 1))) / DECODE;
  const perDoc = affinity ? docTokens / PREFILL + 5 * decodeS : 5 * (docTokens / PREFILL + decodeS);
  return (PAPERS * perDoc) / (workers * SLOTS);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-batch-'));
  try {
    mkdirSync(join(dir, 'papers'));
    for (let i = 1; i <= PAPERS; i++)
      writeFileSync(join(dir, 'papers', `paper${String(i).padStart(3, '0')}.txt`), paper(i, TOKENS));
    console.log(
      `fleet batch: research preset (5 prompts) x ${PAPERS} papers of ~${TOKENS} tokens = ${PAPERS * 5} tasks\n` +
        `workers: ${SLOTS} slots, prefill ${PREFILL} tok/s, decode ${DECODE} tok/s (batch slowdown ${SLOWDOWN}), ` +
        `${OUTPUT}-token answers, ${CACHE}-token prefix cache; time scale ${SCALE}\n`,
    );
    const runs = new Map<string, RunFigures>();
    for (const [key, label, n, aff] of [
      ['a3', '3 workers, affinity', 3, true],
      ['n3', '3 workers, --no-affinity', 3, false],
      ['a1', '1 worker, affinity', 1, true],
    ] as const) {
      if (ONLY && !ONLY.has(key)) continue;
      const r = await run(dir, label, n, aff);
      runs.set(key, r);
      const id = ideal(n, aff);
      console.log(
        `${label.padEnd(26)} ${r.modelS.toFixed(1).padStart(7)} s (real ${r.realS.toFixed(1)} s)  ` +
          `${((r.ok / r.modelS) * 60).toFixed(1)} tasks/min  ideal ${id.toFixed(1)} s (${((id / r.modelS) * 100).toFixed(0)}% of ideal)  ` +
          `cache ${((r.cacheHitTokens / (r.cacheHitTokens + r.prefillTokens)) * 100).toFixed(0)}% of prompt tokens  ` +
          `busy ${r.utilisation.map((u) => `${(u * 100).toFixed(0)}%`).join('/')}  ok ${r.ok}/${PAPERS * 5}`,
      );
      // The end of the job: how far apart the workers finished, and how the documents were spread.
      console.log(
        `${''.padEnd(26)} workers ended at ${r.tail.map((t) => `${t.endS.toFixed(1)} s`).join(' / ')}; ` +
          `prefills ${r.tail.map((t) => t.prefills).join(' / ')}; requests ${r.tail.map((t) => t.requests).join(' / ')}`,
      );
    }
    const aff = runs.get('a3');
    const noAff = runs.get('n3');
    const one = runs.get('a1');
    if (aff && noAff)
      console.log(
        `\naffinity vs --no-affinity (3 workers): ${(noAff.modelS / aff.modelS).toFixed(2)}x faster (target >= 1.8x)`,
      );
    if (aff && one)
      console.log(
        `3 workers vs 1 worker (affinity):      ${(one.modelS / aff.modelS).toFixed(2)}x (target >= 2.9x; ideal 3.00x)`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
