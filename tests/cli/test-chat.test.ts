import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimFleet, type SimFleet } from '../../src/sim/index.ts';
import { runFleet } from './run.ts';

let sim: SimFleet | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simConfig(n: number, extra: Record<string, unknown> = {}): Promise<string> {
  sim = await startSimFleet(
    Array.from({ length: n }, (_, i) => ({
      id: `sim-${i + 1}`,
      type: 'llama_cpp' as const,
      slots: 3,
      decodeTps: 500,
      outputTokens: 12,
      ...extra,
    })),
  );
  const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  const file = join(dir, 'workers.json');
  writeFileSync(file, JSON.stringify(sim.workerConfig(), null, 2));
  return file;
}

describe('fleet test', () => {
  it('lists every worker as the older tool did, counts the healthy ones and sends one request', async () => {
    const file = await simConfig(2);
    await sim!.workers[1]!.crash();
    const r = await runFleet(['test', '-c', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /sim-1 \(✓\) 127\.0\.0\.1:\d+ - 0% load {2}llama_cpp {2}sim-model {2}cap 3 \(config\), server slots 3 {2}\d+ ms/,
    );
    expect(r.stdout).toMatch(/sim-2 \(✗\) 127\.0\.0\.1:\d+ - 0% load .*DOWN: .*refused/);
    expect(r.stdout).toContain('Healthy workers: 1/2');
    expect(r.stdout).toMatch(/answered by sim-1 in \d+\.\d\ds \(TTFT \d+\.\d\ds, 12 tokens, [\d.]+ tok\/s\)/);
  });

  it('says why each unhealthy worker is down: wrong key, model not there, refused', async () => {
    sim = await startSimFleet([
      { id: 'locked', type: 'llama_cpp', apiKey: 'right-key' },
      { id: 'other-model', type: 'ollama', models: ['llama3'] },
      { id: 'fine', type: 'openai' },
      { id: 'gone', type: 'vllm' },
    ]);
    const cfg = sim.workerConfig();
    cfg.workers[1]!.model = 'mistral';
    await sim.workers[3]!.crash();
    const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
    const file = join(dir, 'workers.json');
    writeFileSync(
      file,
      JSON.stringify({ workers: cfg.workers.map((w, i) => (i === 0 ? { ...w, api_key: 'wrong-key' } : w)) }),
    );
    const r = await runFleet(['test', '-c', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/locked \(✗\) .*DOWN: 401 unauthorized: check api_key/);
    expect(r.stdout).toMatch(
      /other-model \(✗\) .*DOWN: model "mistral" not found on this Ollama \(run `ollama pull mistral`\)/,
    );
    expect(r.stdout).toMatch(/fine \(✓\)/);
    expect(r.stdout).toMatch(/gone \(✗\) .*DOWN: .*refused/);
    expect(r.stdout).toContain('Healthy workers: 1/4');
    expect(r.stdout).toContain('answered by fine');
    // The key is never printed.
    expect(r.stdout + r.stderr).not.toContain('wrong-key');
  });

  it('exits 1 and says why when no worker is healthy', async () => {
    const file = await simConfig(1);
    await sim!.workers[0]!.crash();
    const r = await runFleet(['test', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Healthy workers: 0/1');
    expect(r.stderr).toMatch(/No worker is healthy/);
  });

  it('exits 2 with the problem when the config is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ workers: [{ id: 'a', type: 'lmstudio', model: 'x' }] }));
    const r = await runFleet(['test', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/workers\[0\]\.type/);
  });
});

describe('fleet chat', () => {
  it('streams answers in a prompt loop and shows the worker, TTFT and tokens/s after each', async () => {
    const file = await simConfig(1);
    const r = await runFleet(['chat', '-c', file], { input: 'Hello there\nAnd again\n/exit\n' });
    expect(r.code).toBe(0);
    const stats = r.stdout.match(/\[sim-1 · TTFT \d+\.\d\ds · [\d.]+ tok\/s · 12 tokens\]/g);
    expect(stats).toHaveLength(2);
    // The second turn carried the first as history.
    const log = sim!.workers[0]!.stats().log;
    expect(log).toHaveLength(2);
    expect(log[1]!.promptTokens).toBeGreaterThan(log[0]!.promptTokens);
  });
});
