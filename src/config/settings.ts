import type { SettingsFile } from './schema.ts';
import type { Settings } from './types.ts';

/** Each file key (snake_case, as the older tool's settings file) and its resolved name. */
export const SETTINGS_NAMES = {
  health_check_interval: 'healthCheckInterval',
  request_timeout: 'requestTimeout',
  connect_timeout: 'connectTimeout',
  first_token_timeout: 'firstTokenTimeout',
  stall_timeout: 'stallTimeout',
  max_retries: 'maxRetries',
  max_queue_size: 'maxQueueSize',
  queue_timeout: 'queueTimeout',
  circuit_breaker_threshold: 'circuitBreakerThreshold',
  circuit_breaker_cooldown: 'circuitBreakerCooldown',
  max_concurrent_batch: 'maxConcurrentBatch',
  connection_pool_size: 'connectionPoolSize',
} as const satisfies Record<keyof SettingsFile, keyof Settings>;

/** Every setting at its default (the older tool's values where it had the setting). */
export function defaultSettings(): Settings {
  return {
    healthCheckInterval: 30,
    requestTimeout: 300,
    connectTimeout: 10,
    firstTokenTimeout: 300,
    stallTimeout: 60,
    maxRetries: 3,
    maxQueueSize: 10_000,
    queueTimeout: 300,
    circuitBreakerThreshold: 3,
    circuitBreakerCooldown: 10,
    maxConcurrentBatch: 50,
    connectionPoolSize: 100,
  };
}

/** Applies validated file settings over the defaults. `first_token_timeout` follows `request_timeout` unless set. */
export function resolveSettings(file: SettingsFile): Settings {
  const s = defaultSettings();
  for (const [key, name] of Object.entries(SETTINGS_NAMES) as [keyof SettingsFile, keyof Settings][]) {
    const v = file[key];
    if (v !== undefined) s[name] = v;
  }
  if (file.first_token_timeout === undefined) s.firstTokenTimeout = s.requestTimeout;
  return s;
}
