import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { assertWritable, loadChartJs, readResults, renderHtmlReport } from '../../bench/index.ts';
import { ExitCode, type Io } from '../io.ts';

interface ReportFlags {
  output?: string;
  title: string;
}

/** `fleet report RESULTS.json -o report.html`: the HTML report of a results file. */
export function registerReportCommand(program: Command, io: Io): void {
  program
    .command('report')
    .description(
      'write a self-contained HTML report (charts inlined, works offline) from a benchmark results file',
    )
    .argument('<results>', 'results file of fleet benchmark')
    .option('-o, --output <file>', 'HTML file (default: the results file with .html)')
    .option('--title <text>', 'page title', 'llm-fleet benchmark')
    .action(async (file: string, flags: ReportFlags) => {
      const out = flags.output ?? file.replace(/\.json$/i, '') + '.html';
      const results = await readResults(file, io.cwd);
      await assertWritable('-o/--output', out, io.cwd);
      await writeFile(resolve(io.cwd, out), renderHtmlReport(results, await loadChartJs(), flags.title));
      io.out(`HTML report: ${out}\n`);
      io.exitCode = ExitCode.Ok;
    });
}
