import { parse as parseYaml } from 'yaml';
import { FleetError } from '../core/errors.ts';
import { isRecord } from '../core/objects.ts';
import { FAULT_KEYS } from './options.ts';
import type { SimWorkerOptions } from './types.ts';

/**
 * Reads a simulated fleet from JSON or YAML text: a list of worker options, or `{workers: [...]}`.
 * Keys may be camelCase (`decodeTps`) or snake_case (`decode_tps`); unknown keys are errors that
 * name the file, the worker and the key. Values are checked later by resolveSimOptions.
 */
const OPTION_KEYS = [
  'type',
  'id',
  'models',
  'slots',
  'maxQueue',
  'prefillTps',
  'decodeTps',
  'batchSlowdown',
  'cacheTokens',
  'speed',
  'timeScale',
  'outputTokens',
  'reasoningTokens',
  'fixedLatencyMs',
  'coldStartMs',
  'contextLength',
  'apiKey',
  'faults',
  'seed',
  'host',
  'port',
  'streamTickMs',
  'logLimit',
] as const;

/** `decode_tps` -> `decodeTps`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function invalid(file: string, where: string, message: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', `${file}: ${where}: ${message}`);
}

function normalise(
  file: string,
  where: string,
  value: unknown,
  allowed: readonly string[],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(file, where, `expected an object, got ${JSON.stringify(value)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = camelCase(k);
    if (!allowed.includes(key))
      invalid(file, `${where}.${k}`, `unknown key; expected one of ${allowed.join(', ')}`);
    out[key] = v;
  }
  return out;
}

export function parseSimSpecs(text: string, file: string): SimWorkerOptions[] {
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    invalid(file, 'parse', err instanceof Error ? err.message : String(err));
  }
  const list = isRecord(doc) && 'workers' in doc ? doc['workers'] : doc;
  if (!Array.isArray(list) || list.length === 0) {
    invalid(file, 'workers', 'expected a non-empty list of worker options (or {workers: [...]})');
  }
  return list.map((item, i) => {
    const o = normalise(file, `workers[${i}]`, item, [...OPTION_KEYS, 'model']);
    if (o['faults'] !== undefined) {
      o['faults'] = normalise(file, `workers[${i}].faults`, o['faults'], FAULT_KEYS);
    }
    // A single `model` is shorthand for `models: [model]`.
    if (o['model'] !== undefined) {
      if (o['models'] !== undefined) invalid(file, `workers[${i}]`, 'give either model or models, not both');
      o['models'] = [o['model']];
      delete o['model'];
    }
    return o;
  });
}
