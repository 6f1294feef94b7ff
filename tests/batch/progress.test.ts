import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/io.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/index.ts';
import { paper, tempDir } from './helpers.ts';

let sim: SimFleet | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  while (cleanups.length) cleanups.pop()!();
});

/** An Io that says it is a terminal and keeps everything written, as a terminal would receive it. */
function ttyIo(cwd: string): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: {},
    cwd,
    isTTY: true,
    input: process.stdin,
    version: '0.0.0-test',
    stdout: () => out,
    stderr: () => err,
  };
}

interface Output {
  successful: number;
  results: Array<{ worker: string }>;
  workers: Array<{
    id: string;
    tasks: number;
    utilisation: number;
    prompt_tokens: number;
    cached_tokens: number;
  }>;
  prefix_cache: { prompt_tokens: number; cached_tokens: number; saved_fraction: number };
}

const BAR =
  // eslint-disable-next-line no-control-regex
  /\r\[([#-]{24})\] (\d+)\/(\d+) \| ([\d.]+) tasks\/min \| ETA (\d+)s \| failed (\d+) \| ([^\r\n\x1b]*)\x1b\[K/g;

describe('fleet batch on a terminal', () => {
  it('redraws one progress bar per finished task, then prints per-worker utilisation and prefix-cache savings', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const spec = { slots: 2, prefillTps: 20000, decodeTps: 400, outputTokens: 16, timeScale: 0.5 };
    sim = await startSimFleet([
      { id: 'w1', ...spec },
      { id: 'w2', ...spec },
    ]);
    const config = join(t.dir, 'workers.json');
    writeFileSync(
      config,
      JSON.stringify({
        workers: sim.workerConfig().workers.map((w) => ({ ...w, context_length: 8192 })),
        settings: { health_check_interval: 3600 },
      }),
    );
    mkdirSync(join(t.dir, 'papers'));
    for (let i = 1; i <= 4; i++) writeFileSync(join(t.dir, 'papers', `p${i}.txt`), paper(i, 800));

    const io = ttyIo(t.dir);
    const code = await main(
      ['node', 'fleet', 'batch', '-i', 'papers', '-c', config, '--preset', 'summary'],
      io,
    );
    const stdout = io.stdout();
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(readFileSync(join(t.dir, 'processing_results.json'), 'utf8')) as Output;
    expect(out.successful).toBe(12);

    // The bar: redrawn in place (\r ... erase to end of line), once per task, never the plain line.
    expect(stdout).not.toContain('Progress:');
    const bars = [...stdout.matchAll(BAR)];
    expect(bars.map((m) => Number(m[2]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const m of bars) {
      expect(m[3]).toBe('12');
      expect(m[6]).toBe('0');
      // The bar fills in proportion: done/total of 24 cells.
      expect(m[1]!.replace(/-/g, '')).toHaveLength(Math.round((Number(m[2]) / 12) * 24));
      expect(Number(m[4])).toBeGreaterThan(0);
    }
    const last = bars[bars.length - 1]!;
    expect(last[1]).toBe('#'.repeat(24));
    expect(last[5]).toBe('0');
    // Per-worker counts on the last bar are the workers that answered, as the output says.
    const counts = Object.fromEntries(
      last[7]!
        .trim()
        .split(/ (?=w\d)/)
        .map((p) => p.split(' ') as [string, string])
        .map(([w, n]) => [w, Number(n)]),
    );
    const fromOutput: Record<string, number> = {};
    for (const r of out.results) fromOutput[r.worker] = (fromOutput[r.worker] ?? 0) + 1;
    expect(counts).toEqual(fromOutput);
    // The bar line ends before the final block starts on a new line.
    expect(stdout).toContain(`\x1b[K\n\n${'='.repeat(60)}\nPROCESSING COMPLETE`);

    // Final block: one line per worker with its tasks, busy share and prefix-cache share, as in the JSON.
    for (const w of out.workers) {
      const line = new RegExp(
        `\\n {2}${w.id}: ${w.tasks} tasks, ([\\d.]+)% busy, prefix cache ([\\d.]+)% of ${w.prompt_tokens} prompt tokens\\n`,
      ).exec(stdout);
      expect(line, `${w.id} line in:\n${stdout}`).not.toBeNull();
      expect(Math.abs(Number(line![1]) - w.utilisation * 100)).toBeLessThanOrEqual(0.1);
      expect(w.utilisation).toBeGreaterThan(0);
      expect(w.utilisation).toBeLessThanOrEqual(1);
      expect(Number(line![2])).toBeCloseTo((w.cached_tokens / w.prompt_tokens) * 100, 1);
    }
    // Prefix-cache savings: what the workers reported (the simulator's own count of cache hits).
    const hitTokens = sim.workers.reduce((n, w) => n + w.stats().cacheHitTokens, 0);
    expect(hitTokens).toBeGreaterThan(0);
    expect(out.prefix_cache.cached_tokens).toBe(hitTokens);
    const pct = ((hitTokens / out.prefix_cache.prompt_tokens) * 100).toFixed(1);
    expect(stdout).toContain(
      `Prefix cache: ${hitTokens} of ${out.prefix_cache.prompt_tokens} prompt tokens served from the workers' caches (${pct}%)\n`,
    );
    // Two of each document's three prompts were served from the cache: well over half the tokens.
    expect(out.prefix_cache.saved_fraction).toBeGreaterThan(0.5);
  }, 60_000);
});
