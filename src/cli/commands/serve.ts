import type { Command } from 'commander';
import { pino } from 'pino';
import { FleetError } from '../../core/errors.ts';
import { startGateway } from '../../gateway/index.ts';
import { splitList } from '../../config/parse.ts';
import type { FleetConfig } from '../../config/types.ts';
import { ExitCode, stopSignal, type Io } from '../io.ts';
import { CONFIG_FLAG, loadFleetConfig, SETTINGS_FLAG, type ConfigFlags } from '../load.ts';

interface ServeFlags extends ConfigFlags {
  host: string;
  port: string;
  apiKeyEnv: string;
  insecure?: boolean;
  corsOrigin?: string;
  maxBody: string;
  logBodies?: boolean;
  logLevel: string;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `fleet serve`: the OpenAI/Ollama-compatible gateway and the dashboard, until SIGTERM/SIGINT. */
export function registerServeCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description('serve the fleet as one OpenAI- and Ollama-compatible endpoint, with a live dashboard at /')
    .option(...CONFIG_FLAG)
    .option(...SETTINGS_FLAG)
    .option(
      '--host <host>',
      'address to listen on (anything but loopback needs an API key or --insecure)',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on (0 = any free port)', '8080')
    .option(
      '--api-key-env <name>',
      "env var holding the API key(s) clients must send, comma-separated (adds to the config's gateway.api_keys)",
      'FLEET_API_KEY',
    )
    .option('--insecure', 'allow a non-loopback --host without an API key')
    .option(
      '--cors-origin <origins>',
      "let browser pages of these origins call the API, comma-separated (e.g. http://localhost:3000, or *; adds to the config's gateway.cors_origins); off by default",
    )
    .option('--max-body <bytes>', 'largest request body, e.g. 4mb, 512kb', '4mb')
    .option('--log-bodies', 'log request bodies (prompts); off by default')
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .addHelpText(
      'after',
      '\nSIGHUP (or POST /fleet/reload) re-reads the config: added workers join, removed ones drain.\nSIGTERM drains (in-flight requests finish) and exits; Ctrl-C closes at once.',
    )
    .action(async (flags: ServeFlags) => {
      io.exitCode = await runServe(flags, io);
    });
}

function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(s.trim());
  if (!m)
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `--max-body: expected a size such as 4mb or 65536, got "${s}"`,
    );
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
}

async function runServe(flags: ServeFlags, io: Io): Promise<number> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new FleetError('FLEET_INPUT_INVALID', `--port: expected an integer 0-65535, got "${flags.port}"`);
  if (!LEVELS.includes(flags.logLevel))
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `--log-level: expected one of ${LEVELS.join(', ')}, got "${flags.logLevel}"`,
    );
  const maxBodyBytes = parseBytes(flags.maxBody);
  const config = await loadFleetConfig(flags, io);
  // The flags add to the config file's gateway section (which the gateway reads, and a reload replaces).
  const fromEnv = splitList(io.env[flags.apiKeyEnv] ?? '');
  const corsOrigins = splitList(flags.corsOrigin ?? '');
  const logger = pino({ level: flags.logLevel, base: null }, { write: (s: string) => io.out(s) });
  const gw = await startGateway({
    config,
    host: flags.host,
    port,
    apiKeys: fromEnv,
    insecure: flags.insecure === true,
    corsOrigins,
    maxBodyBytes,
    logBodies: flags.logBodies === true,
    logger,
    loadConfig: () => loadFleetConfig(flags, io),
  });
  io.err(
    `fleet gateway on ${gw.url} (dashboard: ${gw.url}/), ${config.workers.length} worker(s), ` +
      `API key ${gw.keyRequired ? `required (${keySources(config, fromEnv, flags.apiKeyEnv)})` : 'not required'}\n`,
  );
  if (gw.anyOrigin && !gw.keyRequired)
    io.err(
      'warning: --cors-origin * without an API key lets any web page open in a browser on this machine use the fleet\n',
    );

  const onHup = () => {
    gw.reload().then(
      (r) =>
        io.err(
          `reloaded: +${r.added.length} added, ${r.changed.length} changed, -${r.removed.length} removed\n`,
        ),
      (e: unknown) =>
        io.err(`reload failed, config unchanged: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  };
  process.on('SIGHUP', onHup);
  const signal = await stopSignal();
  process.off('SIGHUP', onHup);
  if (signal === 'SIGTERM') {
    io.err('SIGTERM: draining (finishing in-flight requests)...\n');
    await gw.drain();
  } else {
    await gw.close();
  }
  io.err(`gateway stopped (${signal})\n`);
  return signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Ok;
}

/** Where the accepted keys came from, for the start line (never the keys). */
function keySources(config: FleetConfig, fromEnv: string[], envName: string): string {
  const from: string[] = [];
  if (config.gateway !== undefined && config.gateway.apiKeys.length > 0)
    from.push(`${config.source.config}: gateway`);
  if (fromEnv.length > 0) from.push(`$${envName}`);
  return `from ${from.join(' and ')}`;
}
