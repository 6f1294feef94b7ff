import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../src/bench/index.ts';
import { runFleet } from '../cli/run.ts';
import { closeSims, simFleet, tempDir } from './helpers.ts';

afterEach(closeSims);

const OUT = resolve('test-output');

describe('HTML report', () => {
  it('fleet report writes one self-contained page whose four charts draw in headless Chromium', async () => {
    const { config } = await simFleet(
      [1, 1, 0.5].map((speed, i) => ({
        id: `studio-${i + 1}`,
        slots: 2,
        fixedLatencyMs: 100,
        timeScale: 0.25,
        speed,
        outputTokens: 6,
      })),
    );
    const results = await runBenchmark({
      config,
      requests: 12,
      concurrencyLevels: [1, 3, 6],
      workerCounts: [1, 2, 3],
      warmupPerWorker: 0,
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
    const r = await runFleet(['report', 'results.json', '-o', 'report.html'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('HTML report: report.html');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    // Self-contained: chart.js inlined, nothing fetched from anywhere.
    expect(/<script[^>]+src=|<link[^>]+href=/i.test(html)).toBe(false);
    expect(html.length).toBeGreaterThan(150_000);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (q) => requests.push(q.url()));
      await page.goto(pathToFileURL(join(dir, 'report.html')).href);
      // Runs in the page (a string, so this file needs no DOM types).
      const drawn = await page.evaluate<
        Array<{ id: string; datasets: number; ink: number; width: number; height: number }>
      >(`window.__charts.map((c) => {
        const ctx = c.canvas.getContext('2d');
        const { width, height } = c.canvas;
        const px = ctx.getImageData(0, 0, width, height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
        return { id: c.canvas.id, datasets: c.data.datasets.length, ink, width, height };
      })`);
      expect(problems).toEqual([]);
      expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
      expect(drawn.map((d) => d.id)).toEqual(['throughput', 'latency', 'share', 'scaling']);
      for (const d of drawn) {
        expect(d.width, d.id).toBeGreaterThan(100);
        expect(d.ink, d.id).toBeGreaterThan(1000);
      }
      // Shares: one dataset per worker; scaling: measured, ideal and solo-sum lines.
      expect(drawn[2]!.datasets).toBe(3);
      expect(drawn[3]!.datasets).toBe(3);
      if (!existsSync(OUT)) mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'benchmark-report.png'), fullPage: true });
      expect(existsSync(join(OUT, 'benchmark-report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('fleet report: a malformed results file exits 2 naming it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ scaling_benchmark: [{ workers: 'two' }] }));
    const r = await runFleet(['report', 'bad.json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: scaling_benchmark\[0\]\.workers: expected a number, got "two"/);
  });
});
