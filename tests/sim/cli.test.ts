/* eslint-disable @typescript-eslint/no-unsafe-call --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chat, http } from './helpers.ts';

/** `fleet sim` as a user runs it: the real binary, its stdout config, a signal to stop. */
const BIN = join(import.meta.dirname, '../../bin/fleet.mjs');
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(args: string[], cwd?: string) {
  const child = spawn(process.execPath, [BIN, 'sim', ...args], { cwd: cwd ?? process.cwd(), stdio: 'pipe' });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', () => {
      if (err.includes('stop with Ctrl-C')) resolve();
    });
    child.on('exit', () => reject(new Error(`fleet sim exited early: ${err}`)));
  });
  ready.catch(() => undefined); // awaited only by the tests that expect the server to come up

  return { child, exited, ready, out: () => out, err: () => err };
}

describe('fleet sim', () => {
  it('starts workers, prints their config, serves, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
    dirs.push(dir);
    const p = run(
      [
        '--workers',
        '2',
        '--slots',
        '3',
        '--type',
        'lm_studio',
        '--speeds',
        '1,0.5',
        '--latency-ms',
        '100',
        '--write-config',
        'workers.json',
      ],
      dir,
    );
    await p.ready;
    const config = JSON.parse(p.out());
    expect(config.workers).toHaveLength(2);
    expect(config.workers[0]).toMatchObject({
      id: 'sim-1',
      host: '127.0.0.1',
      type: 'lm_studio',
      model: 'sim-model',
      max_concurrent_requests: 3,
    });
    expect(JSON.parse(readFileSync(join(dir, 'workers.json'), 'utf8'))).toEqual(config);
    expect(p.err()).toMatch(
      /sim sim-2: lm_studio at http:\/\/127\.0\.0\.1:\d+ model=sim-model slots=3 speed=0\.5 latency=100ms/,
    );
    const w = config.workers[1];
    const r = await http(`http://${w.host}:${w.port}/v1/chat/completions`, {
      body: chat('hi', { max_tokens: 3 }),
    });
    expect(r.status).toBe(200);
    expect(r.json().usage.completion_tokens).toBe(3);
    expect(r.ms).toBeGreaterThanOrEqual(99);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.err()).toContain('sim: stopped (SIGTERM)');
  });

  it('reads workers from a YAML file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'sim.yaml'),
      '- id: studio\n  type: ollama\n  slots: 8\n  model: llama3\n- id: air\n  slots: 2\n',
    );
    const p = run(['--file', 'sim.yaml'], dir);
    await p.ready;
    const config = JSON.parse(p.out());
    expect(
      config.workers.map((w: { id: string; max_concurrent_requests: number }) => [
        w.id,
        w.max_concurrent_requests,
      ]),
    ).toEqual([
      ['studio', 8],
      ['air', 2],
    ]);
    const tags = await http(`http://127.0.0.1:${config.workers[0].port}/api/tags`);
    expect(tags.json().models[0].name).toBe('llama3');
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(130);
  });

  it.each([
    [['--slots', 'abc'], '--slots: expected an integer >= 1, got "abc"'],
    [
      ['--type', 'tgi'],
      '--type: expected one of openai, lm_studio, ollama, llama_cpp, vllm, mlx, exo, got "tgi"',
    ],
    [
      ['--workers', '2', '--speeds', '1,2,3'],
      '--speeds: expected 1 or 2 values (one per worker), got "1,2,3"',
    ],
    [['--file', 'missing.json'], '--file: cannot read missing.json'],
  ])('bad flags %j exit 2 with a clear message', async (args, message) => {
    const p = run(args);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain(message);
  });
});
