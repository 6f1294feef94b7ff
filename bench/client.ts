/**
 * `npm run bench:client`: how many requests/s the benchmark client itself sustains, through the
 * fleet, against ONE instant simulated worker (no model time at all), so that it is never what
 * limits a fleet result. The worker runs in a child process (bench/sim.ts `--serve`): client
 * and server each get a core, as with real machines. Each mode runs 3 times; the median is
 * printed with the spread and the client's own self-check (event-loop delay, CPU).
 * Flags: --requests N per run (default 20000), --concurrency N (default 64).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { runBenchmark, type LevelResult } from '../src/bench/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { createFleet } from '../src/fleet/index.ts';
import { stringFlag } from './args.ts';

const REQUESTS = Number(stringFlag('requests', '20000'));
const CONCURRENCY = Number(stringFlag('concurrency', '64'));
const RUNS = 3;

/**
 * The client process's young-generation GC pauses while it runs: long scavenges mean objects
 * outlive their request (see docs/performance.md "Benchmark client"), and they show in p99.
 */
function watchGc(): { stop(): string } {
  let n = 0;
  let total = 0;
  let max = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MINOR)
        continue;
      n++;
      total += e.duration;
      max = Math.max(max, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      obs.disconnect();
      return `scavenges ${n} (mean ${(total / Math.max(1, n)).toFixed(1)} ms, max ${max.toFixed(1)} ms)`;
    },
  };
}

async function main(): Promise<void> {
  // The same instant worker bench:sim serves (bench/sim.ts --serve), in its own process.
  const simScript = fileURLToPath(new URL('./sim.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', simScript, '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  const config = parseConfig(
    {
      workers: [
        {
          id: 'instant',
          host: '127.0.0.1',
          port,
          type: 'openai',
          model: 'sim-model',
          max_concurrent_requests: 1024,
        },
      ],
      settings: { max_retries: 0 },
    },
    { file: 'bench:client' },
  );
  console.log(
    `benchmark client vs one instant simulated worker (child process), ${REQUESTS} requests x ${RUNS} runs, concurrency ${CONCURRENCY}`,
  );
  try {
    // Reference: the fleet alone (plain closed loop over fleet.chat, nothing measured), so the
    // benchmark's own cost per request can be told apart from the fleet's.
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const fleet = createFleet(config);
      await fleet.ready();
      let next = 0;
      const req = { messages: [{ role: 'user' as const, content: 'What is 2 + 2?' }], max_tokens: 16 };
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < REQUESTS) await fleet.chat(req);
        }),
      );
      plain.push(REQUESTS / ((performance.now() - t0) / 1000));
      await fleet.close();
    }
    plain.sort((a, b) => a - b);
    console.log(
      `fleet.chat alone (reference): ${plain[1]!.toFixed(0)} req/s median (${plain[0]!.toFixed(0)}-${plain[2]!.toFixed(0)})`,
    );
    for (const stream of [false, true]) {
      const gc = watchGc();
      const runs: LevelResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await runBenchmark({
          config,
          mode: 'concurrency',
          requests: REQUESTS,
          concurrencyLevels: [CONCURRENCY],
          maxTokens: 16,
          stream,
          warmupPerWorker: 200,
        });
        runs.push(r.concurrency_benchmark[0]!);
      }
      runs.sort((a, b) => a.requests_per_second - b.requests_per_second);
      const med = runs[1]!;
      const range = `${runs[0]!.requests_per_second.toFixed(0)}-${runs[2]!.requests_per_second.toFixed(0)}`;
      console.log(
        `${stream ? 'streaming    ' : 'non-streaming'}: ${med.requests_per_second.toFixed(0)} req/s median (${range}), ` +
          `${med.failed} failed, p50 ${(med.p50_response_time * 1000).toFixed(2)} ms, p99 ${(med.p99_response_time * 1000).toFixed(2)} ms, ` +
          `client CPU ${med.self_check.client_cpu_percent.toFixed(0)}%, event-loop p99 ${med.self_check.event_loop_delay_p99_ms.toFixed(1)} ms, ` +
          gc.stop(),
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
