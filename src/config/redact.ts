import type { FleetConfig } from './types.ts';

export const REDACTED = '***';

/** A deep copy of the config, safe to print: every api key is replaced by `"***"`. */
export function redactConfig(config: FleetConfig): unknown {
  const copy = structuredClone(config);
  for (const w of copy.workers) if (w.apiKey !== undefined) w.apiKey = REDACTED;
  if (copy.gateway !== undefined) copy.gateway.apiKeys = copy.gateway.apiKeys.map(() => REDACTED);
  return copy;
}
