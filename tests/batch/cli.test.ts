import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimFleet, type SimFleet, type SimWorkerOptions } from '../../src/sim/index.ts';
import { BIN, runFleet } from '../cli/run.ts';
import { makePdf, paper, tempDir } from './helpers.ts';

let sim: SimFleet | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  while (cleanups.length) cleanups.pop()!();
});

interface Setup {
  dir: string;
  config: string;
  sim: SimFleet;
}

/** Sim workers, their config file, and `docs` papers (+ extra files) in a temp folder. */
async function setup(
  specs: SimWorkerOptions[],
  docs: number,
  workerExtra: Record<string, unknown> = {},
): Promise<Setup> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  sim = await startSimFleet(specs);
  const config = join(t.dir, 'workers.json');
  const raw = sim.workerConfig();
  writeFileSync(
    config,
    JSON.stringify({
      workers: raw.workers.map((w) => ({ ...w, ...workerExtra })),
      settings: { health_check_interval: 3600 },
    }),
  );
  mkdirSync(join(t.dir, 'papers'));
  for (let i = 1; i <= docs; i++)
    writeFileSync(join(t.dir, 'papers', `paper${String(i).padStart(2, '0')}.txt`), paper(i, 600));
  return { dir: t.dir, config, sim };
}

const requests = (s: SimFleet) => s.workers.reduce((n, w) => n + w.stats().requests, 0);

interface Output {
  total_tasks: number;
  successful: number;
  failed: number;
  results: Array<{
    file: string;
    prompt_template: string;
    timestamp: string;
    success: boolean;
    worker: string;
  }>;
  [k: string]: unknown;
}
const readOutput = (dir: string, name = 'processing_results.json') =>
  JSON.parse(readFileSync(join(dir, name), 'utf8')) as Output;

function journalDone(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM tasks WHERE ok = 1').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Spawns `fleet batch ...`, resolves once the journal holds `atLeast` finished tasks. */
function spawnUntil(args: string[], cwd: string, journal: string, atLeast: number) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (journalDone(journal) >= atLeast) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`exited before ${atLeast} tasks: ${stderr}`));
    });
  });
  return { child, reached, exited, output: () => ({ stdout, stderr }) };
}

const slowWorker = (id: string): SimWorkerOptions => ({ id, slots: 2, fixedLatencyMs: 250, outputTokens: 8 });

describe('fleet batch', () => {
  it('runs the research preset over a folder: every task once, document affinity served from the prefix cache', async () => {
    const s = await setup(
      [
        { id: 'w1', slots: 3, prefillTps: 20000, decodeTps: 2000, outputTokens: 16, timeScale: 0.2 },
        { id: 'w2', slots: 3, prefillTps: 20000, decodeTps: 2000, outputTokens: 16, timeScale: 0.2 },
      ],
      6,
    );
    writeFileSync(
      join(s.dir, 'papers', 'scan.pdf'),
      makePdf(['A PDF paper about results.', 'With two lines.']),
    );
    writeFileSync(
      join(s.dir, 'papers', 'page.html'),
      '<title>Web</title><p>An HTML page &amp; its text.</p>',
    );
    writeFileSync(join(s.dir, 'papers', 'image.txt'), Buffer.from([0xff, 0xd8, 0, 0, 1]));
    const r = await runFleet(
      [
        'batch',
        '-i',
        'papers',
        '-c',
        s.config,
        '--preset',
        'research',
        '--out-dir',
        'reports',
        '--jsonl',
        'r.jsonl',
      ],
      { cwd: s.dir, timeoutMs: 60_000 },
    );
    expect(r.stderr).toContain('skipped papers/image.txt: binary file');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /PROCESSING COMPLETE[\s\S]*Files processed: 8[\s\S]*Total tasks: 40[\s\S]*Successful: 40[\s\S]*Success rate: 100.0%[\s\S]*Average speed: [\d.]+ tasks\/sec/,
    );
    expect(r.stdout).toMatch(/w1: \d+ tasks, [\d.]+% busy/);
    expect(r.stdout).toMatch(/Prefix cache: \d+ of \d+ prompt tokens/);
    expect(r.stdout).toContain('Results saved to: processing_results.json');
    const out = readOutput(s.dir);
    expect(out).toMatchObject({
      files_processed: 8,
      total_tasks: 40,
      successful: 40,
      failed: 0,
      success_rate: 100,
    });
    for (const k of ['timestamp', 'prompts_used', 'total_time_seconds', 'tasks_per_second'])
      expect(out).toHaveProperty(k);
    // One run: its time is the job's, and the block has no "this run" qualifiers.
    expect(out).toMatchObject({ runs: 1, tasks_this_run: 40, job_time_seconds: out['total_time_seconds'] });
    expect(r.stdout).not.toContain('this run');
    const keys = out.results.map((x) => `${x.file}|${x.prompt_template}`);
    expect(new Set(keys).size).toBe(40);
    expect(out.results[0]).toMatchObject({
      success: true,
      response: { model: 'sim-model', response: expect.any(String) },
    });
    expect(requests(s.sim)).toBe(40);
    // Each document's five prompts stayed on one worker; prompts 2-5 hit its prefix cache.
    const byFile = new Map<string, Set<string>>();
    for (const x of out.results) byFile.set(x.file, (byFile.get(x.file) ?? new Set()).add(x.worker));
    const together = [...byFile.values()].filter((w) => w.size === 1).length;
    expect(together).toBeGreaterThanOrEqual(6);
    const hits = s.sim.workers.reduce((n, w) => n + w.stats().cacheHits, 0);
    expect(hits).toBeGreaterThanOrEqual(24);
    const md = readFileSync(join(s.dir, 'reports', 'papers', 'paper01.txt.md'), 'utf8');
    expect(md).toMatch(/^# paper01\n[\s\S]*## research question[\s\S]*## future directions/);
    expect(readFileSync(join(s.dir, 'r.jsonl'), 'utf8').trim().split('\n')).toHaveLength(40);
    expect(readFileSync(join(s.dir, 'reports', 'papers', 'page.html.md'), 'utf8')).toMatch(/^# Web/);
  }, 90_000);

  it('refuses bad input with exit 2 and a clear message, before sending anything', async () => {
    const s = await setup([{ id: 'w1', fixedLatencyMs: 0 }], 2);
    mkdirSync(join(s.dir, 'empty'));
    writeFileSync(join(s.dir, 'blob.bin'), Buffer.from([0, 1, 2, 3, 0, 0]));
    const cases: Array<[string[], RegExp]> = [
      [['-i', 'missing', '-p', '{content}'], /-i\/--input: missing: no such file or folder/],
      [['-i', 'empty', '-p', '{content}'], /folder empty is empty/],
      [['-i', 'papers', '--extensions', '.pdf', '-p', '{content}'], /no files with extensions \.pdf/],
      [['-i', 'papers'], /no prompts: pass -p\/--prompt/],
      [['-i', 'papers', '--preset', 'legal'], /unknown preset "legal"; presets:\n {2}research/],
      [['-i', 'papers', '-p', 'Sum up {document}'], /unknown placeholder \{document\}/],
      [['-i', 'blob.bin', '-p', '{content}'], /blob.bin: binary file/],
      [
        ['-i', 'papers', '-p', '{content}', '-o', 'nowhere/out.json'],
        /-o\/--output .*nowhere\/out.json: folder .* does not exist/,
      ],
      [
        ['-i', 'papers', '-p', '{content}', '--max-concurrent', '0'],
        /--max-concurrent: expected an integer >= 1, got "0"/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runFleet(['batch', '-c', s.config, ...args], { cwd: s.dir });
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
    }
    // A journal from another job is not mixed in.
    expect(
      (await runFleet(['batch', '-c', s.config, '-i', 'papers', '-p', 'A {content}'], { cwd: s.dir })).code,
    ).toBe(0);
    const other = await runFleet(['batch', '-c', s.config, '-i', 'papers', '-p', 'B {content}'], {
      cwd: s.dir,
    });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /belongs to a different job \(prompts: journal has .*A \{content\}.*--fresh/,
    );
    expect(requests(s.sim)).toBe(2);
    const fresh = await runFleet(['batch', '-c', s.config, '-i', 'papers', '-p', 'B {content}', '--fresh'], {
      cwd: s.dir,
    });
    expect(fresh.code).toBe(0);
    expect(requests(s.sim)).toBe(4);
  }, 90_000);

  it('survives SIGKILL: the re-run sends only what was not finished, and the output holds every task once', async () => {
    const s = await setup([slowWorker('w1'), slowWorker('w2')], 6);
    const journal = join(s.dir, 'processing_results.json.journal.sqlite');
    const args = ['batch', '-i', 'papers', '-c', s.config, '--preset', 'research'];
    const run1 = spawnUntil(args, s.dir, journal, 8);
    await run1.reached;
    run1.child.kill('SIGKILL');
    await run1.exited;
    const done1 = journalDone(journal);
    expect(done1).toBeGreaterThanOrEqual(8);
    expect(done1).toBeLessThan(30);
    for (const w of s.sim.workers) w.resetStats();
    const r2 = await runFleet(args, { cwd: s.dir, timeoutMs: 60_000 });
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain(`(${done1} already done`);
    expect(r2.stdout).toContain(`Resumed: ${done1} tasks from the journal (not sent again)`);
    // Time and speed are this run's (its tasks over its time), and say so; the job's time is summed
    // over both runs (the killed one counted up to its last finished task).
    expect(r2.stdout).toMatch(/Total time: [\d.]+s \(this run; the job took [\d.]+s over 2 runs\)/);
    expect(r2.stdout).toMatch(
      new RegExp(`Average speed: [\\d.]+ tasks/sec \\(this run's ${30 - done1} tasks\\)`),
    );
    const timing = readOutput(s.dir);
    expect(timing).toMatchObject({ runs: 2, tasks_this_run: 30 - done1, resumed_tasks: done1 });
    const runS = timing['total_time_seconds'] as number;
    expect(timing['tasks_per_second']).toBeCloseTo((30 - done1) / runS, 2);
    expect(timing['job_time_seconds'] as number).toBeGreaterThan(runS);
    // No finished task was sent twice: run 2 sent exactly the rest.
    expect(requests(s.sim)).toBe(30 - done1);
    const out = readOutput(s.dir);
    expect(out.total_tasks).toBe(30);
    expect(out.successful).toBe(30);
    expect(new Set(out.results.map((x) => `${x.file}|${x.prompt_template}`)).size).toBe(30);
    expect(out.results).toHaveLength(30);
    // A changed file is picked up (its 5 tasks only); unchanged ones are not sent again.
    for (const w of s.sim.workers) w.resetStats();
    writeFileSync(join(s.dir, 'papers', 'paper01.txt'), paper(99, 600));
    writeFileSync(join(s.dir, 'papers', 'paper07.txt'), paper(7, 600));
    const r3 = await runFleet(args, { cwd: s.dir, timeoutMs: 60_000 });
    expect(r3.code).toBe(0);
    expect(requests(s.sim)).toBe(10);
    expect(readOutput(s.dir).results).toHaveLength(35);
  }, 120_000);

  it('on SIGINT writes what finished, says how to resume and exits 130; the re-run completes', async () => {
    const s = await setup([slowWorker('w1')], 4);
    const journal = join(s.dir, 'out.json.journal.sqlite');
    const args = ['batch', '-i', 'papers', '-c', s.config, '--preset', 'summary', '-o', 'out.json'];
    const run1 = spawnUntil(args, s.dir, journal, 3);
    await run1.reached;
    run1.child.kill('SIGINT');
    expect(await run1.exited).toBe(130);
    expect(run1.output().stderr).toMatch(
      /Interrupted: \d+ finished tasks are saved in .*out.json.journal.sqlite\.\nRun the same command again to resume/,
    );
    expect(run1.output().stdout).toContain('PROCESSING INTERRUPTED');
    const partial = readOutput(s.dir, 'out.json');
    const done1 = journalDone(journal);
    expect(partial.results).toHaveLength(done1);
    const r2 = await runFleet(args, { cwd: s.dir, timeoutMs: 60_000 });
    expect(r2.code).toBe(0);
    expect(readOutput(s.dir, 'out.json').results).toHaveLength(12);
  }, 90_000);

  it('exits 1 listing failed tasks and why; the same command retries only those', async () => {
    const s = await setup([{ id: 'w1', fixedLatencyMs: 0, faults: { errorRate: 1 } }], 2);
    const args = ['batch', '-i', 'papers', '-c', s.config, '-p', '{content} Q1?', '-p', '{content} Q2?'];
    const r = await runFleet([...args, '-s', writeSettings(s.dir)], { cwd: s.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /Failed: 4[\s\S]*Failed tasks \(4; run the same command again to retry them\):\n {2}papers\/paper01.txt \[prompt 1\]: FLEET_UPSTREAM_SERVER/,
    );
    expect(
      readOutput(s.dir).results.every(
        (x) => !x.success && typeof (x as { error?: string }).error === 'string',
      ),
    ).toBe(true);
    s.sim.workers[0]!.setFaults({});
    const before = requests(s.sim);
    const r2 = await runFleet([...args, '-s', writeSettings(s.dir)], { cwd: s.dir });
    expect(r2.code).toBe(0);
    expect(requests(s.sim) - before).toBe(4);
  }, 60_000);

  it('fits long documents to the context: chunks with map-then-combine, or truncates with a notice', async () => {
    const s = await setup(
      [{ id: 'w1', slots: 4, fixedLatencyMs: 0, outputTokens: 8, contextLength: 4096 }],
      0,
      { context_length: 4096 },
    );
    writeFileSync(join(s.dir, 'papers', 'long.txt'), paper(5, 9000));
    const chunk = await runFleet(
      ['batch', '-i', 'papers', '-c', s.config, '-p', '{content} Q?', '--max-tokens', '64'],
      { cwd: s.dir },
    );
    expect(chunk.code).toBe(0);
    expect(chunk.stderr).toMatch(/notice: papers\/long.txt: Document split into (\d+) parts/);
    const parts = Number(/split into (\d+) parts/.exec(chunk.stderr)![1]);
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(requests(s.sim)).toBe(parts + 1);
    const log = s.sim.workers[0]!.stats().log;
    expect(log.every((e) => e.status === 200 && e.promptTokens + 64 <= 4096)).toBe(true);
    const trunc = await runFleet(
      [
        'batch',
        '-i',
        'papers',
        '-c',
        s.config,
        '-p',
        '{content} Q?',
        '--max-tokens',
        '64',
        '--long-docs',
        'truncate',
        '-o',
        't.json',
      ],
      { cwd: s.dir },
    );
    expect(trunc.code).toBe(0);
    expect(trunc.stdout).toMatch(
      /Notice: papers\/long.txt: Document truncated: the first \d+ of \d+ characters/,
    );
    const t = readOutput(s.dir, 't.json');
    expect(t.results[0]).toMatchObject({ success: true, notice: expect.stringMatching(/truncated/) });
  }, 60_000);
});

function writeSettings(dir: string): string {
  const p = join(dir, 'settings.json');
  writeFileSync(p, JSON.stringify({ max_retries: 0, health_check_interval: 3600 }));
  return p;
}
