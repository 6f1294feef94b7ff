/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- assertions over parsed result JSON */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runFleet } from '../cli/run.ts';
import { closeSims, simConfigFile } from './helpers.ts';

afterEach(closeSims);

/** Runs the real binary, calling `onOutput` with everything printed so far after each chunk. */
function spawnFleet(
  args: string[],
  cwd: string,
  onOutput: (stdout: string, stderr: string, kill: (sig: NodeJS.Signals) => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    const kill = (sig: NodeJS.Signals) => child.kill(sig);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onOutput(stdout, stderr, kill);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onOutput(stdout, stderr, kill);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('fleet benchmark, interactively', () => {
  it('Ctrl-C stops the run, writes what was measured marked partial, and exits 130', async () => {
    const cfg = await simConfigFile([{ id: 'a', slots: 2, fixedLatencyMs: 100, outputTokens: 4 }]);
    let sent = false;
    const r = await spawnFleet(
      [
        'benchmark',
        '-c',
        cfg.file,
        '--requests',
        '40',
        '--concurrency-levels',
        '2',
        '4',
        '--warmup',
        '0',
        '--html',
        'r.html',
      ],
      cfg.dir,
      (_out, err, kill) => {
        // The second level is a quarter done (plain progress lines on a pipe): interrupt it.
        if (!sent && /\[concurrency 4\] 10\/40 requests/.test(err)) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted: stopping and writing the results measured so far');
    expect(r.stderr).toContain('benchmark interrupted: partial results written to benchmark_results.json');
    expect(r.stdout).toContain('BENCHMARK INTERRUPTED (partial results)');
    expect(r.stdout).toMatch(/Note: interrupted after \d+ of 40 requests/);
    const res = JSON.parse(readFileSync(join(cfg.dir, 'benchmark_results.json'), 'utf8'));
    expect(res.partial).toBe(true);
    expect(res.notes.join('\n')).toMatch(/interrupted during concurrency 4: these results are partial/);
    const [first, second] = res.concurrency_benchmark;
    expect(first).toMatchObject({ concurrency: 2, total_requests: 40, successful: 40 });
    expect(first.partial).toBeUndefined();
    // The interrupted level keeps the requests that finished and drops the ones cut short.
    expect(second).toMatchObject({ concurrency: 4, partial: true, failed: 0 });
    expect(second.successful).toBeGreaterThanOrEqual(10);
    expect(second.successful).toBeLessThan(40);
    // Throughput of what finished: 2 slots / 0.1 s = 20 req/s at most, whatever the concurrency.
    expect(second.requests_per_second).toBeGreaterThan(10);
    expect(second.requests_per_second).toBeLessThan(22);
    // Only a complete level can be the best; worker scaling never started.
    expect(res.best_concurrency.concurrency).toBe(2);
    expect(res.scaling_benchmark).toEqual([]);
    // The HTML report is written too, and says what it is.
    expect(readFileSync(join(cfg.dir, 'r.html'), 'utf8')).toContain(
      '<strong>Interrupted: partial results.</strong> interrupted during concurrency 4',
    );
    // Nothing was sent after the interruption (40 + at most the 2 in flight beyond those counted).
    const sim = cfg.sim.workers[0]!;
    expect(sim.stats().requests).toBeLessThanOrEqual(40 + second.successful + 2);
    // The cut requests' connections closed with the process: the server frees their slots.
    for (let i = 0; i < 100 && sim.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sim.stats().inFlight).toBe(0);
  }, 60_000);

  it('draws a live progress bar on a terminal: requests done, req/s and errors', async () => {
    const cfg = await simConfigFile([
      { id: 'a', slots: 2, fixedLatencyMs: 100, outputTokens: 4, faults: { errorRate: 0.3 } },
    ]);
    // No retries, so the injected errors reach the benchmark and the bar counts them.
    writeFileSync(
      join(cfg.dir, 'workers.json'),
      JSON.stringify({ ...cfg.sim.workerConfig(), settings: { max_retries: 0 } }),
    );
    const cmd = [
      process.execPath,
      BIN,
      'benchmark',
      '-c',
      'workers.json',
      '--mode',
      'concurrency',
      '--requests',
      '30',
      '--concurrency-levels',
      '2',
      '--warmup',
      '0',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    // `script` gives the command a pseudo-terminal, as a user's shell would.
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: cfg.dir });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    const frames = [...r.out.matchAll(/concurrency 2 +\S+ (\d+)\/30 \| ([\d.]+) req\/s \| (\d+) errors/g)];
    expect(frames.length).toBeGreaterThan(2);
    const last = frames[frames.length - 1]!;
    expect(last[1]).toBe('30');
    expect(Number(last[2])).toBeGreaterThan(5);
    const res = JSON.parse(readFileSync(join(cfg.dir, 'benchmark_results.json'), 'utf8'));
    const failed = res.concurrency_benchmark[0].failed as number;
    expect(failed).toBeGreaterThan(0);
    expect(Number(last[3])).toBe(failed);
    // The counts grow from frame to frame, and the bar is redrawn in place (carriage returns).
    expect(frames.some((f) => Number(f[1]) > 0 && Number(f[1]) < 30)).toBe(true);
    expect(r.out).toMatch(/\r/);
    // The bar is gone before the level's results are printed under it.
    expect(r.out.indexOf('Results:')).toBeGreaterThan(last.index);
  }, 60_000);

  it('--input-tokens/--output-tokens and --prompts FILE.jsonl reach the worker as asked', async () => {
    const cfg = await simConfigFile([{ id: 'a', slots: 4, fixedLatencyMs: 20, outputTokens: 32 }]);
    const base = ['benchmark', '-c', cfg.file, '--mode', 'concurrency', '--concurrency-levels', '2'];
    const synth = await runFleet(
      [...base, '--requests', '6', '--warmup', '0', '--input-tokens', '300', '--output-tokens', '7'],
      { cwd: cfg.dir },
    );
    expect(synth.code, synth.stderr).toBe(0);
    const log = cfg.sim.workers[0]!.stats().log;
    expect(log).toHaveLength(6);
    // 300 tokens = 1200 characters, plus the chat template's "user: " and newline (2 tokens).
    for (const e of log) {
      expect(e.promptTokens).toBe(302);
      expect(e.outputTokens).toBe(7);
    }
    const res = JSON.parse(readFileSync(join(cfg.dir, 'benchmark_results.json'), 'utf8'));
    expect(res.configuration.prompts).toBe('synthetic: ~300 input tokens, 7 output tokens');
    expect(res.concurrency_benchmark[0].total_output_tokens).toBe(42);

    cfg.sim.workers[0]!.resetStats();
    const long = 'x'.repeat(400);
    writeFileSync(
      join(cfg.dir, 'p.jsonl'),
      [
        JSON.stringify({ prompt: long, max_tokens: 3 }),
        '',
        JSON.stringify({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi' },
          ],
        }),
      ].join('\n'),
    );
    const file = await runFleet(
      [...base, '--requests', '4', '--warmup', '0', '--max-tokens', '9', '--prompts', 'p.jsonl'],
      { cwd: cfg.dir },
    );
    expect(file.code, file.stderr).toBe(0);
    const entries = cfg.sim.workers[0]!.stats().log;
    expect(entries).toHaveLength(4);
    // Cycled in order; each use carries a unique "[run#n] " tag in front of the first message.
    const byOut = (n: number) => entries.filter((e) => e.outputTokens === n);
    expect(byOut(3)).toHaveLength(2);
    expect(byOut(9)).toHaveLength(2);
    const tagged = (chars: number) => Math.ceil(chars / 4);
    for (const e of byOut(3)) {
      // "user: [tag#n] " + 400 chars + "\n": the tag is a few characters, so 100 + 3 to 7 tokens.
      expect(e.promptTokens).toBeGreaterThanOrEqual(tagged(6 + 400 + 1 + 6));
      expect(e.promptTokens).toBeLessThanOrEqual(tagged(6 + 400 + 1 + 24));
    }
    for (const e of byOut(9)) expect(e.promptTokens).toBeLessThan(15);
    const res2 = JSON.parse(readFileSync(join(cfg.dir, 'benchmark_results.json'), 'utf8'));
    expect(res2.configuration.prompts).toMatch(/p\.jsonl \(2 prompts\)$/);
  }, 60_000);
});
