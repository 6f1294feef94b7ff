import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { FleetError } from '../../core/errors.ts';
import {
  configJsonSchema,
  formatConfigSummary,
  loadConfig,
  redactConfig,
  starterConfig,
  type LoadConfigOptions,
} from '../../config/index.ts';
import type { Io } from '../io.ts';

interface CheckFlags {
  settings?: string;
  json?: boolean;
}

interface InitFlags {
  json?: boolean;
  force?: boolean;
}

/** `fleet config check|schema` and `fleet init`. */
export function registerConfigCommands(program: Command, io: Io): void {
  const config = program
    .command('config')
    .description('validate worker config files; print their JSON Schema');

  config
    .command('check')
    .description('validate a worker config (JSON or YAML) and print a summary; exit 2 listing every problem')
    .argument('<file>', 'worker config file')
    .option('-s, --settings <file>', "separate settings file; overrides the config's settings block")
    .option('--json', 'print the resolved config as JSON (api keys shown as ***)')
    .action(async (file: string, flags: CheckFlags) => {
      const opts: LoadConfigOptions = { env: io.env, cwd: io.cwd };
      if (flags.settings !== undefined) opts.settingsPath = flags.settings;
      // A ConfigError propagates: main prints `error: <every problem>` and exits 2.
      const loaded = await loadConfig(file, opts);
      io.out(flags.json ? `${JSON.stringify(redactConfig(loaded), null, 2)}\n` : formatConfigSummary(loaded));
    });

  config
    .command('schema')
    .description('print the JSON Schema of the worker config file')
    .action(() => {
      io.out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  program
    .command('init')
    .description('write a starter worker config with every field explained')
    .argument('[file]', 'where to write it (default config/workers.yaml, or config/workers.json with --json)')
    .option('--json', "write the user guide's JSON format (no comments) instead of commented YAML")
    .option('--force', 'overwrite the file if it exists')
    .action(async (file: string | undefined, flags: InitFlags) => {
      const json = flags.json === true || (file !== undefined && extname(file).toLowerCase() === '.json');
      const target = file ?? (json ? 'config/workers.json' : 'config/workers.yaml');
      const full = resolve(io.cwd, target);
      try {
        await mkdir(dirname(full), { recursive: true });
        // 'wx' refuses an existing file atomically: no check-then-write race.
        await writeFile(full, starterConfig(json ? 'json' : 'yaml'), { flag: flags.force ? 'w' : 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new FleetError(
            'FLEET_INPUT_INVALID',
            `${target} already exists; pass --force to overwrite it`,
            {
              cause: err,
            },
          );
        }
        throw new FleetError('FLEET_INPUT_INVALID', `cannot write ${target}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      io.out(`wrote ${target}\nedit it, then run: fleet config check ${target}\n`);
    });
}
