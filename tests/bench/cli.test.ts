/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- assertions over parsed result JSON */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleet } from '../cli/run.ts';
import { closeSims, simConfigFile, tempDir } from './helpers.ts';

afterEach(closeSims);

const fast = { slots: 2, fixedLatencyMs: 200, timeScale: 0.25, outputTokens: 8 };

/** The guide's Python comparison script, verbatim. */
const GUIDE_SCRIPT = `import json

# Load results
single = json.load(open('results_single.json'))
multiple = json.load(open('results_multiple.json'))

print("PERFORMANCE COMPARISON")
print("=" * 70)
print(f"{'Concurrency':<12} {'Single (req/s)':<15} {'Multiple (req/s)':<17} {'Speedup':<10}")
print("-" * 70)

for s, m in zip(single['concurrency_benchmark'], multiple['concurrency_benchmark']):
    conc = s['concurrency']
    single_rps = s['requests_per_second']
    multi_rps = m['requests_per_second']
    speedup = multi_rps / single_rps if single_rps > 0 else 0
    
    print(f"{conc:<12} {single_rps:<15.2f} {multi_rps:<17.2f} {speedup:<10.2f}x")
`;

const hasJq = spawnSync('jq', ['--version']).status === 0;

describe('fleet benchmark (the guide, command for command)', () => {
  it('single vs multiple: guide console lines, JSON fields, jq lines, the Python script and fleet compare', async () => {
    const one = await simConfigFile([{ id: 'mac-studio-1', ...fast }]);
    const three = await simConfigFile([1, 2, 3].map((i) => ({ id: `mac-studio-${i}`, ...fast })));
    const dir = tempDir();
    const args = [
      '--requests',
      '24',
      '--mode',
      'concurrency',
      '--concurrency-levels',
      '2',
      '6',
      '--warmup',
      '1',
    ];
    const a = await runFleet(
      ['benchmark', '--config', one.file, ...args, '--output', 'results_single.json'],
      { cwd: dir },
    );
    expect(a.code, a.stderr).toBe(0);
    const b = await runFleet(['benchmark', '-c', three.file, ...args, '-o', 'results_multiple.json'], {
      cwd: dir,
    });
    expect(b.code, b.stderr).toBe(0);

    // The guide's console block, line for line.
    expect(b.stdout).toMatch(
      /={60}\nBENCHMARKING WITH CONCURRENCY: 6\n={60}\nResults:\n {2}Requests\/sec: \d+\.\d\n {2}Success rate: 100\.0%\n {2}Avg response time: \d+\.\d\ds\n {2}P95 response time: \d+\.\d\ds\n {2}P99 response time: \d+\.\d\ds\n\nWorker utilization:\n {2}mac-studio-1: \d+ requests, 100\.0% success rate/,
    );
    expect(b.stdout).toMatch(/Latency \(ms\)\s+mean\s+p50\s+p90\s+p95\s+p99\s+max\n\s+TTFT/);
    expect(b.stdout).toMatch(/Balance \(Jain's index, requests per slot\): \d\.\d{3}/);
    expect(b.stdout).toMatch(/BENCHMARK COMPLETE\n={60}\nBest concurrency: \d+ \(\d+\.\d req\/sec\)/);
    expect(b.stdout).toContain('Results saved to: results_multiple.json');

    const single = JSON.parse(readFileSync(join(dir, 'results_single.json'), 'utf8'));
    const multiple = JSON.parse(readFileSync(join(dir, 'results_multiple.json'), 'utf8'));
    expect(Object.keys(multiple)).toEqual(
      expect.arrayContaining(['timestamp', 'configuration', 'concurrency_benchmark', 'scaling_benchmark']),
    );
    expect(multiple.configuration).toMatchObject({
      workers: 3,
      requests: 24,
      concurrency_levels: [2, 6],
      worker_counts: [1, 2, 3, 5, 10],
    });
    const lvl = multiple.concurrency_benchmark[1];
    for (const k of [
      'concurrency',
      'total_requests',
      'successful',
      'failed',
      'success_rate',
      'total_time',
      'requests_per_second',
      'avg_response_time',
      'min_response_time',
      'max_response_time',
      'p50_response_time',
      'p95_response_time',
      'p99_response_time',
    ])
      expect(typeof lvl[k], k).toBe('number');
    expect(lvl).toMatchObject({
      concurrency: 6,
      total_requests: 24,
      successful: 24,
      failed: 0,
      success_rate: 100,
    });
    // Times in seconds: 200 ms x 0.25 = 50 ms per request.
    expect(lvl.avg_response_time).toBeGreaterThan(0.045);
    expect(lvl.avg_response_time).toBeLessThan(0.2);
    expect(
      lvl.workers.map((w: { requests: number }) => w.requests).reduce((x: number, y: number) => x + y),
    ).toBe(24);

    // The guide's jq line, in TS: {concurrency, rps, success} per level.
    const view = multiple.concurrency_benchmark.map((l: Record<string, number>) => ({
      concurrency: l['concurrency'],
      rps: l['requests_per_second'],
      success: l['success_rate'],
    }));
    expect(view.map((v: { concurrency: number }) => v.concurrency)).toEqual([2, 6]);
    if (hasJq) {
      const out = execFileSync(
        'jq',
        [
          '-c',
          '.concurrency_benchmark[] | {concurrency, rps: .requests_per_second, success: .success_rate}',
          'results_multiple.json',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      expect(
        out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual(view);
      const q = execFileSync(
        'jq',
        [
          '.concurrency_benchmark[] | "\\(.concurrency): \\(.requests_per_second) req/s"',
          'results_single.json',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      expect(q).toMatch(/^"2: [\d.]+ req\/s"\n"6: [\d.]+ req\/s"\n$/);
    }

    // The guide's Python script, verbatim, on our two files.
    writeFileSync(join(dir, 'compare.py'), GUIDE_SCRIPT);
    const py = execFileSync('python3', ['compare.py'], { cwd: dir, encoding: 'utf8' });
    expect(py).toMatch(/^PERFORMANCE COMPARISON\n={70}\nConcurrency {2}Single \(req\/s\)/);
    const rows = py.trim().split('\n').slice(4);
    expect(rows).toHaveLength(2);
    const speedup6 =
      multiple.concurrency_benchmark[1].requests_per_second /
      single.concurrency_benchmark[1].requests_per_second;
    expect(rows[1]).toMatch(new RegExp(`^6 +[\\d.]+ +[\\d.]+ +${speedup6.toFixed(2)}`));
    // 3 workers x 2 slots vs 1 x 2 at concurrency 6: about three times the throughput.
    expect(speedup6).toBeGreaterThan(2.2);

    const c = await runFleet(['compare', 'results_single.json', 'results_multiple.json'], { cwd: dir });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(
      /PERFORMANCE COMPARISON\n={70,}\nConcurrency +results_single \(req\/s\) +results_multiple \(req\/s\) +Speedup/,
    );
    expect(c.stdout).toMatch(new RegExp(`\\n6 +[\\d.]+ +[\\d.]+ +${speedup6.toFixed(2)}x`));
    const md = await runFleet(['compare', 'results_single.json', 'results_multiple.json', '--markdown'], {
      cwd: dir,
    });
    expect(md.stdout).toContain(
      '| Concurrency | results_single (req/s) | results_multiple (req/s) | Speedup |',
    );
    const js = await runFleet(['compare', 'results_single.json', 'results_multiple.json', '--json'], {
      cwd: dir,
    });
    const parsed = JSON.parse(js.stdout);
    expect(parsed.concurrency.map((r: { key: number }) => r.key)).toEqual([2, 6]);
    expect(parsed.concurrency[1].speedup[1]).toBeCloseTo(speedup6, 6);
  }, 60_000);

  it('worker scaling: first N workers, skipped counts noted, speedup and both efficiencies', async () => {
    const cfg = await simConfigFile([1, 2].map((i) => ({ id: `w${i}`, ...fast })));
    const dir = tempDir();
    const r = await runFleet(
      [
        'benchmark',
        '-c',
        cfg.file,
        '--mode',
        'scaling',
        '--requests',
        '16',
        '--worker-counts',
        '1',
        '2',
        '3',
        '--warmup',
        '1',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.concurrency_benchmark).toEqual([]);
    expect(res.scaling_benchmark.map((s: { workers: number }) => s.workers)).toEqual([1, 2]);
    const [s1, s2] = res.scaling_benchmark;
    expect(s1).toMatchObject({
      workers: 1,
      healthy_workers: 1,
      worker_ids: ['w1'],
      concurrency: 2,
      speedup: 1,
      scaling_efficiency: 100,
    });
    expect(s2).toMatchObject({ workers: 2, healthy_workers: 2, worker_ids: ['w1', 'w2'], concurrency: 4 });
    expect(s2.throughput_per_worker).toBeCloseTo(s2.requests_per_second / 2, 3);
    expect(s2.speedup).toBeGreaterThan(1.5);
    expect(s2.scaling_efficiency).toBeCloseTo(s2.speedup * 50, 1);
    expect(Object.keys(res.solo_throughput)).toEqual(['w1', 'w2']);
    expect(s2.solo_sum_rps).toBeCloseTo(res.solo_throughput.w1 + res.solo_throughput.w2, 3);
    expect(res.notes.join('\n')).toMatch(/worker count 3 skipped: only 2 workers are configured/);
    expect(res.best_worker_count.workers).toBe(2);
  }, 60_000);

  it('console lines of worker scaling, levels above --requests skipped with a note, request log and --pause', async () => {
    const cfg = await simConfigFile([1, 2].map((i) => ({ id: `w${i}`, ...fast })));
    const dir = tempDir();
    const r = await runFleet(
      [
        'benchmark',
        '-c',
        cfg.file,
        '--requests',
        '8',
        '--concurrency-levels',
        '2',
        '20',
        '--worker-counts',
        '1',
        '2',
        '--warmup',
        '0',
        '--no-stream',
        '--requests-log',
        'log.jsonl',
        '--pause',
        '0.05',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Note: concurrency 20 skipped: it is above --requests 8');
    expect(r.stdout).toMatch(
      /TESTING WITH 2 WORKERS\n={60}\nHealthy workers: 2\/2\nThroughput: [\d.]+ req\/sec\nPer worker: [\d.]+ req\/sec/,
    );
    expect(r.stdout).toMatch(/Best worker count: \d \([\d.]+ req\/sec\)/);
    const log = readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // 8 concurrency + 8 + 8 scaling (1 and 2 workers) + 8 solo run of w2.
    expect(log).toHaveLength(32);
    expect(log[0]).toMatchObject({ phase: 'concurrency', ok: true, output_tokens: 8 });
    expect(log[0].ttft).toBeUndefined();
    const res = JSON.parse(readFileSync(join(dir, 'benchmark_results.json'), 'utf8'));
    expect(res.concurrency_benchmark[0].stream).toBe(false);
    // Plain progress lines on a non-TTY stderr.
    expect(r.stderr).toMatch(/\[concurrency 2\] 8\/8 requests, [\d.]+ req\/s, 0 errors/);
  }, 60_000);

  it('all workers down: a clear report and exit 1, no hang', async () => {
    const cfg = await simConfigFile([
      { id: 'a', ...fast },
      { id: 'b', ...fast },
    ]);
    for (const w of cfg.sim.workers) await w.crash();
    const r = await runFleet(['benchmark', '-c', cfg.file, '--requests', '4'], { cwd: cfg.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Healthy workers: 0/2');
    expect(r.stdout).toMatch(/a: DOWN \(.*refused/);
    expect(r.stderr).toMatch(/no worker is healthy, nothing to benchmark \(a: .*; b: .*\)/);
    expect(existsSync(join(cfg.dir, 'benchmark_results.json'))).toBe(false);
  }, 30_000);

  it('bad input exits 2 naming the flag, file or value, before any request is sent', async () => {
    const cfg = await simConfigFile([{ id: 'a', ...fast }]);
    const dir = cfg.dir;
    const missing = await runFleet(['benchmark', '-c', 'nope.json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json/);
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ workers: [] }));
    const zero = await runFleet(['benchmark', '-c', 'empty.json'], { cwd: dir });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/empty\.json: workers.*at least one worker/);
    const unwritable = await runFleet(['benchmark', '-c', cfg.file, '-o', 'no/such/dir/out.json'], {
      cwd: dir,
    });
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(
      /-o\/--output no\/such\/dir\/out\.json: cannot write there \(directory no\/such\/dir does not exist\)/,
    );
    const notDir = await runFleet(['benchmark', '-c', cfg.file, '--html', 'empty.json/r.html'], { cwd: dir });
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toContain(
      '--html empty.json/r.html: cannot write there (empty.json is not a directory)',
    );
    if (process.getuid?.() !== 0) {
      // Root may write anywhere, so this check only means something for other users.
      mkdirSync(join(dir, 'ro'));
      chmodSync(join(dir, 'ro'), 0o500);
      const ro = await runFleet(['benchmark', '-c', cfg.file, '--requests-log', 'ro/log.jsonl'], {
        cwd: dir,
      });
      expect(ro.code).toBe(2);
      expect(ro.stderr).toContain('--requests-log ro/log.jsonl: cannot write there (permission denied)');
    }
    const flag = await runFleet(['benchmark', '-c', cfg.file, '--requests', 'ten'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--requests: expected an integer >= 1, got "ten"');
    const levels = await runFleet(['benchmark', '-c', cfg.file, '--concurrency-levels', '0'], { cwd: dir });
    expect(levels.code).toBe(2);
    expect(levels.stderr).toContain('--concurrency-levels: expected an integer >= 1, got "0"');
    writeFileSync(join(dir, 'p.jsonl'), '{"prompt": "hi"}\n{"prompt": 3}\n');
    const prompts = await runFleet(['benchmark', '-c', cfg.file, '--prompts', 'p.jsonl'], { cwd: dir });
    expect(prompts.code).toBe(2);
    expect(prompts.stderr).toMatch(/p\.jsonl:2: needs a non-empty "prompt"/);
    // Nothing reached the worker.
    expect(cfg.sim.workers[0]!.stats().requests).toBe(0);
  }, 60_000);

  it('compare: malformed results files exit 2 naming the file and what is wrong', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'good.json'),
      JSON.stringify({
        concurrency_benchmark: [{ concurrency: 1, requests_per_second: 2, success_rate: 100 }],
      }),
    );
    writeFileSync(join(dir, 'notjson.json'), '{"concurrency_benchmark": [');
    writeFileSync(
      join(dir, 'wrong.json'),
      JSON.stringify({
        concurrency_benchmark: [{ concurrency: 1, requests_per_second: 'fast', success_rate: 100 }],
      }),
    );
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
    const cases: Array<[string, RegExp]> = [
      ['notjson.json', /notjson\.json: not valid JSON/],
      [
        'wrong.json',
        /wrong\.json: concurrency_benchmark\[0\]\.requests_per_second: expected a number, got "fast"/,
      ],
      ['other.json', /other\.json: has neither concurrency_benchmark nor scaling_benchmark/],
      ['missing.json', /missing\.json: cannot read it \(ENOENT\)/],
    ];
    for (const [f, re] of cases) {
      const r = await runFleet(['compare', 'good.json', f], { cwd: dir });
      expect(r.code, f).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const one = await runFleet(['compare', 'good.json'], { cwd: dir });
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('give two or more results files');
  }, 30_000);

  it('--help documents every flag with its default and the metric definitions', async () => {
    const r = await runFleet(['benchmark', '--help']);
    expect(r.code).toBe(0);
    r.stdout = r.stdout.replace(/\s+/g, ' ');
    for (const s of [
      '--config',
      '--output',
      '(default: "benchmark_results.json")',
      '--requests',
      '(default: "100")',
      '--mode',
      'default: "both")',
      '--concurrency-levels',
      '(default: 1 5 10 20 50 100)',
      '--worker-counts',
      '(default: 1 2 3 5 10)',
      '--max-tokens',
      '(default: stream',
      '--no-stream',
      '(default: "2")',
      '--warmup',
      '--pause',
      '(default: "0")',
      '--prompts',
      '--input-tokens',
      '--rate',
      '--arrival',
      '--duration',
      '--html',
      '--requests-log',
      '--json',
      'TTFT',
      'TPOT',
      'ITL',
      'E2E',
    ])
      expect(r.stdout, s).toContain(s);
  });
});
