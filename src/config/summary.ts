import { SETTINGS_NAMES } from './settings.ts';
import type { FleetConfig, Settings, WorkerConfig } from './types.ts';

/** Settings measured in seconds, shown with a unit. */
const SECONDS = new Set<keyof Settings>([
  'healthCheckInterval',
  'requestTimeout',
  'connectTimeout',
  'firstTokenTimeout',
  'stallTimeout',
  'queueTimeout',
  'circuitBreakerCooldown',
]);

/**
 * The short text `fleet config check` prints: one row per worker (id, type, base URL, models,
 * cap and where the cap came from, whether a key is set - never the key), then the settings and
 * the gateway section when there is one.
 */
export function formatConfigSummary(config: FleetConfig): string {
  const { workers, settings, source } = config;
  const capacity = workers.reduce((sum, w) => sum + w.maxConcurrentRequests, 0);
  const rows = [
    ['ID', 'TYPE', 'BASE URL', 'MODELS', 'CAP', 'KEY'],
    ...workers.map((w) => [
      w.id,
      w.type === 'ollama' && w.api === 'native' ? 'ollama (native)' : w.type,
      w.baseUrl,
      w.models.join(', '),
      `${w.maxConcurrentRequests} (${w.capSource})`,
      w.apiKey === undefined ? '-' : 'set',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const table = rows.map((r) =>
    `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ')}`.trimEnd(),
  );
  const overrides = workers.flatMap((w) => timeoutOverrides(w, settings));
  const settingsFrom = source.settings === undefined ? '' : ` (overrides from ${source.settings})`;
  const keyWidth = Math.max(...Object.keys(SETTINGS_NAMES).map((k) => k.length));
  const settingLines = Object.entries(SETTINGS_NAMES).map(([key, name]) => {
    const unit = SECONDS.has(name) ? ' s' : '';
    return `  ${key.padEnd(keyWidth)}  ${settings[name]}${unit}`;
  });
  return [
    `${source.config}: OK, ${workers.length} worker${workers.length === 1 ? '' : 's'}, ${capacity} concurrent requests in total`,
    ...table,
    ...overrides,
    `settings${settingsFrom}:`,
    ...settingLines,
    ...gatewayLines(config),
    '',
  ].join('\n');
}

/** A worker's own timeouts, where they differ from the settings (so a check shows they took effect). */
function timeoutOverrides(w: WorkerConfig, settings: Settings): string[] {
  const pairs: [string, number, number][] = [
    ['connect_timeout', w.timeouts.connectMs, settings.connectTimeout],
    ['first_token_timeout', w.timeouts.firstTokenMs, settings.firstTokenTimeout],
    ['stall_timeout', w.timeouts.stallMs, settings.stallTimeout],
    ['request_timeout', w.timeouts.totalMs, settings.requestTimeout],
  ];
  const own = pairs.filter(([, ms, s]) => ms !== s * 1000).map(([key, ms]) => `${key} ${ms / 1000} s`);
  return own.length === 0 ? [] : [`  ${w.id}: ${own.join(', ')}`];
}

/** The gateway section: how many client keys (never the keys) and the CORS origins. */
function gatewayLines({ gateway }: FleetConfig): string[] {
  if (gateway === undefined) return [];
  const n = gateway.apiKeys.length;
  return [
    'gateway (fleet serve):',
    `  api keys      ${n === 0 ? 'none' : `${n} (not shown)`}`,
    `  cors origins  ${gateway.corsOrigins.length === 0 ? 'none' : gateway.corsOrigins.join(', ')}`,
  ];
}
