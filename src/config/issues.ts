import type * as z from 'zod';
import { problem, rawProblem, type ConfigProblem, type PathSegment } from './problems.ts';
import { GATEWAY_KEYS, SETTINGS_KEYS, WORKER_KEYS } from './schema.ts';
import { suggest } from './suggest.ts';
import { WORKER_TYPES } from './types.ts';
import { checkBaseUrl } from './url.ts';

/**
 * Turns zod issues into the user's problems: one per bad field, the bad value quoted from the
 * file itself, a "did you mean" for misspelt keys and types, and the expectation the schema
 * attached to the check (see schema.ts).
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  opts: {
    raw: unknown;
    file: string;
    /** Where `raw` sits in the file (`['settings']` for a wrapped settings file). */
    prefix?: PathSegment[];
    /** Keys valid in the object at `raw` itself. */
    rootKeys: readonly string[];
  },
): ConfigProblem[] {
  const prefix = opts.prefix ?? [];
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is PathSegment => typeof p === 'string' || typeof p === 'number');
    if (issue.code === 'unrecognized_keys') {
      const valid = keysAt(path, opts.rootKeys);
      for (const key of issue.keys) out.push(unknownKey(opts.file, [...prefix, ...path, key], key, valid));
      continue;
    }
    const id = path.join('\u0000');
    if (seen.has(id)) continue; // one problem per field: the first check that failed says enough
    seen.add(id);
    const value = valueAt(opts.raw, path);
    out.push(problem(opts.file, [...prefix, ...path], value, issue.message, noteFor(path, value)));
  }
  return out;
}

function keysAt(path: readonly PathSegment[], rootKeys: readonly string[]): readonly string[] {
  const last = path[path.length - 1];
  if (path.length === 0) return rootKeys;
  if (typeof last === 'number') return WORKER_KEYS;
  if (last === 'gateway') return GATEWAY_KEYS;
  return SETTINGS_KEYS;
}

function unknownKey(file: string, path: PathSegment[], key: string, valid: readonly string[]): ConfigProblem {
  const guess = suggest(key, valid);
  let hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
  // A right key in the wrong place: say where it belongs instead of guessing a spelling.
  if (guess === undefined && valid !== SETTINGS_KEYS && SETTINGS_KEYS.includes(key)) {
    hint = ' (it is a setting: put it under "settings")';
  } else if (guess === undefined && valid !== WORKER_KEYS && WORKER_KEYS.includes(key)) {
    hint = ' (it is a worker field: put it inside an entry of "workers")';
  }
  const expected = `one of the keys ${valid.join(', ')}`;
  return rawProblem(
    file,
    path,
    key,
    expected,
    `unknown key "${key}"${hint}; valid keys: ${valid.join(', ')}`,
  );
}

function noteFor(path: readonly PathSegment[], value: unknown): string | undefined {
  const last = path[path.length - 1];
  if (typeof value !== 'string') return undefined;
  if (last === 'type') {
    const guess = suggest(value, WORKER_TYPES);
    return guess === undefined ? undefined : `did you mean "${guess}"?`;
  }
  if (last === 'base_url') return checkBaseUrl(value);
  return undefined;
}

/** The value at a path of plain data, or undefined when any step is missing. */
export function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathSegment, unknown>)[seg];
  }
  return cur;
}
