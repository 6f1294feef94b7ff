import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  assertWritable,
  BENCH_DEFAULTS,
  filePrompts,
  formatComplete,
  formatScalingSummary,
  loadChartJs,
  printRun,
  renderHtmlReport,
  runBenchmark,
  syntheticPrompts,
  trackProgress,
  writeJson,
  type Arrival,
  type BenchmarkMode,
  type BenchmarkOptions,
} from '../../bench/index.ts';
import { FleetError } from '../../core/errors.ts';
import { createRandom } from '../../core/random.ts';
import { ExitCode, type Io } from '../io.ts';
import { CONFIG_FLAG, loadFleetConfig, SETTINGS_FLAG, type ConfigFlags } from '../load.ts';

const bad = (flag: string, expected: string, v: string): never => {
  throw new FleetError('FLEET_INPUT_INVALID', `${flag}: expected ${expected}, got ${JSON.stringify(v)}`);
};

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) bad(flag, `an integer >= ${min}`, v);
  return n;
}

function number(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) bad(flag, `a number >= ${min}`, v);
  return n;
}

/** Space- or comma-separated values (`--concurrency-levels 1 5 10` or `1,5,10`). */
function numberList(flag: string, vs: string[], integer: boolean): number[] {
  const parts = vs.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
  if (parts.length === 0) bad(flag, 'at least one value', vs.join(' '));
  return parts.map((p) => (integer ? int(flag, p, 1) : number(flag, p, 0.001)));
}

interface BenchFlags extends ConfigFlags {
  output: string;
  requests: string;
  mode: BenchmarkMode;
  concurrencyLevels: string[];
  workerCounts: string[];
  maxTokens: string;
  stream: boolean;
  warmup: string;
  pause: string;
  prompts?: string;
  inputTokens?: string;
  outputTokens?: string;
  rate?: string[];
  arrival: Arrival;
  duration?: string;
  scalingConcurrency?: string;
  solo: boolean;
  html?: string;
  requestsLog?: string;
  json?: boolean;
  seed: string;
}

export const METRICS_HELP = `
Metrics (definitions as vLLM's benchmark; every time is in seconds in the JSON):
  TTFT  time to first token: send -> first chunk with content (streaming only)
  TPOT  time per output token: (E2E - TTFT) / (output tokens - 1)
  ITL   inter-token latency: the gaps between successive content chunks
  E2E   end-to-end latency: send -> last token (the "response time" of the guide)
  "Send" is when the request was due: in open loop (--rate) its scheduled time, so queueing
  is never hidden. Output tokens come from the server's usage. Requests/sec counts successful
  requests over the level's wall time. success_rate and load shares are percentages.

Load models:
  closed loop (default): --concurrency-levels callers, each sending its next request as soon
    as its last one ended, --requests per level; levels above --requests are skipped.
  open loop: --rate R [R...] requests/s (--arrival poisson|constant) for --duration seconds
    (default --requests requests); results go to "rate_benchmark".

Each level is preceded by a warm-up (--warmup requests per worker, not measured). A level is
marked INVALID when the benchmark process itself was the bottleneck (event-loop delay, late
dispatch, CPU). Worker scaling runs the first N workers of the config at their total slots,
and each worker alone, for speedup, efficiency (speedup / N) and efficiency against the sum of
solo throughputs. Details: docs/benchmark.md.`;

/** `fleet benchmark`: the guide's benchmark.py, flag for flag, plus streaming metrics and more. */
export function registerBenchmarkCommand(program: Command, io: Io): void {
  const d = BENCH_DEFAULTS;
  program
    .command('benchmark')
    .description('benchmark the fleet: concurrency scaling and worker scaling (the benchmarking guide)')
    .option(...CONFIG_FLAG)
    .option(...SETTINGS_FLAG)
    .option('-o, --output <file>', 'results JSON', 'benchmark_results.json')
    .option('--requests <n>', 'requests per level', String(d.requests))
    .addOption(
      new Option('--mode <mode>', 'what to run').choices(['concurrency', 'scaling', 'both']).default(d.mode),
    )
    .addOption(
      new Option('--concurrency-levels <n...>', 'closed-loop concurrency levels').default(
        d.concurrencyLevels.map(String),
        d.concurrencyLevels.join(' '),
      ),
    )
    .addOption(
      new Option('--worker-counts <n...>', 'worker counts for scaling (the first N workers)').default(
        d.workerCounts.map(String),
        d.workerCounts.join(' '),
      ),
    )
    .option('--max-tokens <n>', 'max_tokens per request', String(d.maxTokens))
    .option('--no-stream', 'send non-streaming requests (default: stream, which TTFT/TPOT/ITL need)')
    .option('--warmup <n>', 'warm-up requests per worker before each level', String(d.warmupPerWorker))
    .option('--pause <s>', 'seconds to pause between levels', String(d.pauseS))
    .option(
      '--prompts <file.jsonl>',
      'prompts, one JSON per line: {"prompt": ...} or {"messages": [...]} (default: built-in short-answer prompts)',
    )
    .option('--input-tokens <n>', 'synthetic prompts of about n tokens')
    .option(
      '--output-tokens <n>',
      'with --input-tokens: max_tokens of each synthetic prompt (default: --max-tokens)',
    )
    .option('--rate <r...>', 'open loop: requests/s per level, instead of concurrency levels')
    .addOption(
      new Option('--arrival <kind>', 'open-loop arrivals')
        .choices(['poisson', 'constant'])
        .default(d.arrival),
    )
    .option('--duration <s>', 'open loop: seconds per rate level (default: --requests requests)')
    .option('--scaling-concurrency <n>', "worker scaling: concurrency (default: the N workers' total slots)")
    .option('--no-solo', 'worker scaling: skip measuring each worker alone (default: measure them)')
    .option('--html <file>', 'also write a self-contained HTML report with charts (default: none)')
    .option('--requests-log <file.jsonl>', 'write one JSON line per request (default: none)')
    .option('--json', 'print only the results JSON to stdout (progress still goes to stderr)')
    .option('--seed <n>', 'seed of prompt choice and Poisson arrivals', '1')
    .addHelpText('after', METRICS_HELP)
    .action(async (flags: BenchFlags) => {
      io.exitCode = await runBenchmarkCommand(flags, io);
    });
}

async function optionsFrom(flags: BenchFlags, io: Io): Promise<Omit<BenchmarkOptions, 'config'>> {
  const o: Omit<BenchmarkOptions, 'config'> = {
    mode: flags.mode,
    requests: int('--requests', flags.requests, 1),
    concurrencyLevels: numberList('--concurrency-levels', flags.concurrencyLevels, true),
    workerCounts: numberList('--worker-counts', flags.workerCounts, true),
    maxTokens: int('--max-tokens', flags.maxTokens, 1),
    stream: flags.stream,
    warmupPerWorker: int('--warmup', flags.warmup, 0),
    pauseS: number('--pause', flags.pause, 0),
    arrival: flags.arrival,
    soloBaseline: flags.solo,
  };
  const seed = int('--seed', flags.seed, 0);
  const runId = Date.now().toString(36);
  if (flags.rate) o.rates = numberList('--rate', flags.rate, false);
  if (flags.duration !== undefined) o.durationS = number('--duration', flags.duration, 0.001);
  if (flags.scalingConcurrency !== undefined)
    o.scalingConcurrency = int('--scaling-concurrency', flags.scalingConcurrency, 1);
  if (flags.prompts !== undefined && flags.inputTokens !== undefined)
    throw new FleetError('FLEET_INPUT_INVALID', '--prompts and --input-tokens: give one or the other');
  if (flags.outputTokens !== undefined && flags.inputTokens === undefined)
    throw new FleetError('FLEET_INPUT_INVALID', '--output-tokens needs --input-tokens (or use --max-tokens)');
  if (flags.prompts !== undefined) o.prompts = await filePrompts(resolve(io.cwd, flags.prompts), runId);
  if (flags.inputTokens !== undefined) {
    const out = flags.outputTokens === undefined ? undefined : int('--output-tokens', flags.outputTokens, 1);
    o.prompts = syntheticPrompts(runId, createRandom(seed), int('--input-tokens', flags.inputTokens, 1), out);
  }
  o.runId = runId;
  return o;
}

async function runBenchmarkCommand(flags: BenchFlags, io: Io): Promise<number> {
  // Everything the user typed is checked before a single request goes out.
  const partial = await optionsFrom(flags, io);
  const config = await loadFleetConfig(flags, io);
  await assertWritable('-o/--output', flags.output, io.cwd);
  if (flags.html !== undefined) await assertWritable('--html', flags.html, io.cwd);
  if (flags.requestsLog !== undefined) await assertWritable('--requests-log', flags.requestsLog, io.cwd);
  const chartJs = flags.html === undefined ? undefined : await loadChartJs();

  const ac = new AbortController();
  // The first Ctrl-C stops the run and keeps what was measured; the handler is `once`, so a second
  // one gets Node's default and quits at once.
  const onSigint = () => {
    io.err(
      '\ninterrupted: stopping and writing the results measured so far (Ctrl-C again to quit at once)\n',
    );
    ac.abort(new Error('SIGINT'));
  };
  process.once('SIGINT', onSigint);
  const run = runBenchmark(
    { ...partial, config, signal: ac.signal },
    { random: createRandom(int('--seed', flags.seed, 0)) },
  );
  if (!flags.json) printRun(run, (s) => io.out(s));
  else
    run.on('health', ({ stats, healthy }) => {
      if (healthy < stats.workers.length)
        for (const w of stats.workers)
          if (w.state !== 'healthy' && w.state !== 'degraded')
            io.err(`${w.id}: DOWN (${w.reason || w.state})\n`);
    });
  const stderrTTY = Boolean(process.stderr.isTTY);
  trackProgress(run, {
    stream: stderrTTY
      ? process.stderr
      : ({ write: (s: string) => (io.err(s), true) } as unknown as NodeJS.WritableStream),
    isTTY: stderrTTY,
  });
  const log =
    flags.requestsLog === undefined ? undefined : createWriteStream(resolve(io.cwd, flags.requestsLog));
  if (log) run.on('request', (r) => log.write(JSON.stringify(r) + '\n'));
  try {
    // On Ctrl-C the run resolves with what it measured so far (`partial`): it is still written.
    const results = await run;
    await writeJson(flags.output, results, io.cwd);
    if (flags.html !== undefined && chartJs !== undefined)
      await writeFile(resolve(io.cwd, flags.html), renderHtmlReport(results, chartJs));
    if (flags.json) io.out(JSON.stringify(results, null, 2) + '\n');
    else {
      io.out(formatScalingSummary(results.scaling_benchmark));
      io.out(formatComplete(results, flags.output));
      if (flags.html !== undefined) io.out(`HTML report: ${flags.html}\n`);
      if (flags.requestsLog !== undefined) io.out(`Request log: ${flags.requestsLog}\n`);
    }
    if (results.partial) {
      io.err(`\nbenchmark interrupted: partial results written to ${flags.output}\n`);
      return ExitCode.Interrupted;
    }
    return ExitCode.Ok;
  } catch (e) {
    if (ac.signal.aborted) {
      io.err('\nbenchmark interrupted; no results written\n');
      return ExitCode.Interrupted;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (log) await new Promise<void>((r) => log.end(r));
  }
}
