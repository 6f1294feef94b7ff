/**
 * `npm run bench:sim`: how many requests/s ONE instant simulated worker serves on this machine.
 *
 * The worker runs in a child process (this file with `--serve`), so the load generator and the
 * server each get their own core, as a real fleet would. The client is an undici Pool with
 * keep-alive, running a closed loop at a fixed concurrency. Each mode runs 3 times; the median
 * is reported, with the server's own CPU time per request (from /proc, Linux only): that figure
 * hardly depends on what else the machine is doing, unlike requests/s on a shared 2-core box.
 * Flags: --seconds N (default 5), --concurrency N (default 64), --type T.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startSimWorker, type SimType } from '../src/sim/index.ts';
import { stringFlag } from './args.ts';

const SECONDS = Number(stringFlag('seconds', '5'));
const CONCURRENCY = Number(stringFlag('concurrency', '64'));
const TYPE = stringFlag('type', 'openai') as SimType;
const RUNS = 3;

async function serve(): Promise<void> {
  const w = await startSimWorker({
    type: TYPE,
    slots: 1024,
    maxQueue: 4096,
    decodeTps: Infinity,
    prefillTps: Infinity,
    outputTokens: 16,
    logLimit: 1000,
  });
  process.stdout.write(`${w.port}\n`);
  process.on('SIGTERM', () => {
    void w.close().then(() => process.exit(0));
  });
}

async function measure(pool: Pool, body: string, seconds: number): Promise<{ rps: number; errors: number }> {
  let done = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const res = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.text();
        if (res.statusCode === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { rps: done / ((performance.now() - t0) / 1000), errors };
}

/** CPU ms (user + system) used so far by a process, or undefined where /proc is missing. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 1/100 s
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', '--type', TYPE],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(first.toString().trim());
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: CONCURRENCY,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  console.log(
    `sim benchmark: one instant ${TYPE} worker (child process), undici keep-alive, ` +
      `concurrency ${CONCURRENCY}, ${SECONDS} s x ${RUNS} runs per mode`,
  );
  const messages = [{ role: 'user', content: 'What is the capital of France?' }];
  const modes = [
    ['non-streaming', JSON.stringify({ messages, max_tokens: 16 })],
    [
      'streaming',
      JSON.stringify({ messages, max_tokens: 16, stream: true, stream_options: { include_usage: true } }),
    ],
  ] as const;
  try {
    for (const [name, body] of modes) {
      await measure(pool, body, 1); // warm-up: JIT, connections
      const runs: number[] = [];
      const cpuPerRequest: number[] = [];
      let errors = 0;
      for (let i = 0; i < RUNS; i++) {
        const cpu0 = cpuMs(child.pid!);
        const r = await measure(pool, body, SECONDS);
        const cpu1 = cpuMs(child.pid!);
        runs.push(r.rps);
        if (cpu0 !== undefined && cpu1 !== undefined)
          cpuPerRequest.push(((cpu1 - cpu0) * 1000) / (r.rps * SECONDS));
        errors += r.errors;
      }
      const us = cpuPerRequest.length > 0 ? median(cpuPerRequest) : undefined;
      const cpu =
        us === undefined ? '' : `; server CPU ${us.toFixed(0)} us/request = ${fmt(1e6 / us)} req/s per core`;
      console.log(
        `${`${name}:`.padEnd(15)} ${fmt(median(runs)).padStart(7)} req/s median  (runs: ${runs.map(fmt).join(', ')}; errors: ${errors}${cpu})`,
      );
    }
  } finally {
    await pool.close();
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
