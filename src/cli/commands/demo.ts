import type { Command } from 'commander';
import {
  compareResults,
  formatComparison,
  runBenchmark,
  type BenchmarkResults,
  type BenchmarkRun,
} from '../../bench/index.ts';
import { parseConfig } from '../../config/index.ts';
import type { FleetConfig } from '../../config/types.ts';
import { FleetError } from '../../core/errors.ts';
import type { Fleet } from '../../fleet/index.ts';
import { startGateway, type RunningGateway } from '../../gateway/index.ts';
import { startSimFleet, type SimFleet } from '../../sim/index.ts';
import { ExitCode, type Io } from '../io.ts';

interface DemoFlags {
  keep?: boolean;
  port: string;
  timeScale: string;
  requests: string;
}

/** The demo fleet: three machines of different speeds, as in the guide's "one vs several" story. */
const SPEEDS = [1, 0.75, 0.5];
const SLOTS = 4;
/** Concurrency levels: one caller, one machine's slots, every machine's slots. */
const LEVELS = [1, SLOTS, SLOTS * SPEEDS.length];
const LABELS = ['1_worker', '3_workers'];
const DEFAULT_PORT = '8080';

/** `fleet demo`: simulated workers, the gateway and dashboard, and a 1-vs-3-worker benchmark. */
export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'try it with no LLM server: 3 simulated workers, the gateway + dashboard, and a 1 vs 3 worker benchmark',
    )
    .option('--keep', 'keep the workers, gateway and dashboard running (with light traffic) until Ctrl-C')
    .option(
      '--port <port>',
      'gateway port (0 = any free port; if the default is taken, any free one)',
      DEFAULT_PORT,
    )
    .option('--time-scale <x>', 'real time = model time x this (smaller = faster demo)', '0.1')
    .option(
      '--requests <n>',
      'requests per benchmark level (enough that the last slow request does not dominate)',
      '96',
    )
    .action(async (flags: DemoFlags) => {
      io.exitCode = await runDemo(flags, io);
    });
}

function parseFlags(flags: DemoFlags): { port: number; timeScale: number; requests: number } {
  const port = Number(flags.port);
  if (flags.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new FleetError('FLEET_INPUT_INVALID', `--port: expected an integer 0-65535, got "${flags.port}"`);
  const timeScale = Number(flags.timeScale);
  if (flags.timeScale.trim() === '' || !Number.isFinite(timeScale) || timeScale <= 0 || timeScale > 10)
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `--time-scale: expected a number above 0 and at most 10, got "${flags.timeScale}"`,
    );
  const requests = Number(flags.requests);
  if (!Number.isInteger(requests) || requests < LEVELS[LEVELS.length - 1]!)
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `--requests: expected an integer >= ${LEVELS[LEVELS.length - 1]}, got "${flags.requests}"`,
    );
  return { port, timeScale, requests };
}

/**
 * The gateway's own fleet, lent to the benchmark: its 3-worker run then goes through the same
 * scheduler the dashboard watches (so the cards move), and the benchmark's `close()` at the end
 * of the run must not close the gateway's fleet.
 */
function lend(fleet: Fleet): Fleet {
  return new Proxy(fleet, {
    get(target, prop) {
      if (prop === 'close') return () => Promise.resolve();
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function runDemo(flags: DemoFlags, io: Io): Promise<number> {
  const { port, timeScale, requests } = parseFlags(flags);
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error('SIGINT'));
  process.once('SIGINT', onSigint);
  let sim: SimFleet | undefined;
  let gw: RunningGateway | undefined;
  try {
    sim = await startSimFleet(
      SPEEDS.map((speed, i) => ({
        id: `sim-${i + 1}`,
        type: 'llama_cpp' as const,
        slots: SLOTS,
        speed,
        timeScale,
        outputTokens: 32,
        cacheTokens: 0, // every benchmark prompt is new anyway; keep the model simple
      })),
    );
    const config = parseConfig(sim.workerConfig(), { file: 'demo' });
    io.err(
      `Simulated workers (llama.cpp, ${SLOTS} slots each, time x${timeScale}): ` +
        `${sim.workers.map((w, i) => `${w.id} speed ${SPEEDS[i]} on :${w.port}`).join(', ')}\n`,
    );
    gw = await startGateway({ config, port }).catch((e: unknown) => {
      // The default port may be taken (another gateway, a real llama.cpp): any free one will do.
      if (flags.port !== DEFAULT_PORT) throw e;
      return startGateway({ config, port: 0 });
    });
    io.out(`Dashboard: ${gw.url}/   (OpenAI API: ${gw.url}/v1, Ollama API: ${gw.url}/api)\n`);
    await gw.fleet.ready();

    const results = await benchmark(config, gw.fleet, requests, stop.signal, io);
    io.out(`\n${formatComparison(compareResults(LABELS, results))}`);
    const top = compareResults(LABELS, results).concurrency.at(-1);
    const speedup = top?.speedup[1];
    if (top && speedup !== null && speedup !== undefined)
      io.out(
        `3 workers served ${speedup.toFixed(2)}x the requests/s of 1 worker at concurrency ${top.key}` +
          ` (the other two run at ${SPEEDS.slice(1).join(' and ')}x the first's speed: at best ${SPEEDS.reduce((a, b) => a + b, 0)}x).\n`,
      );

    if (flags.keep !== true) {
      io.out(`\nDone. Run \`npm start -- --keep\` (or \`fleet demo --keep\`) to keep the dashboard up.\n`);
      return ExitCode.Ok;
    }
    io.out(`\nKeeping it running with light traffic: open ${gw.url}/ . Ctrl-C to stop.\n`);
    await backgroundTraffic(gw.url, stop.signal);
    return ExitCode.Interrupted;
  } catch (e) {
    if (stop.signal.aborted) {
      io.err('interrupted\n');
      return ExitCode.Interrupted;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await gw?.close();
    await sim?.close();
    if (stop.signal.aborted) io.err('demo stopped\n');
  }
}

/** The guide's two runs: the first worker alone, then all three (through the gateway's fleet). */
async function benchmark(
  config: FleetConfig,
  shared: Fleet,
  requests: number,
  signal: AbortSignal,
  io: Io,
): Promise<BenchmarkResults[]> {
  const out: BenchmarkResults[] = [];
  for (const [i, n] of [1, config.workers.length].entries()) {
    io.err(
      `Benchmark ${i + 1}/2: ${n} worker(s), concurrency ${LEVELS.join(', ')}, ${requests} requests each\n`,
    );
    const run: BenchmarkRun = runBenchmark(
      {
        config: { workers: config.workers.slice(0, n), settings: config.settings },
        mode: 'concurrency',
        requests,
        concurrencyLevels: LEVELS,
        maxTokens: 32,
        warmupPerWorker: 1,
        signal,
      },
      n === config.workers.length ? { createFleet: () => lend(shared) } : {},
    );
    run.on('level:end', ({ result }) =>
      io.err(
        `  concurrency ${String(result.concurrency).padStart(2)}: ${result.requests_per_second.toFixed(2)} req/s\n`,
      ),
    );
    out.push(await run);
  }
  return out;
}

/** A few callers through the gateway's HTTP API, so the dashboard has something to show. */
async function backgroundTraffic(url: string, signal: AbortSignal): Promise<void> {
  const caller = async (i: number) => {
    for (let n = 0; !signal.aborted; n++) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            messages: [{ role: 'user', content: `Demo caller ${i}, question ${n}: say something.` }],
            max_tokens: 32,
            stream: true,
          }),
          signal,
        });
        await res.text();
      } catch {
        if (!signal.aborted) await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5].map(caller));
}
