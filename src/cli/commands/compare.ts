import type { Command } from 'commander';
import {
  compareResults,
  formatComparison,
  formatComparisonMarkdown,
  readResults,
} from '../../bench/index.ts';
import { FleetError } from '../../core/errors.ts';
import { ExitCode, type Io } from '../io.ts';

interface CompareFlags {
  markdown?: boolean;
  json?: boolean;
}

/** `fleet compare A.json B.json [...]`: the guide's comparison table, req/s and speed-up per level. */
export function registerCompareCommand(program: Command, io: Io): void {
  program
    .command('compare')
    .description(
      'compare benchmark results files: req/s of each per concurrency level and worker count, speed-up over the first',
    )
    .argument('<results...>', 'two or more results files of fleet benchmark (the first is the baseline)')
    .option('--markdown', 'print Markdown tables')
    .option('--json', 'print the comparison as JSON')
    .action(async (files: string[], flags: CompareFlags) => {
      if (files.length < 2)
        throw new FleetError(
          'FLEET_INPUT_INVALID',
          `compare: give two or more results files, got ${files.length}`,
        );
      const results = [];
      for (const f of files) results.push(await readResults(f, io.cwd));
      const c = compareResults(files, results);
      if (flags.json) io.out(JSON.stringify(c, null, 2) + '\n');
      else if (flags.markdown) io.out(formatComparisonMarkdown(c));
      else io.out(formatComparison(c));
      io.exitCode = ExitCode.Ok;
    });
}
