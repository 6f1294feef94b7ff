import { readFileSync } from 'node:fs';

/**
 * The live dashboard: static files (HTML, CSS, ES modules) read once from `assets/`. This module
 * knows no HTTP framework and no fleet: whoever mounts it (the gateway) serves `/` and
 * `/dashboard/<file>` and provides `/fleet/events`, the SSE stream the page draws from.
 */

export interface DashboardAsset {
  contentType: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

/** Every file of the dashboard, by name. */
export const DASHBOARD_FILES = [
  'index.html',
  'style.css',
  'app.js',
  'cards.js',
  'chart.js',
  'recent.js',
  'format.js',
];

let cache: Map<string, DashboardAsset> | undefined;

function load(): Map<string, DashboardAsset> {
  const m = new Map<string, DashboardAsset>();
  for (const name of DASHBOARD_FILES) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    m.set(name, {
      contentType: TYPES[ext] ?? 'application/octet-stream',
      body: readFileSync(new URL(`./assets/${name}`, import.meta.url)),
    });
  }
  return m;
}

/** The asset named `name` (`index.html`, `app.js`, ...), or undefined for anything else. */
export function dashboardAsset(name: string): DashboardAsset | undefined {
  cache ??= load();
  return cache.get(name);
}
