import { Command, CommanderError } from 'commander';
import { FleetError } from '../core/errors.ts';
import { ExitCode, type Io, processIo } from './io.ts';

type Register = (program: Command, io: Io) => void;

/**
 * Each command's module, loaded on demand: `fleet serve` does not load the batch journal's SQLite,
 * the benchmark or the simulator (about 10 MB less resident memory, faster start). Keys are the
 * command names (and aliases) on the command line.
 */
const COMMANDS: Array<[names: string[], load: () => Promise<Register>]> = [
  [['config', 'init'], async () => (await import('./commands/config.ts')).registerConfigCommands],
  [['sim'], async () => (await import('./commands/sim.ts')).registerSimCommand],
  [['test'], async () => (await import('./commands/test.ts')).registerTestCommand],
  [['chat'], async () => (await import('./commands/chat.ts')).registerChatCommand],
  [['serve'], async () => (await import('./commands/serve.ts')).registerServeCommand],
  [['demo'], async () => (await import('./commands/demo.ts')).registerDemoCommand],
  [['benchmark'], async () => (await import('./commands/benchmark.ts')).registerBenchmarkCommand],
  [['compare'], async () => (await import('./commands/compare.ts')).registerCompareCommand],
  [['report'], async () => (await import('./commands/report.ts')).registerReportCommand],
  [['batch', 'process-directory'], async () => (await import('./commands/batch.ts')).registerBatchCommand],
];

/**
 * Builds the `fleet` program. Each command lives in `commands/` and only parses flags, calls a
 * library function and prints (DESIGN.md: cli/ is thin). With `command` (the first argument)
 * naming a known command, only that command is loaded; otherwise (help, typos) all of them.
 */
export async function buildProgram(io: Io, command?: string): Promise<Command> {
  const program = new Command('fleet')
    .description('Turn several machines running local LLM servers into one fast, reliable LLM service.')
    .version(io.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
    })
    .exitOverride();
  const one = COMMANDS.find(([names]) => command !== undefined && names.includes(command));
  for (const [, load] of one ? [one] : COMMANDS) (await load())(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI and resolves to the process exit code. Never calls process.exit itself. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  try {
    const program = await buildProgram(io, argv[2]);
    await program.parseAsync(argv);
    return io.exitCode ?? ExitCode.Ok;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return ExitCode.Ok;
    }
    return ExitCode.Usage;
  }
  if (err instanceof FleetError) {
    io.err(`error: ${err.message}\n`);
    return err.code === 'FLEET_CONFIG_INVALID' || err.code === 'FLEET_INPUT_INVALID'
      ? ExitCode.Usage
      : ExitCode.Failure;
  }
  io.err(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return ExitCode.Failure;
}
