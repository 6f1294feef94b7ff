/** Worker configuration: the file format, its validation and the resolved config every layer reads. */
export { loadConfig, type LoadConfigOptions } from './load.ts';
export { parseConfig, type ParseConfigOptions } from './parse.ts';
export { ConfigError, type ConfigProblem } from './problems.ts';
export type { Env } from './checks.ts';
export { configJsonSchema } from './json-schema.ts';
export { redactConfig, REDACTED } from './redact.ts';
export { starterConfig } from './starter.ts';
export { formatConfigSummary } from './summary.ts';
export { defaultSettings } from './settings.ts';
export { readStructuredFile, parseStructuredText } from './read.ts';
export type { ConfigFile, SettingsFile, WorkerFile } from './schema.ts';
export * from './types.ts';
