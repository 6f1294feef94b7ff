import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, post, sim, sleep, startFleetGateway } from '../gateway/helpers.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
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
});
afterAll(async () => {
  await browser.close();
});
afterEach(closeAll);

describe('dashboard in a real browser', () => {
  it(
    'shows every worker card, and the numbers move under load; no console errors',
    { timeout: 40_000 },
    async () => {
      const { gw } = await startFleetGateway(
        [
          sim('mac-1', { fixedLatencyMs: 150, timeScale: 1 }),
          sim('mac-2', { fixedLatencyMs: 150, timeScale: 1 }),
          sim('air', { fixedLatencyMs: 300, timeScale: 1 }),
        ],
        { gateway: { eventsIntervalMs: 250, apiKeys: ['dash-key'] } },
      );
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${gw.url}/?key=dash-key`);
      await page.waitForSelector('#conn.on');
      for (const id of ['mac-1', 'mac-2', 'air']) await page.waitForSelector(`[data-worker="${id}"]`);
      expect(await page.locator('[data-worker]').count()).toBe(3);
      const doneBefore = await page.locator('#t-done').textContent();

      // Load: 6 concurrent callers for ~2.5 s.
      let stop = false;
      const caller = async () => {
        while (!stop)
          await post(
            `${gw.url}/v1/chat/completions`,
            { messages: [{ role: 'user', content: 'hi' }], stream: true },
            { authorization: 'Bearer dash-key' },
          ).then((r) => r.text());
      };
      const load = Promise.all(Array.from({ length: 6 }, caller));
      // Page functions are strings: they run in the browser, where `document` exists.
      await page.waitForFunction("Number(document.getElementById('t-rps').textContent) > 0", null, {
        timeout: 10_000,
      });
      await page.waitForFunction(
        `[...document.querySelectorAll('[data-worker] [data-field="inFlight"]')].some((e) => Number(e.textContent) > 0)`,
        null,
        { timeout: 10_000 },
      );
      await sleep(1500);
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
      stop = true;
      await load;
      await page.waitForFunction(
        `document.getElementById('t-done').textContent !== ${JSON.stringify(doneBefore)}`,
      );
      for (const id of ['mac-1', 'mac-2', 'air']) {
        const done = await page.locator(`[data-worker="${id}"] [data-field="completed"]`).textContent();
        expect(Number(done)).toBeGreaterThan(0);
        expect(await page.locator(`[data-worker="${id}"] [data-field="p95"]`).textContent()).toMatch(/ms|s$/);
      }
      expect(await page.locator('#recent tbody tr').count()).toBeGreaterThan(5);
      const row = await page.locator('#recent tbody tr').first().textContent();
      expect(row).toMatch(/\/v1\/chat\/completions \(stream\)-(mac-1|mac-2|air)\d+ ms/);
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});
