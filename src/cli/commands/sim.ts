import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FleetError } from '../../core/errors.ts';
import {
  parseSimSpecs,
  SIM_TYPES,
  startSimFleet,
  type SimType,
  type SimWorkerOptions,
} from '../../sim/index.ts';
import { ExitCode, stopSignal, type Io } from '../io.ts';

interface SimFlags {
  workers?: string;
  slots?: string;
  type?: string;
  speeds?: string;
  decodeTps?: string;
  prefillTps?: string;
  outputTokens?: string;
  latencyMs?: string;
  timeScale?: string;
  basePort?: string;
  seed?: string;
  host?: string;
  model?: string;
  file?: string;
  writeConfig?: string;
}

/** `fleet sim`: start simulated LLM workers and print a worker config that points at them. */
export function registerSimCommand(program: Command, io: Io): void {
  program
    .command('sim')
    .description('start simulated LLM servers (for trying the fleet, tests and benchmarks) until Ctrl-C')
    .option('--workers <n>', 'number of workers (default 1)')
    .option('--slots <n>', 'sequences each worker runs at once = max_concurrent_requests (default 4)')
    .option('--type <type>', `wire format: ${SIM_TYPES.join(', ')} (default openai)`)
    .option('--speeds <list>', 'speed factor per worker, comma-separated (e.g. 1,1,0.5)')
    .option('--decode-tps <n>', 'output tokens/s of one sequence (default 50)')
    .option('--prefill-tps <n>', 'prompt tokens/s (default 2000)')
    .option('--output-tokens <n>', 'tokens per answer unless max_tokens is lower (default 32)')
    .option('--latency-ms <n>', 'every request takes exactly this long (model time), whatever its tokens')
    .option('--time-scale <x>', 'real time = model time x this (0.1 = 10x faster; default 1)')
    .option('--base-port <n>', 'worker i listens on base+i (default 0: any free port)')
    .option('--seed <n>', 'worker i uses seed+i (default 1)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--model <name>', 'model name served (default sim-model)')
    .option(
      '--file <path>',
      'JSON or YAML list of worker options (camelCase or snake_case); flags fill the gaps',
    )
    .option('--write-config <path>', 'also write the worker config to this file')
    .action(async (flags: SimFlags) => {
      io.exitCode = await runSim(flags, io);
    });
}

function bad(flag: string, expected: string, got: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', `--${flag}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function numberFlag(flag: string, value: string | undefined, expected: string, ok: (v: number) => boolean) {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !ok(v)) bad(flag, expected, value);
  return v;
}

const intMin = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

/** Flag values as worker options; only flags that were given. */
function flagDefaults(flags: SimFlags): SimWorkerOptions {
  const o: SimWorkerOptions = {};
  const set = <K extends keyof SimWorkerOptions>(k: K, v: SimWorkerOptions[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  if (flags.type !== undefined && !SIM_TYPES.includes(flags.type as SimType)) {
    bad('type', `one of ${SIM_TYPES.join(', ')}`, flags.type);
  }
  set('type', flags.type as SimType | undefined);
  set('slots', numberFlag('slots', flags.slots, 'an integer >= 1', intMin(1)));
  set(
    'decodeTps',
    numberFlag('decode-tps', flags.decodeTps, 'a number > 0', (v) => v > 0),
  );
  set(
    'prefillTps',
    numberFlag('prefill-tps', flags.prefillTps, 'a number > 0', (v) => v > 0),
  );
  set('outputTokens', numberFlag('output-tokens', flags.outputTokens, 'an integer >= 1', intMin(1)));
  set(
    'fixedLatencyMs',
    numberFlag('latency-ms', flags.latencyMs, 'a number >= 0', (v) => v >= 0),
  );
  set(
    'timeScale',
    numberFlag('time-scale', flags.timeScale, 'a number >= 0', (v) => v >= 0),
  );
  set('host', flags.host);
  if (flags.model !== undefined) o.models = [flags.model];
  return o;
}

async function buildSpecs(flags: SimFlags, io: Io): Promise<SimWorkerOptions[]> {
  const defaults = flagDefaults(flags);
  const basePort = numberFlag(
    'base-port',
    flags.basePort,
    'an integer 0-65535',
    (v) => intMin(0)(v) && v <= 65535,
  );
  const seed = numberFlag('seed', flags.seed, 'an integer', Number.isInteger);
  let specs: SimWorkerOptions[];
  if (flags.file !== undefined) {
    if (flags.workers !== undefined || flags.speeds !== undefined) {
      throw new FleetError('FLEET_INPUT_INVALID', '--file defines the workers: drop --workers and --speeds');
    }
    const path = resolve(io.cwd, flags.file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `--file: cannot read ${flags.file}: ${(err as Error).message}`,
      );
    }
    specs = parseSimSpecs(text, flags.file).map((s) => ({ ...defaults, ...s }));
  } else {
    const n =
      numberFlag('workers', flags.workers, 'an integer from 1 to 1000', (v) => intMin(1)(v) && v <= 1000) ??
      1;
    let speeds: number[] | undefined;
    if (flags.speeds !== undefined) {
      speeds = flags.speeds
        .split(',')
        .map((s) => numberFlag('speeds', s, 'positive numbers separated by commas', (v) => v > 0) ?? 1);
      if (speeds.length !== n && speeds.length !== 1) {
        bad('speeds', `1 or ${n} values (one per worker)`, flags.speeds);
      }
    }
    specs = Array.from({ length: n }, (_, i) => {
      const speed = speeds?.[speeds.length === 1 ? 0 : i];
      return speed === undefined ? { ...defaults } : { ...defaults, speed };
    });
  }
  return specs.map((s, i) => {
    const out: SimWorkerOptions = { ...s };
    if (out.port === undefined && basePort !== undefined && basePort > 0) out.port = basePort + i;
    if (out.seed === undefined && seed !== undefined) out.seed = seed + i;
    return out;
  });
}

async function runSim(flags: SimFlags, io: Io): Promise<number> {
  const specs = await buildSpecs(flags, io);
  let fleet;
  try {
    fleet = await startSimFleet(specs);
  } catch (err) {
    if (err instanceof FleetError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `cannot listen: ${e.message} (choose another --base-port or port)`,
      );
    }
    throw err;
  }
  const config = `${JSON.stringify(fleet.workerConfig(), null, 2)}\n`;
  io.out(config);
  if (flags.writeConfig !== undefined) {
    try {
      await writeFile(resolve(io.cwd, flags.writeConfig), config);
    } catch (err) {
      await fleet.close();
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `--write-config: cannot write ${flags.writeConfig}: ${(err as Error).message}`,
      );
    }
  }
  for (const w of fleet.workers) {
    const o = w.options;
    const timing =
      o.fixedLatencyMs !== undefined ? `latency=${o.fixedLatencyMs}ms` : `decode=${o.decodeTps}tok/s`;
    io.err(
      `sim ${w.id}: ${w.type} at ${w.url} model=${o.models[0]} slots=${o.slots} speed=${o.speed} ${timing} time_scale=${o.timeScale}\n`,
    );
  }
  io.err(`${fleet.workers.length} simulated worker(s) up; stop with Ctrl-C.\n`);
  const signal = await stopSignal();
  await fleet.close();
  io.err(`sim: stopped (${signal})\n`);
  return signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Ok;
}
