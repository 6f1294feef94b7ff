import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config/index.ts';
import type { FleetConfig } from '../config/types.ts';
import { FleetError } from '../core/errors.ts';
import type { Io } from './io.ts';

/** Where `-c` looks when not given: the older tool's default first, then `fleet init`'s. */
export const DEFAULT_CONFIG_PATHS = ['config/workers.json', 'config/workers.yaml', 'config/workers.yml'];

export interface ConfigFlags {
  config?: string;
  settings?: string;
}

/** Loads the worker config named by `-c/--config` (and `-s/--settings`), with the process env. */
export async function loadFleetConfig(flags: ConfigFlags, io: Io): Promise<FleetConfig> {
  let path = flags.config;
  if (path === undefined) {
    path = DEFAULT_CONFIG_PATHS.find((p) => existsSync(resolve(io.cwd, p)));
    if (path === undefined) {
      throw new FleetError(
        'FLEET_CONFIG_INVALID',
        `no worker config given and none found at ${DEFAULT_CONFIG_PATHS.join(', ')}: pass -c FILE, or create one with \`fleet init\``,
      );
    }
  }
  // Paths stay as the user typed them so messages read `config/my_workers.json: workers[2].port: ...`.
  return loadConfig(path, {
    ...(flags.settings === undefined ? {} : { settingsPath: flags.settings }),
    env: io.env,
    cwd: io.cwd,
  });
}

/** `-c/--config` and `-s/--settings` as every command that reads a config declares them. */
export const CONFIG_FLAG = [
  '-c, --config <file>',
  `worker config, JSON or YAML (default: ${DEFAULT_CONFIG_PATHS[0]})`,
] as const;
export const SETTINGS_FLAG = [
  '-s, --settings <file>',
  "separate settings file (overrides the config's settings block)",
] as const;
