import type { Env } from './checks.ts';
import { parseConfig, type ParseConfigOptions } from './parse.ts';
import { ConfigError, type ConfigProblem } from './problems.ts';
import { readStructuredFile } from './read.ts';
import type { FleetConfig } from './types.ts';

export interface LoadConfigOptions {
  /** A separate settings file (`-s/--settings`) whose values override the config's `settings` block. @default undefined */
  settingsPath?: string;
  /** Environment for `api_key_env` (the CLI passes `process.env`). @default undefined (none) */
  env?: Env;
  /** Directory relative paths are read from; messages keep the paths as given. @default the process's cwd */
  cwd?: string;
}

/**
 * Reads and validates a worker config (JSON or YAML) and an optional settings file. Throws a
 * ConfigError (code FLEET_CONFIG_INVALID) naming every problem, file by file, before anything
 * is sent anywhere.
 */
export async function loadConfig(path: string, opts: LoadConfigOptions = {}): Promise<FleetConfig> {
  const [config, settings] = await Promise.all([
    attempt(path, opts.cwd),
    opts.settingsPath === undefined ? undefined : attempt(opts.settingsPath, opts.cwd),
  ]);
  const unreadable = [...(config.problems ?? []), ...(settings?.problems ?? [])];
  if (unreadable.length > 0) throw new ConfigError(unreadable);

  const parseOpts: ParseConfigOptions = { file: path };
  if (opts.env !== undefined) parseOpts.env = opts.env;
  if (opts.settingsPath !== undefined) {
    // An empty settings file overrides nothing, which is what its author meant.
    parseOpts.settingsRaw = settings?.data ?? {};
    parseOpts.settingsFile = opts.settingsPath;
  }
  return parseConfig(config.data, parseOpts);
}

async function attempt(
  file: string,
  cwd: string | undefined,
): Promise<{ data?: unknown; problems?: ConfigProblem[] }> {
  try {
    return { data: await readStructuredFile(file, cwd) };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}
