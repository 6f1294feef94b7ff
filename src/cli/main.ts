import { Command, CommanderError } from 'commander';
import { FleetError } from '../core/errors.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerSimCommand } from './commands/sim.ts';
import { registerTestCommand } from './commands/test.ts';
import { registerChatCommand } from './commands/chat.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerBenchmarkCommand } from './commands/benchmark.ts';
import { registerCompareCommand } from './commands/compare.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerBatchCommand } from './commands/batch.ts';
import { ExitCode, type Io, processIo } from './io.ts';

/**
 * Builds the `fleet` program. Each command lives in `commands/` and only parses flags, calls a
 * library function and prints (DESIGN.md: cli/ is thin).
 */
export function buildProgram(io: Io): Command {
  const program = new Command('fleet')
    .description('Turn several machines running local LLM servers into one fast, reliable LLM service.')
    .version(io.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
    })
    .exitOverride();
  registerConfigCommands(program, io);
  registerSimCommand(program, io);
  registerTestCommand(program, io);
  registerChatCommand(program, io);
  registerServeCommand(program, io);
  registerDemoCommand(program, io);
  registerBenchmarkCommand(program, io);
  registerCompareCommand(program, io);
  registerReportCommand(program, io);
  registerBatchCommand(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI and resolves to the process exit code. Never calls process.exit itself. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
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
