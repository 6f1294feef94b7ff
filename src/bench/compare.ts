import { basename } from 'node:path';
import type { BenchmarkResults } from './types.ts';

export interface CompareRow {
  /** Concurrency level or worker count. */
  key: number;
  /** req/s of each file at this key (null: not measured there). */
  rps: Array<number | null>;
  /** Each file's req/s over the first file's (null where either is missing or the first is 0). */
  speedup: Array<number | null>;
}

export interface Comparison {
  labels: string[];
  files: string[];
  concurrency: CompareRow[];
  scaling: CompareRow[];
}

/** A short label per file: its name without `.json` (`results_single.json` -> `results_single`). */
export function labelFor(file: string): string {
  return basename(file).replace(/\.json$/i, '');
}

function rows(sets: Array<Array<{ key: number; rps: number }>>): CompareRow[] {
  const keys = [...new Set(sets.flatMap((s) => s.map((x) => x.key)))].sort((a, b) => a - b);
  return keys.map((key) => {
    const rps = sets.map((s) => s.find((x) => x.key === key)?.rps ?? null);
    const base = rps[0] ?? null;
    return {
      key,
      rps,
      speedup: rps.map((v) => (v === null || base === null || base <= 0 ? null : v / base)),
    };
  });
}

/**
 * The guide's comparison: for each concurrency level (and worker count) the req/s of every file
 * and the speed-up over the first. Levels are matched by value, not position, so files measured
 * at different levels still line up.
 */
export function compareResults(files: string[], results: BenchmarkResults[]): Comparison {
  return {
    files,
    labels: files.map(labelFor),
    concurrency: rows(
      results.map((r) =>
        r.concurrency_benchmark.map((l) => ({ key: l.concurrency, rps: l.requests_per_second })),
      ),
    ),
    scaling: rows(
      results.map((r) => r.scaling_benchmark.map((l) => ({ key: l.workers, rps: l.requests_per_second }))),
    ),
  };
}

const cell = (v: number | null, suffix = '') => (v === null ? '-' : v.toFixed(2) + suffix);

function headers(c: Comparison, keyName: string): string[] {
  const h = [keyName, ...c.labels.map((l) => `${l} (req/s)`)];
  if (c.labels.length === 2) h.push('Speedup');
  else for (const l of c.labels.slice(1)) h.push(`Speedup ${l}`);
  return h;
}

function cells(r: CompareRow): string[] {
  return [String(r.key), ...r.rps.map((v) => cell(v)), ...r.speedup.slice(1).map((v) => cell(v, 'x'))];
}

/** Plain text in the guide's layout (its Python script's columns, widened to fit labels). */
export function formatComparison(c: Comparison): string {
  let out = '';
  const table = (title: string, keyName: string, rs: CompareRow[]) => {
    if (rs.length === 0) return;
    const h = headers(c, keyName);
    const body = rs.map(cells);
    const widths = h.map((x, i) => Math.max(x.length, ...body.map((b) => (b[i] ?? '').length)) + 1);
    const line = (xs: string[]) =>
      xs
        .map((x, i) => x.padEnd(widths[i] ?? 0))
        .join(' ')
        .trimEnd() + '\n';
    const width = Math.max(
      70,
      widths.reduce((a, w) => a + w + 1, 0),
    );
    out += `${title}\n${'='.repeat(width)}\n${line(h)}${'-'.repeat(width)}\n`;
    for (const b of body) out += line(b);
    out += '\n';
  };
  table('PERFORMANCE COMPARISON', 'Concurrency', c.concurrency);
  table('WORKER SCALING COMPARISON', 'Workers', c.scaling);
  return out === '' ? 'Nothing to compare: the files hold no concurrency or scaling results.\n' : out;
}

export function formatComparisonMarkdown(c: Comparison): string {
  let out = '';
  const table = (title: string, keyName: string, rs: CompareRow[]) => {
    if (rs.length === 0) return;
    const h = headers(c, keyName);
    out += `### ${title}\n\n| ${h.join(' | ')} |\n|${h.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|\n`;
    for (const r of rs) out += `| ${cells(r).join(' | ')} |\n`;
    out += '\n';
  };
  table('Concurrency', 'Concurrency', c.concurrency);
  table('Worker scaling', 'Workers', c.scaling);
  return out;
}
