/**
 * npm run bench:scheduler - the scheduler against simulated workers, side by side in one run:
 *  1. homogeneous fleet, 3 workers x 5 slots x 0.5 s per request (the guide's setup): throughput / ideal;
 *  2. heterogeneous fleet (speeds 1, 1, 0.5): ours vs a plain round-robin client, both vs the sum
 *     of each worker's solo throughput measured in this same run;
 *  3. scheduler cost: dispatch decisions/s with 100 workers and 10,000 queued requests;
 *  4. the highest concurrency any simulated worker saw vs its cap (ground truth from /sim/stats).
 * The simulated workers run in a child process (`fleet sim --file`), so the scheduler under test and
 * the "machines" do not share one event loop, as on real hardware.
 * Real time by default (TIME_SCALE=1: a 0.5 s request takes 0.5 s; about nine minutes); a smaller
 * TIME_SCALE runs faster, but then fixed per-request costs weigh more against the shorter requests.
 * Env: TIME_SCALE, RUNS (3), ROUNDS (24), WARMUP_ROUNDS (8), PARTS (homogeneous,heterogeneous,cost).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { createBackend } from '../src/backends/index.ts';
import { parseConfig } from '../src/config/index.ts';
import type { Backend } from '../src/backends/types.ts';
import type { FleetConfig } from '../src/config/types.ts';
import { createFleet, type Fleet } from '../src/fleet/index.ts';
import type { SimStats, SimWorkerOptions } from '../src/sim/index.ts';
import { dispatchCost } from './scheduler-cost.ts';

const TIME_SCALE = Number(process.env['TIME_SCALE'] ?? 1);
const RUNS = Number(process.env['RUNS'] ?? 3);
/**
 * Requests per measurement, per slot of the fleet. A fixed-size closed loop ends with a tail no
 * scheduler can avoid: the last request issued still needs a full service time on the fastest
 * worker while the rest of the fleet has nothing left to do. On the heterogeneous fleet that tail
 * is ~0.5 s; at 12 rounds (a 7.3 s run) it alone caps the ratio at ~0.95, at 24 rounds (~14.6 s)
 * at ~0.97, so 24 rounds measure throughput rather than the end of the run. (docs/performance.md)
 */
const ROUNDS = Number(process.env['ROUNDS'] ?? 24);
/**
 * Requests per slot before measuring: the first few hundred requests of a process run cold code
 * (V8 compiles the hot path only after it has run a while), which costs ~1 % on this benchmark;
 * a fleet serving users has long been warm.
 */
const WARMUP_ROUNDS = Number(process.env['WARMUP_ROUNDS'] ?? 8);
/** Parts to run, comma-separated: homogeneous, heterogeneous, cost. @default all */
const PARTS = new Set((process.env['PARTS'] ?? 'homogeneous,heterogeneous,cost').split(','));

const HOMOGENEOUS: SimWorkerOptions[] = [0, 1, 2].map((i) => ({
  id: `studio-${i + 1}`,
  slots: 5,
  fixedLatencyMs: 500,
  outputTokens: 20,
  timeScale: TIME_SCALE,
  seed: i + 1,
}));

// 25 tokens at 50 tok/s = 0.5 s of decode at speed 1, 1 s at speed 0.5; no batch slowdown.
const HETEROGENEOUS: SimWorkerOptions[] = [1, 1, 0.5].map((speed, i) => ({
  id: `mixed-${i + 1}`,
  slots: 5,
  decodeTps: 50,
  prefillTps: 1e9,
  batchSlowdown: 0,
  outputTokens: 25,
  speed,
  timeScale: TIME_SCALE,
  seed: i + 1,
}));

/** A simulated fleet in a child process: its worker config, and each worker's /sim/stats. */
interface SimProcess {
  workers: Array<{
    id: string;
    host: string;
    port: number;
    type: string;
    model: string;
    max_concurrent_requests: number;
  }>;
  specs: SimWorkerOptions[];
  stats(id: string): Promise<SimStats>;
  close(): Promise<void>;
}

async function startSim(specs: SimWorkerOptions[]): Promise<SimProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sched-'));
  const file = join(dir, 'sim.json');
  writeFileSync(file, JSON.stringify(specs));
  const bin = fileURLToPath(new URL('../bin/fleet.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [bin, 'sim', '--file', file], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  let config: { workers: SimProcess['workers'] } | undefined;
  while (config === undefined) {
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    out += chunk.toString();
    try {
      config = JSON.parse(out) as { workers: SimProcess['workers'] };
    } catch {
      // not complete yet
    }
  }
  const workers = config.workers;
  return {
    workers,
    specs,
    stats: async (id) => {
      const w = workers.find((x) => x.id === id)!;
      const r = await request(`http://${w.host}:${w.port}/sim/stats`);
      return (await r.body.json()) as SimStats;
    },
    close: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function configFor(sim: SimProcess, ids?: string[]): FleetConfig {
  const workers = ids ? sim.workers.filter((w) => ids.includes(w.id)) : sim.workers;
  return parseConfig({ workers, settings: { max_retries: 0 } }, { file: 'bench' });
}

/** Closed loop: `concurrency` callers, each sending its next request as soon as the last returns. */
async function closedLoop(
  send: (i: number) => Promise<unknown>,
  concurrency: number,
  total: number,
): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const caller = async () => {
    while (next < total) {
      const i = next++;
      await send(i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return done / ((performance.now() - t0) / 1000);
}

const REQ = {
  messages: [{ role: 'user' as const, content: 'What is the capital of France?' }],
  max_tokens: 25,
};

async function fleetRps(fleet: Fleet, concurrency: number, total: number): Promise<number> {
  return closedLoop(() => fleet.chat(REQ), concurrency, total);
}

async function roundRobinRps(backends: Backend[], concurrency: number, total: number): Promise<number> {
  return closedLoop((i) => backends[i % backends.length]!.chat(REQ), concurrency, total);
}

/** Tail hedges started / won so far across the fleet's workers (see src/fleet/scheduler.ts). */
function hedgeCount(fleet: Fleet): number {
  return fleet.workers.reduce((n, w) => n + w.hedges, 0);
}

function hedgeWins(fleet: Fleet): number {
  return fleet.workers.reduce((n, w) => n + w.hedgeWins, 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(label: string, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await f());
  const m = median(xs);
  console.log(
    `  ${label.padEnd(44)} ${m.toFixed(1).padStart(8)} req/s  (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})`,
  );
  return m;
}

async function maxConcurrencyReport(sim: SimProcess): Promise<boolean> {
  let ok = true;
  for (const w of sim.workers) {
    const st = await sim.stats(w.id);
    const cap = w.max_concurrent_requests;
    ok &&= st.maxInFlight <= cap;
    console.log(
      `  ${w.id}: highest concurrency seen ${st.maxInFlight} / cap ${cap} ${st.maxInFlight <= cap ? 'ok' : 'EXCEEDED'}`,
    );
  }
  return ok;
}

async function homogeneous(): Promise<{ ratios: number[]; capsOk: boolean }> {
  const scale = 1 / TIME_SCALE;
  const ideal = 30 * scale;
  console.log(
    `\n1. Homogeneous: 3 workers x 5 slots x 0.5 s (x${TIME_SCALE} time scale): ideal ${ideal.toFixed(1)} req/s`,
  );
  const sim = await startSim(HOMOGENEOUS);
  const fleet = createFleet(configFor(sim), { probe: false });
  const ratios: number[] = [];
  let capsOk = false;
  try {
    await fleetRps(fleet, 15, 15 * WARMUP_ROUNDS);
    for (const c of [15, 30]) {
      const rps = await measure(`fleet, concurrency ${c}`, () => fleetRps(fleet, c, 15 * ROUNDS));
      ratios.push(rps / ideal);
      console.log(`  ${''.padEnd(44)} throughput / ideal = ${(rps / ideal).toFixed(3)}`);
    }
    console.log('  ground truth from /sim/stats:');
    capsOk = await maxConcurrencyReport(sim);
  } finally {
    await fleet.close();
    await sim.close();
  }
  return { ratios, capsOk };
}

async function heterogeneous(): Promise<{ ours: number[]; vsRR: number[]; capsOk: boolean }> {
  console.log('\n2. Heterogeneous: speeds 1, 1, 0.5 (5 slots each, 25 tokens at 50 tok/s)');
  const sim = await startSim(HETEROGENEOUS);
  const ours: number[] = [];
  const vsRR: number[] = [];
  let capsOk = false;
  try {
    let ideal = 0;
    for (const [i, w] of sim.workers.entries()) {
      const solo = createFleet(configFor(sim, [w.id]), { probe: false });
      await fleetRps(solo, 5, 5 * WARMUP_ROUNDS);
      ideal += await measure(`solo ${w.id} (speed ${sim.specs[i]!.speed})`, () =>
        fleetRps(solo, 5, 5 * ROUNDS),
      );
      await solo.close();
    }
    console.log(`  ideal = sum of solo throughputs = ${ideal.toFixed(1)} req/s`);
    const config = configFor(sim);
    const fleet = createFleet(config, { probe: false });
    const backends = config.workers.map((w) => createBackend(w));
    try {
      await fleetRps(fleet, 15, 15 * WARMUP_ROUNDS);
      for (const c of [15, 30]) {
        const [hedges0, wins0] = [hedgeCount(fleet), hedgeWins(fleet)];
        const rps = await measure(`ours, concurrency ${c}`, () => fleetRps(fleet, c, 15 * ROUNDS));
        console.log(
          `  ${''.padEnd(44)} tail hedges per run: ${((hedgeCount(fleet) - hedges0) / RUNS).toFixed(1)} started, ${((hedgeWins(fleet) - wins0) / RUNS).toFixed(1)} answered first`,
        );
        const rr = await measure(`round-robin, concurrency ${c}`, () =>
          roundRobinRps(backends, c, 15 * ROUNDS),
        );
        ours.push(rps / ideal);
        vsRR.push(rps / rr);
        console.log(
          `  ${''.padEnd(44)} ours / ideal = ${(rps / ideal).toFixed(3)}, round-robin / ideal = ${(rr / ideal).toFixed(3)}, ours / round-robin = ${(rps / rr).toFixed(2)}x`,
        );
      }
      // Round-robin ignores caps (the workers queue the excess themselves): reset, then check ours alone.
      await Promise.all(
        sim.workers.map((w) => request(`http://${w.host}:${w.port}/sim/reset`, { method: 'POST' })),
      );
      await fleetRps(fleet, 30, 15 * ROUNDS);
      console.log('  ground truth from /sim/stats (a run of ours at concurrency 30 after a reset):');
      capsOk = await maxConcurrencyReport(sim);
    } finally {
      await fleet.close();
      await Promise.all(backends.map((b) => b.close()));
    }
  } finally {
    await sim.close();
  }
  return { ours, vsRR, capsOk };
}

async function main(): Promise<void> {
  console.log(
    `bench:scheduler  (time scale ${TIME_SCALE}, median of ${RUNS} runs, ${ROUNDS} rounds per run after ${WARMUP_ROUNDS} of warm-up)`,
  );
  const h = PARTS.has('homogeneous') ? await homogeneous() : { ratios: [], capsOk: true };
  const het = PARTS.has('heterogeneous') ? await heterogeneous() : { ours: [], vsRR: [], capsOk: true };
  if (!PARTS.has('cost')) return;
  console.log('\n3. Scheduler cost: 100 workers, 10,000 queued requests');
  const cost = await dispatchCost(RUNS);
  console.log(
    `  queued dispatch (slot frees -> next request): ${Math.round(cost.queued).toLocaleString('en-US')} decisions/s`,
  );
  console.log(
    `  direct pick (new request, free workers):      ${Math.round(cost.direct).toLocaleString('en-US')} decisions/s`,
  );
  console.log('\nSummary');
  console.log(
    `  homogeneous throughput/ideal: ${h.ratios.map((r) => r.toFixed(3)).join(', ')} (target >= 0.98)`,
  );
  console.log(
    `  heterogeneous ours/ideal:     ${het.ours.map((r) => r.toFixed(3)).join(', ')} (target >= 0.95)`,
  );
  console.log(`  heterogeneous ours/round-robin: ${het.vsRR.map((r) => r.toFixed(2) + 'x').join(', ')}`);
  console.log(
    `  highest concurrency vs cap:   ${h.capsOk && het.capsOk ? 'never above the cap' : 'EXCEEDED'}`,
  );
  console.log(
    `  dispatch decisions/s:         ${Math.round(cost.queued).toLocaleString('en-US')} with 10,000 queued (target >= 100,000); ${Math.round(cost.direct).toLocaleString('en-US')} picking among 100 free workers`,
  );
}

await main();
