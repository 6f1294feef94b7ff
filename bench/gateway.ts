/**
 * `npm run bench:gateway`: what the gateway costs. Three processes, so each figure is its own:
 * simulated workers (child), the gateway (`fleet serve`, child, silent logs), and this load generator.
 *
 * 1. Added latency at a fixed rate (default 1,000 req/s, open loop: one request every 1/rate s
 *    unless --pacer says otherwise, latency from the scheduled send time): the same requests straight to an instant simulated
 *    worker and through the gateway, side by side in alternating rounds (direct first in even
 *    rounds, the gateway first in odd ones). Each round's p50 and p99; the added latency is the median over rounds of the
 *    gateway's figure minus the direct one of the same round, so a burst of noise on this shared
 *    machine spoils one round, not the result. The pooled p50/p99 of all rounds are printed too,
 *    how late the requests were sent, and the added p50 counted from each request's actual send.
 * 2. Highest proxied req/s: closed loop, 64 concurrent, through the gateway.
 * 3. 1,000 concurrent slow streams (~10 s each) through the gateway: its resident memory
 *    (peak, from /proc) and whether every stream finished with `data: [DONE]`.
 * Flags: --rate N (1000), --seconds N per round (2), --rounds N (6), --streams N (1000; 0 skips 3),
 * --floor (also measure a bare node:http + undici dispatch proxy in every round: the floor for any proxy
 * in Node on this machine; the gateway minus it, paired by round, is what our own code adds),
 * --pacer constant|poisson|timer (when the open loop sends: constant, the default, one request every
 * 1/rate s; poisson, random gaps; timer, the setTimeout(1) loop of the seventh sitting and before,
 * which sends late and partly in pairs; see PACERS),
 * --profile DIR (write a CPU profile of the gateway process there),
 * --node-args "..." (more options for the gateway's node, after those on bin/fleet.mjs's #! line;
 * the last of a kind wins, so "--max-semi-space-size=16" measures V8's default young generation),
 * --no-build (do not build dist/ first when it is older than src/: the gateway then runs from the
 * sources through tsx), --against DIR (also measure the gateway of another checkout, e.g. a git
 * worktree of the commit before a change, as one more path in every round: code A/B in one run;
 * DIR needs its node_modules and, for the deployed form, its own `npm run build`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { distIsFresh } from '../bin/fresh.mjs';
import { createRandom, randomExponential, type Random } from '../src/core/random.ts';
import { stringFlag } from './args.ts';

const RATE = Number(stringFlag('rate', '1000'));
const SECONDS = Number(stringFlag('seconds', '2'));
const ROUNDS = Number(stringFlag('rounds', '6'));
const STREAMS = Number(stringFlag('streams', '1000'));
const PROFILE = stringFlag('profile', '');
const FLOOR = process.argv.includes('--floor');
const AGAINST = stringFlag('against', '');
/** Seconds of each closed loop (the warm-ups and the highest-rate phase). */
const CLOSED_SECONDS = 4;
const SELF = fileURLToPath(import.meta.url);
const BIN = fileURLToPath(new URL('../bin/fleet.mjs', import.meta.url));
/**
 * The gateway's node options: those `fleet` itself starts with (on bin/fleet.mjs's
 * `#!/usr/bin/env -S node ...` line; the npm scripts pass the same), so it runs as the command
 * runs it, then --node-args "..." (split on spaces; the last of a kind wins).
 */
const GATEWAY_NODE_ARGS = [
  ...(/^#!\S*env -S node(.*)$/.exec(readFileSync(BIN, 'utf8').split('\n', 1)[0]!)?.[1] ?? '').split(' '),
  ...stringFlag('node-args', '').split(' '),
].filter(Boolean);
const BODY = (model: string, stream = false) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 16, stream });

async function serveSim(): Promise<void> {
  const { startSimWorker } = await import('../src/sim/index.ts');
  const fast = await startSimWorker({
    id: 'instant',
    models: ['fast'],
    slots: 2048,
    maxQueue: 4096,
    decodeTps: Infinity,
    prefillTps: Infinity,
    outputTokens: 16,
    logLimit: 100,
  });
  const slow = await startSimWorker({
    id: 'slow',
    models: ['slow'],
    slots: STREAMS + 100,
    maxQueue: 4096,
    decodeTps: 2,
    prefillTps: Infinity,
    batchSlowdown: 0,
    outputTokens: 20,
    streamTickMs: 500,
    logLimit: 100,
  });
  process.stdout.write(`${JSON.stringify({ fast: fast.port, slow: slow.port })}\n`);
  process.once('SIGTERM', () => void Promise.all([fast.close(), slow.close()]).then(() => process.exit(0)));
}

/**
 * --floor: the least a proxy in Node can add, for comparison: a bare `node:http` server that
 * forwards each request through an undici Pool with a raw dispatch handler (keep-alive; the same
 * client and the same way of using it as the gateway: `request()` and its body stream cost
 * ~0.05-0.08 ms more at p50 here) and writes the answer back. No parsing, scheduling, metrics or logs.
 */
async function serveFloor(upstream: number): Promise<void> {
  const { createServer } = await import('node:http');
  const origin = `http://127.0.0.1:${upstream}`;
  const pool = new Pool(origin, { connections: 256, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const headers = ['content-type', 'application/json'];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      let status = 0;
      const chunks: Buffer[] = [];
      pool.dispatch(
        { origin, path: req.url!, method: 'POST', headers, body: Buffer.concat(parts) },
        {
          onConnect: () => undefined,
          onHeaders: (s: number) => ((status = s), true),
          onData: (b: Buffer) => (chunks.push(b), true),
          onComplete: () => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
          },
          onError: () => {
            res.statusCode = 502;
            res.end();
          },
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 })}\n`);
  });
}

/**
 * The gateway as deployed: `fleet serve` (bin/fleet.mjs: the compiled build when it is up to date,
 * else the sources through tsx; the first line of this bench says which), silent logs, port 0.
 */
function startGateway(
  ports: { fast: number; slow: number },
  bin = BIN,
): Promise<{ proc: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-gw-'));
  const file = join(dir, 'workers.json');
  const worker = (id: string, port: number, cap: number) => ({
    id,
    type: 'openai',
    host: '127.0.0.1',
    port,
    model: id === 'instant' ? 'fast' : 'slow',
    max_concurrent_requests: cap,
  });
  writeFileSync(
    file,
    JSON.stringify({
      workers: [worker('instant', ports.fast, 2048), worker('slow', ports.slow, STREAMS + 100)],
      settings: { max_retries: 0 },
    }),
  );
  // --profile DIR: a V8 CPU profile of the gateway process (open it in Chrome DevTools).
  const prof = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [];
  const args = [
    ...prof,
    ...GATEWAY_NODE_ARGS,
    bin,
    'serve',
    '-c',
    file,
    '--port',
    '0',
    '--log-level',
    'silent',
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stderr });
    rl.on('line', (l) => {
      const m = /fleet gateway on http:\/\/[^:]+:(\d+)/.exec(l);
      if (m) resolve({ proc, port: Number(m[1]) });
      else process.stderr.write(`gateway: ${l}\n`);
    });
    proc.once('exit', (c) => reject(new Error(`fleet serve exited with ${c}`)));
  });
}

function child(args: string[]): Promise<{ proc: ChildProcess; info: Record<string, number> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (l) => resolve({ proc, info: JSON.parse(l) as Record<string, number> }));
    proc.once('exit', (c) => reject(new Error(`child ${args[0]} exited with ${c}`)));
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) the process has used, from /proc (clock ticks of 10 ms). */
function cpuSec(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
}

/** The machine's CPU time so far, from /proc/stat: all, idle (with iowait) and steal, in ticks. */
function machineTicks(): { all: number; idle: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { all: f.reduce((a, x) => a + x, 0), idle: f[3]! + f[4]!, steal: f[7] ?? 0 };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function call(pool: Pool, body: string): Promise<number> {
  const res = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.body.text();
  return res.statusCode;
}

/**
 * When the open loop sends. `constant` (the default): one request every 1000/RATE ms, as wrk2
 * does. `poisson`: random gaps with that mean (seeded), as independent clients would send. Both are
 * sent by a pacer thread that sleeps to each send time (`Atomics.wait` takes fractions of a
 * millisecond) and tells this thread to send. `timer`: the constant schedule from a `setTimeout(1)`
 * loop in this thread, as up to the seventh sitting. That loop wakes every ~1.1 ms here (1.10-1.26,
 * p10-p90), so it sends each request ~0.7 ms late (p50), and two at once whenever that lateness
 * passes another whole millisecond; through a proxy, its requests also take ~0.15-0.25 ms longer
 * from their actual send than the same load sent on time (docs/performance.md, eighth sitting).
 */
const PACERS = ['constant', 'poisson', 'timer'] as const;
const PACER = stringFlag('pacer', 'constant') as (typeof PACERS)[number];
if (!PACERS.includes(PACER)) {
  console.error(`--pacer: one of ${PACERS.join(', ')}, not "${PACER}"`);
  process.exit(2);
}
const PACER_THREAD = `
const { parentPort } = require('node:worker_threads');
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => performance.timeOrigin + performance.now();
parentPort.on('message', ({ start, offsets }) => {
  for (let sent = 0; sent < offsets.length; ) {
    const wait = start + offsets[sent] - now();
    if (wait > 0) Atomics.wait(cell, 0, 0, wait);
    const t = now();
    let due = sent + 1;
    while (due < offsets.length && start + offsets[due] <= t) due++;
    parentPort.postMessage(due);
    sent = due;
  }
});
`;
/** The pacer thread, started before the rounds (it takes ~20 ms), so that no round starts late. */
let pacer: Worker | undefined;
async function startPacer(): Promise<void> {
  if (PACER === 'timer') return;
  pacer = new Worker(PACER_THREAD, { eval: true });
  pacer.unref();
  await new Promise((r) => pacer!.once('online', r));
}

/** One round's send times, in ms from its start: RATE * SECONDS of them. */
function sendOffsets(random: Random): number[] {
  const interval = 1000 / RATE;
  const offsets: number[] = [];
  for (let i = 0, t = 0; i < RATE * SECONDS; i++) {
    offsets.push(t);
    t += PACER === 'poisson' ? randomExponential(random, interval) : interval;
  }
  return offsets;
}

/** Calls `send(i)` for each offset, at start + offsets[i] ms (or, when behind, as soon as possible after). */
async function paced(start: number, offsets: readonly number[], send: (i: number) => void): Promise<void> {
  let sent = 0;
  if (PACER === 'timer') {
    while (sent < offsets.length) {
      const elapsed = performance.now() - start;
      while (sent < offsets.length && offsets[sent]! <= elapsed) send(sent++);
      await new Promise((r) => setTimeout(r, 1));
    }
    return;
  }
  const w = pacer!;
  await new Promise<void>((resolve) => {
    const onDue = (due: number) => {
      for (; sent < due; sent++) send(sent);
      if (sent === offsets.length) {
        w.off('message', onDue);
        resolve();
      }
    };
    w.on('message', onDue);
    w.postMessage({ start: performance.timeOrigin + start, offsets });
  });
}

/** One round of the open loop over `offsets`; latency from each request's scheduled send time. */
async function openLoop(
  pool: Pool,
  body: string,
  offsets: readonly number[],
): Promise<{ lat: number[]; fromSend: number[]; errors: number; lags: number[] }> {
  const lat: number[] = [];
  const fromSend: number[] = [];
  const lags: number[] = [];
  let errors = 0;
  // The first send 5 ms from now: time for the pacer thread to get its orders.
  const start = performance.now() + 5;
  const pending: Array<Promise<void>> = [];
  await paced(start, offsets, (i) => {
    const scheduled = start + offsets[i]!;
    const sentAt = performance.now();
    lags.push(sentAt - scheduled);
    pending.push(
      call(pool, body).then(
        (s) => {
          const t = performance.now();
          if (s !== 200) return void errors++;
          lat.push(t - scheduled);
          fromSend.push(t - sentAt);
        },
        () => void errors++,
      ),
    );
  });
  await Promise.all(pending);
  return { lat: lat.sort((a, b) => a - b), fromSend: fromSend.sort((a, b) => a - b), errors, lags };
}

async function closedLoop(pool: Pool, body: string, concurrency: number): Promise<number> {
  let done = 0;
  const end = performance.now() + CLOSED_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) if ((await call(pool, body)) === 200) done++;
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  // The gateway is measured as deployed: from the compiled build. Sources newer than dist/ would
  // run through tsx instead (+~35 MB and more CPU), so build first, unless --no-build.
  if (!distIsFresh() && !process.argv.includes('--no-build')) {
    console.log('dist/ is older than src/: npm run build first');
    execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], {
      stdio: 'inherit',
    });
  }
  const sim = await child(['--serve-sim']);
  const ports = sim.info as { fast: number; slow: number };
  const gwc = await startGateway(ports);
  const gwPid = gwc.proc.pid!;
  console.log(
    `gateway: node ${GATEWAY_NODE_ARGS.join(' ')} bin/fleet.mjs serve, from ${distIsFresh() ? 'the compiled build (dist/)' : 'the sources through tsx (run npm run build for the deployed form)'}`,
  );
  const direct = new Pool(`http://127.0.0.1:${ports.fast}`, { connections: 256 });
  const via = new Pool(`http://127.0.0.1:${gwc.port}`, { connections: 256 });
  const body = BODY('fast');
  // --floor: a bare proxy over the same worker, a third path in every round (see serveFloor).
  const floor = FLOOR ? await child(['--serve-floor', String(ports.fast)]) : undefined;
  // --against DIR: another checkout's gateway, over the same workers.
  const other = AGAINST ? await startGateway(ports, join(resolve(AGAINST), 'bin', 'fleet.mjs')) : undefined;
  if (other) console.log(`against: ${resolve(AGAINST)}/bin/fleet.mjs serve, same node options`);
  /** One way to the worker; `pid` is the proxy in between (its CPU is counted while it is measured). */
  interface Path {
    name: string;
    pool: Pool;
    pid?: number;
    cpu: { user: number; sys: number };
    lat: number[];
    p50: number[];
    /** p50 per round from each request's actual send (not its scheduled time). */
    sentP50: number[];
    p99: number[];
  }
  const path = (name: string, pool: Pool, pid?: number): Path => ({
    name,
    pool,
    ...(pid === undefined ? {} : { pid }),
    cpu: { user: 0, sys: 0 },
    lat: [],
    p50: [],
    sentP50: [],
    p99: [],
  });
  const dp = path('direct', direct);
  const gp = path('gateway', via, gwPid);
  const paths = [dp, gp];
  const ap = other
    ? path('against', new Pool(`http://127.0.0.1:${other.port}`, { connections: 256 }), other.proc.pid)
    : undefined;
  if (ap) paths.push(ap);
  if (floor)
    paths.push(
      path(
        'bare proxy',
        new Pool(`http://127.0.0.1:${floor.info['port']}`, { connections: 256 }),
        floor.proc.pid,
      ),
    );
  try {
    await startPacer();
    // Warm up every path (JIT, connections).
    for (const p of paths) await closedLoop(p.pool, body, 32);
    let errors = 0;
    const lags: number[] = [];
    const m0 = machineTicks();
    const random = createRandom(1);
    for (let r = 0; r < ROUNDS; r++) {
      // Every path gets the same send times in a round.
      const offsets = sendOffsets(random);
      // Each path goes first in turn, so the machine's drift does not favour one.
      for (let i = 0; i < paths.length; i++) {
        const p = paths[(i + r) % paths.length]!;
        const c0 = p.pid === undefined ? undefined : cpuSec(p.pid);
        const b = await openLoop(p.pool, body, offsets);
        if (c0 !== undefined) {
          const c1 = cpuSec(p.pid!);
          p.cpu.user += c1.user - c0.user;
          p.cpu.sys += c1.sys - c0.sys;
        }
        p.p50.push(pct(b.lat, 50));
        p.sentP50.push(pct(b.fromSend, 50));
        p.p99.push(pct(b.lat, 99));
        p.lat.push(...b.lat);
        errors += b.errors;
        lags.push(...b.lags);
      }
    }
    for (const p of paths) p.lat.sort((x, y) => x - y);
    lags.sort((x, y) => x - y);
    const f = (x: number) => x.toFixed(2);
    const med = (xs: number[]) =>
      pct(
        [...xs].sort((x, y) => x - y),
        50,
      );
    const list = (xs: number[]) => xs.map(f).join(' ');
    /** Median over rounds of (path p - path q) in the same round. */
    const minus = (p: Path, q: Path, k: 'p50' | 'p99' | 'sentP50') => med(p[k].map((x, r) => x - q[k][r]!));
    const added = (p: Path, k: 'p50' | 'p99') => minus(p, dp, k);
    console.log(
      `Added latency at ${RATE} req/s (${ROUNDS} rounds x ${SECONDS} s per path, open loop, errors ${errors}; sent late by p50 ${f(pct(lags, 50))} p99 ${f(pct(lags, 99))} max ${f(lags.at(-1) ?? NaN)} ms; sends ${PACER}):`,
    );
    for (const p of paths)
      console.log(`  per round, ${p.name.padEnd(10)} p50 ${list(p.p50)}  p99 ${list(p.p99)} ms`);
    console.log(
      `  pooled: ${paths.map((p) => `${p.name} p50 ${f(pct(p.lat, 50))} p99 ${f(pct(p.lat, 99))} ms`).join('; ')}`,
    );
    console.log(
      `  added (median over rounds)  p50 ${f(added(gp, 'p50'))} ms  p99 ${f(added(gp, 'p99'))} ms  (targets 0.5 / 2 ms)`,
    );
    console.log(
      `  the same from each request's actual send: p50 ${f(minus(gp, dp, 'sentP50'))} ms (direct ${list(dp.sentP50)}; gateway ${list(gp.sentP50)})`,
    );
    for (const p of paths.slice(2))
      console.log(
        `  added by the ${p.name === 'against' ? `gateway of ${AGAINST}` : `${p.name} (floor)`}  p50 ${f(added(p, 'p50'))} ms  p99 ${f(added(p, 'p99'))} ms`,
      );
    // Paired by round, against the other proxies: what this gateway's own code adds over a bare
    // proxy (--floor), and over another checkout's gateway (--against).
    const fp = paths.find((p) => p.name === 'bare proxy');
    for (const [q, what] of [
      [fp, 'bare proxy'],
      [ap, 'against'],
    ] as const)
      if (q)
        console.log(
          `  gateway minus ${what} (median over rounds)  p50 ${f(minus(gp, q, 'p50'))} ms  p99 ${f(minus(gp, q, 'p99'))} ms`,
        );
    for (const p of paths.slice(1)) {
      const c = p.cpu;
      const us = (s: number) => ((s * 1e6) / p.lat.length).toFixed(0);
      console.log(
        `  ${p.name} CPU ${us(c.user + c.sys)} us/request (user ${us(c.user)}, system ${us(c.sys)}); RSS after: ${rssMb(p.pid!).toFixed(0)} MB`,
      );
    }
    // How much of the machine was ours: on a shared VM, steal time (CPU another tenant took) is
    // what makes p99 jump between runs of the same code.
    const m1 = machineTicks();
    const all = m1.all - m0.all;
    console.log(
      `  machine during these rounds: ${((100 * (all - (m1.idle - m0.idle))) / all).toFixed(0)} % busy across ${availableParallelism()} cores, steal ${((100 * (m1.steal - m0.steal)) / all).toFixed(1)} %`,
    );

    const rps = await closedLoop(via, body, 64);
    const rpsDirect = await closedLoop(direct, body, 64);
    console.log(
      `Highest proxied rate (closed loop, 64 concurrent, ${CLOSED_SECONDS} s): ${rps.toFixed(0)} req/s through the gateway (${rpsDirect.toFixed(0)} req/s direct)`,
    );

    // --streams 0 skips the memory phase.
    if (STREAMS > 0) {
      const streams = new Pool(`http://127.0.0.1:${gwc.port}`, { connections: STREAMS + 10 });
      const rssBefore = rssMb(gwPid);
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(gwPid))), 250);
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: STREAMS }, async () => {
          try {
            const res = await streams.request({
              path: '/v1/chat/completions',
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: BODY('slow', true),
            });
            const text = await res.body.text();
            return res.statusCode === 200 && text.trimEnd().endsWith('data: [DONE]');
          } catch {
            return false;
          }
        }),
      );
      clearInterval(sampler);
      const ok = results.filter(Boolean).length;
      console.log(
        `${STREAMS} concurrent slow streams (~10 s each) through the gateway: ${ok}/${STREAMS} finished with [DONE] in ${((performance.now() - t0) / 1000).toFixed(1)} s; gateway RSS ${rssBefore.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB (target <= 150 MB)`,
      );
      await streams.close();
    }
  } finally {
    for (const p of paths) await p.pool.close();
    floor?.proc.kill('SIGTERM');
    other?.proc.kill('SIGTERM');
    gwc.proc.kill('SIGTERM');
    sim.proc.kill('SIGTERM');
  }
}

if (process.argv.includes('--serve-sim')) await serveSim();
else if (process.argv.includes('--serve-floor')) await serveFloor(Number(stringFlag('serve-floor', '0')));
else await main();
