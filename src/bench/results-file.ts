import { constants } from 'node:fs';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { FleetError } from '../core/errors.ts';
import { pathOf, valueAt } from '../core/json-path.ts';
import type { BenchmarkResults } from './types.ts';

/**
 * Fails now, naming the flag and the path, if `path` cannot be written: checked before a run so a
 * long benchmark is never lost to a typo in `-o`.
 */
export async function assertWritable(flag: string, path: string, cwd = '.'): Promise<void> {
  const full = resolve(cwd, path);
  const dir = dirname(full);
  const fail = (why: string): never => {
    throw new FleetError('FLEET_INPUT_INVALID', `${flag} ${path}: cannot write there (${why})`);
  };
  const d = await stat(dir).catch(() => undefined);
  if (!d) fail(`directory ${dirname(path)} does not exist`);
  else if (!d.isDirectory()) fail(`${dirname(path)} is not a directory`);
  const f = await stat(full).catch(() => undefined);
  if (f?.isDirectory()) fail('it is a directory');
  await access(f ? full : dir, constants.W_OK).catch(() => fail('permission denied'));
}

export async function writeJson(path: string, value: unknown, cwd = '.'): Promise<void> {
  await writeFile(resolve(cwd, path), JSON.stringify(value, null, 2) + '\n');
}

const num = z.number({ error: 'expected a number' });
const levelSchema = z.looseObject({
  concurrency: num,
  requests_per_second: num,
  success_rate: num,
  total_requests: num.optional(),
  avg_response_time: num.optional(),
  p50_response_time: num.optional(),
  p95_response_time: num.optional(),
  p99_response_time: num.optional(),
});
const scalingSchema = z.looseObject({
  workers: num,
  requests_per_second: num,
  success_rate: num,
  throughput_per_worker: num.optional(),
});
const resultsSchema = z.looseObject({
  concurrency_benchmark: z.array(levelSchema, { error: 'expected a list of levels' }).optional(),
  scaling_benchmark: z.array(scalingSchema, { error: 'expected a list of worker counts' }).optional(),
});

/**
 * Reads a results file of `fleet benchmark` (or of the older tool: only its fields are required).
 * Errors name the file, the JSON path and what was wrong.
 */
export async function readResults(file: string, cwd = '.'): Promise<BenchmarkResults> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${file}: not valid JSON (${(e as Error).message}); expected the output of fleet benchmark -o`,
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${file}: expected a benchmark results object, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`,
    );
  const r = resultsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const p = i?.path ?? [];
    const at = valueAt(raw, p);
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${file}: ${pathOf(p) || '(top level)'}: ${i?.message ?? 'invalid'}, got ${at === undefined ? 'nothing' : JSON.stringify(at)}`,
    );
  }
  if (!r.data.concurrency_benchmark && !r.data.scaling_benchmark)
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${file}: has neither concurrency_benchmark nor scaling_benchmark; is it a fleet benchmark results file?`,
    );
  const out = raw as Partial<BenchmarkResults>;
  return {
    ...out,
    concurrency_benchmark: out.concurrency_benchmark ?? [],
    scaling_benchmark: out.scaling_benchmark ?? [],
    notes: out.notes ?? [],
  } as BenchmarkResults;
}
