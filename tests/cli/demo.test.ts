import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runFleet } from './run.ts';

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The speed-up column of the comparison row at a concurrency level. */
function speedupAt(stdout: string, concurrency: number): number {
  const row = new RegExp(`^${concurrency}\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)x$`, 'm').exec(stdout);
  if (!row) throw new Error(`no row for concurrency ${concurrency} in:\n${stdout}`);
  return Number(row[3]);
}

describe('fleet demo', () => {
  it('runs the 1-vs-3-worker benchmark, prints the comparison table and the dashboard URL, exits 0', async () => {
    const r = await runFleet(['demo', '--port', '0', '--time-scale', '0.1', '--requests', '24'], {
      timeoutMs: 90_000,
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dashboard: http:\/\/127\.0\.0\.1:\d+\//m);
    expect(r.stdout).toContain('PERFORMANCE COMPARISON');
    expect(r.stdout).toMatch(/Concurrency\s+1_worker \(req\/s\)\s+3_workers \(req\/s\)\s+Speedup/);
    // At 12 callers one 4-slot worker is saturated; three workers (speeds 1, 0.75, 0.5) serve more.
    expect(speedupAt(r.stdout, 12)).toBeGreaterThan(1);
    expect(r.stderr).toContain('Benchmark 2/2: 3 worker(s)');
  }, 120_000);

  it('--keep serves the dashboard and API until SIGINT, then stops cleanly (exit 130)', async () => {
    child = spawn(
      process.execPath,
      [BIN, 'demo', '--keep', '--port', '0', '--time-scale', '0.05', '--requests', '12'],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await until(() => out.includes('Keeping it running'), 90_000);
    const url = /^Dashboard: (http:\/\/\S+)\/ /m.exec(out)![1]!;

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // The background traffic goes through the gateway's fleet: its numbers move while we watch.
    const completed = async () => {
      const res = await fetch(`${url}/fleet/status`);
      expect(res.status).toBe(200);
      const s = (await res.json()) as { totals: { completed: number }; workers: unknown[] };
      expect(s.workers).toHaveLength(3);
      return s.totals.completed;
    };
    const before = await completed();
    let after = before;
    const end = Date.now() + 20_000;
    while (after <= before && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      after = await completed();
    }
    expect(after).toBeGreaterThan(before);
    const chat = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-fleet-worker')).toMatch(/^sim-[123]$/);

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toContain('demo stopped');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 120_000);
});
