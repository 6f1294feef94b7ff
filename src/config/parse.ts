import { checkGatewayEnv, crossCheckWorkers, type Env } from './checks.ts';
import { problemsFromIssues } from './issues.ts';
import { ConfigError, problem, rawProblem, type ConfigProblem } from './problems.ts';
import {
  configFileSchema,
  settingsFileSchema,
  SETTINGS_KEYS,
  wrappedSettingsFileSchema,
  type SettingsFile,
} from './schema.ts';
import { resolveSettings } from './settings.ts';
import type { FleetConfig } from './types.ts';
import { resolveWorker } from './worker.ts';

export interface ParseConfigOptions {
  /** The config file's name as the user gave it; every message starts with it. */
  file: string;
  /**
   * Contents of a separate settings file (`-s/--settings`): a bare object of settings or
   * `{ "settings": {...} }`. Its values override the config's `settings` block key by key.
   * @default undefined (no settings file)
   */
  settingsRaw?: unknown;
  /** The settings file's name, for messages. @default 'settings file' */
  settingsFile?: string;
  /**
   * Environment used to resolve `api_key_env`. Library code never reads `process.env` itself:
   * the CLI passes it. @default undefined (every api_key_env is reported as unset)
   */
  env?: Env;
}

const CONFIG_KEYS = Object.keys(configFileSchema.shape);
const WRAPPED_SETTINGS_KEYS = Object.keys(wrappedSettingsFileSchema.shape);
const SHAPE = 'an object like { "workers": [ { "id": ..., "type": ..., "model": ... } ] }';

/**
 * Validates already-parsed config data and resolves every default. Throws a ConfigError listing
 * every problem (in both files) before anything is resolved, so no request is ever sent on a
 * half-valid config.
 */
export function parseConfig(raw: unknown, opts: ParseConfigOptions): FleetConfig {
  const { file } = opts;
  const problems: ConfigProblem[] = [];
  let fileData: ReturnType<typeof configFileSchema.parse> | undefined;

  const shapeProblem = checkShape(raw, file, SHAPE, 'wrap the list: { "workers": [ ... ] }');
  if (shapeProblem !== undefined) {
    problems.push(shapeProblem);
  } else {
    const result = configFileSchema.safeParse(raw);
    if (result.success) fileData = result.data;
    else problems.push(...problemsFromIssues(result.error.issues, { raw, file, rootKeys: CONFIG_KEYS }));
    problems.push(...crossCheckWorkers((raw as Record<string, unknown>)['workers'], file, opts.env));
    problems.push(...checkGatewayEnv((raw as Record<string, unknown>)['gateway'], file, opts.env));
  }

  let override: SettingsFile | undefined;
  if (opts.settingsRaw !== undefined) {
    const parsed = parseSettingsFile(opts.settingsRaw, opts.settingsFile ?? 'settings file');
    if (Array.isArray(parsed)) problems.push(...parsed);
    else override = parsed;
  }

  if (problems.length > 0 || fileData === undefined) throw new ConfigError(sortProblems(problems, file));

  const merged: SettingsFile = { ...fileData.settings, ...override };
  const settings = resolveSettings(merged);
  const firstTokenExplicit = merged.first_token_timeout !== undefined;
  const workers = fileData.workers.map((w) => resolveWorker(w, settings, firstTokenExplicit, opts.env ?? {}));
  const source: FleetConfig['source'] = { config: file };
  if (opts.settingsRaw !== undefined) source.settings = opts.settingsFile ?? 'settings file';
  const config: FleetConfig = { workers, settings, source };
  const gw = fileData.gateway;
  if (gw !== undefined) {
    const fromEnv = gw.api_keys_env === undefined ? '' : (opts.env?.[gw.api_keys_env] ?? '');
    config.gateway = {
      apiKeys: [...(gw.api_keys ?? []), ...splitList(fromEnv)],
      corsOrigins: gw.cors_origins ?? [],
    };
  }
  return config;
}

/** A settings file's data, or its problems. */
function parseSettingsFile(raw: unknown, file: string): SettingsFile | ConfigProblem[] {
  const shapeProblem = checkShape(raw, file, 'an object of settings, e.g. { "request_timeout": 300 }');
  if (shapeProblem !== undefined) return [shapeProblem];
  const obj = raw as Record<string, unknown>;
  if ('settings' in obj) {
    const result = wrappedSettingsFileSchema.safeParse(obj);
    if (result.success) return result.data.settings;
    return problemsFromIssues(result.error.issues, { raw, file, rootKeys: WRAPPED_SETTINGS_KEYS });
  }
  // `$schema` is for editors; a bare settings object may carry it too.
  const { $schema: _ignored, ...bare } = obj;
  const result = settingsFileSchema.safeParse(bare);
  if (result.success) return result.data;
  return problemsFromIssues(result.error.issues, { raw: bare, file, rootKeys: SETTINGS_KEYS });
}

function checkShape(
  raw: unknown,
  file: string,
  expected: string,
  listNote?: string,
): ConfigProblem | undefined {
  if (raw === undefined || raw === null) {
    return rawProblem(file, [], raw, expected, `the file is empty; expected ${expected}`);
  }
  if (Array.isArray(raw)) return problem(file, [], raw, expected, listNote);
  if (typeof raw !== 'object') return problem(file, [], raw, expected);
  return undefined;
}

/** Config file before settings file; inside a file, top-level first, then workers in order, then settings. */
function sortProblems(problems: ConfigProblem[], configFile: string): ConfigProblem[] {
  const rank = (p: ConfigProblem): [number, number] => {
    const fileRank = p.file === configFile ? 0 : 1;
    const m = /^workers\[(\d+)\]/.exec(p.path);
    if (m?.[1] !== undefined) return [fileRank, 1 + Number(m[1])];
    if (p.path.startsWith('settings') || fileRank === 1) return [fileRank, Number.MAX_SAFE_INTEGER];
    return [fileRank, 0];
  };
  return problems
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.p);
}

/** A comma-separated list (keys in an environment variable), without blanks. */
export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
