import { FleetError } from '../core/errors.ts';
import {
  SIM_TYPES,
  type ResolvedSimOptions,
  type SimFaults,
  type SimType,
  type SimWorkerOptions,
} from './types.ts';

/** Every default of SimWorkerOptions, in one place (documented on the interface). */
export const SIM_DEFAULTS = {
  type: 'openai' as SimType,
  id: 'sim-1',
  model: 'sim-model',
  slots: 4,
  maxQueue: 64,
  prefillTps: 2000,
  decodeTps: 50,
  batchSlowdown: 0.05,
  cacheTokens: 32768,
  speed: 1,
  timeScale: 1,
  outputTokens: 32,
  reasoningTokens: 0,
  coldStartMs: 0,
  contextLength: 8192,
  seed: 1,
  host: '127.0.0.1',
  port: 0,
  streamTickMs: 20,
  logLimit: 10000,
} as const;

type Check = (v: number) => boolean;
const int: Check = (v) => Number.isInteger(v);
const finite: Check = (v) => Number.isFinite(v);

function describe(v: unknown): string {
  return `${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${typeof v})`;
}

function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new FleetError(
    'FLEET_INPUT_INVALID',
    `${where}: ${field}: expected ${expected}, got ${describe(got)}`,
  );
}

function num(
  where: string,
  field: string,
  value: unknown,
  fallback: number,
  expected: string,
  ok: (v: number) => boolean,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) fail(where, field, expected, value);
  return value;
}

/** The fault settings there are (a spec file's `faults` is checked against the same list). */
export const FAULT_KEYS = [
  'errorRate',
  'errorStatus',
  'hangRate',
  'dropRate',
  'slowFirstTokenMs',
  'malformedRate',
  'midStreamErrorRate',
  'crashAfter',
] as const;

/** Validates fault settings, naming the bad field. */
export function validateFaults(f: SimFaults, where = 'sim faults'): SimFaults {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) fail(where, 'faults', 'an object', f);
  const known = new Set<string>(FAULT_KEYS);
  for (const k of Object.keys(f)) {
    if (!known.has(k)) fail(where, `faults.${k}`, `one of ${[...known].join(', ')}`, k);
  }
  const rate = (v: number) => v >= 0 && v <= 1;
  const out: SimFaults = {};
  const rates = ['errorRate', 'hangRate', 'dropRate', 'malformedRate', 'midStreamErrorRate'] as const;
  for (const k of rates) {
    if (f[k] !== undefined) out[k] = num(where, `faults.${k}`, f[k], 0, 'a fraction from 0 to 1', rate);
  }
  if (f.errorStatus !== undefined) {
    out.errorStatus = num(where, 'faults.errorStatus', f.errorStatus, 500, 'an HTTP status 400-599', (v) => {
      return int(v) && v >= 400 && v <= 599;
    });
  }
  if (f.slowFirstTokenMs !== undefined) {
    out.slowFirstTokenMs = num(
      where,
      'faults.slowFirstTokenMs',
      f.slowFirstTokenMs,
      0,
      'a number >= 0',
      (v) => {
        return finite(v) && v >= 0;
      },
    );
  }
  if (f.crashAfter !== undefined) {
    out.crashAfter = num(
      where,
      'faults.crashAfter',
      f.crashAfter,
      0,
      'an integer >= 0',
      (v) => int(v) && v >= 0,
    );
  }
  return out;
}

/** Applies defaults and validates; throws FleetError('FLEET_INPUT_INVALID') naming the bad field. */
export function resolveSimOptions(o: SimWorkerOptions = {}): ResolvedSimOptions {
  const id = o.id ?? SIM_DEFAULTS.id;
  if (typeof id !== 'string' || id === '') fail('sim worker', 'id', 'a non-empty string', id);
  const where = `sim worker "${id}"`;
  const type = o.type ?? SIM_DEFAULTS.type;
  if (!SIM_TYPES.includes(type)) fail(where, 'type', `one of ${SIM_TYPES.join(', ')}`, type);
  const models = o.models ?? [SIM_DEFAULTS.model];
  if (!Array.isArray(models) || models.length === 0)
    fail(where, 'models', 'a non-empty list of names', models);
  for (const [i, m] of models.entries()) {
    if (typeof m !== 'string' || m === '') fail(where, `models[${i}]`, 'a non-empty string', m);
  }
  const positive = (v: number) => v > 0;
  const nonNegFinite = (v: number) => finite(v) && v >= 0;
  const intAtLeast = (min: number) => (v: number) => int(v) && v >= min;
  const resolved: ResolvedSimOptions = {
    type,
    id,
    models: [...models],
    slots: num(where, 'slots', o.slots, SIM_DEFAULTS.slots, 'an integer >= 1', intAtLeast(1)),
    maxQueue: num(where, 'maxQueue', o.maxQueue, SIM_DEFAULTS.maxQueue, 'an integer >= 0', intAtLeast(0)),
    prefillTps: num(
      where,
      'prefillTps',
      o.prefillTps,
      SIM_DEFAULTS.prefillTps,
      'a number > 0 (or Infinity)',
      positive,
    ),
    decodeTps: num(
      where,
      'decodeTps',
      o.decodeTps,
      SIM_DEFAULTS.decodeTps,
      'a number > 0 (or Infinity)',
      positive,
    ),
    batchSlowdown: num(
      where,
      'batchSlowdown',
      o.batchSlowdown,
      SIM_DEFAULTS.batchSlowdown,
      'a number >= 0',
      nonNegFinite,
    ),
    cacheTokens: num(
      where,
      'cacheTokens',
      o.cacheTokens,
      SIM_DEFAULTS.cacheTokens,
      'an integer >= 0',
      intAtLeast(0),
    ),
    speed: num(where, 'speed', o.speed, SIM_DEFAULTS.speed, 'a finite number > 0', (v) => finite(v) && v > 0),
    timeScale: num(where, 'timeScale', o.timeScale, SIM_DEFAULTS.timeScale, 'a number >= 0', nonNegFinite),
    outputTokens: num(
      where,
      'outputTokens',
      o.outputTokens,
      SIM_DEFAULTS.outputTokens,
      'an integer >= 1',
      intAtLeast(1),
    ),
    reasoningTokens: num(where, 'reasoningTokens', o.reasoningTokens, 0, 'an integer >= 0', intAtLeast(0)),
    fixedLatencyMs:
      o.fixedLatencyMs === undefined
        ? undefined
        : num(where, 'fixedLatencyMs', o.fixedLatencyMs, 0, 'a number >= 0', nonNegFinite),
    coldStartMs: num(
      where,
      'coldStartMs',
      o.coldStartMs,
      SIM_DEFAULTS.coldStartMs,
      'a number >= 0',
      nonNegFinite,
    ),
    contextLength: num(
      where,
      'contextLength',
      o.contextLength,
      SIM_DEFAULTS.contextLength,
      'an integer >= 1',
      intAtLeast(1),
    ),
    apiKey: o.apiKey,
    faults: validateFaults(o.faults ?? {}, where),
    seed: num(where, 'seed', o.seed, SIM_DEFAULTS.seed, 'an integer', int),
    host: o.host ?? SIM_DEFAULTS.host,
    port: num(
      where,
      'port',
      o.port,
      SIM_DEFAULTS.port,
      'an integer 0-65535',
      (v) => int(v) && v >= 0 && v <= 65535,
    ),
    streamTickMs: num(
      where,
      'streamTickMs',
      o.streamTickMs,
      SIM_DEFAULTS.streamTickMs,
      'a number >= 1',
      (v) => {
        return finite(v) && v >= 1;
      },
    ),
    logLimit: num(where, 'logLimit', o.logLimit, SIM_DEFAULTS.logLimit, 'an integer >= 0', intAtLeast(0)),
  };
  if (resolved.apiKey !== undefined && (typeof resolved.apiKey !== 'string' || resolved.apiKey === '')) {
    // Never echo the value: it may be a real key.
    throw new FleetError('FLEET_INPUT_INVALID', `${where}: apiKey: expected a non-empty string`);
  }
  if (typeof resolved.host !== 'string' || resolved.host === '')
    fail(where, 'host', 'a host name or address', o.host);
  return resolved;
}
