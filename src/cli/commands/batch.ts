import type { Command } from 'commander';
import {
  DEFAULT_EXTENSIONS,
  findPreset,
  loadPresetsFile,
  prepareBatch,
  progressLine,
  promptsFromTemplates,
  runBatch,
  type BatchOptions,
  type BatchProgress,
  type Preset,
  type PromptSpec,
} from '../../batch/index.ts';
import { FleetError } from '../../core/errors.ts';
import { createFleet } from '../../fleet/index.ts';
import { ExitCode, type Io } from '../io.ts';
import { CONFIG_FLAG, loadFleetConfig, SETTINGS_FLAG, type ConfigFlags } from '../load.ts';

interface BatchFlags extends ConfigFlags {
  input?: string[];
  output: string;
  prompt?: string[];
  preset?: string;
  presetsFile?: string;
  maxConcurrent?: string;
  extensions?: string[];
  maxChars?: string;
  model?: string;
  maxTokens?: string;
  temperature?: string;
  outDir?: string;
  jsonl?: string;
  state?: string;
  fresh?: boolean;
  affinity: boolean;
  longDocs: string;
  fullPrompts?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `fleet batch` (alias `process-directory`): the older tool's process_directory, resumable. */
export function registerBatchCommand(program: Command, io: Io): void {
  program
    .command('batch')
    .alias('process-directory')
    .description('run prompts over every document in a folder through the fleet; resumable (docs/batch.md)')
    .option('-i, --input <paths...>', 'folders (recursive), files or globs to process')
    .option('-o, --output <file>', 'results JSON', 'processing_results.json')
    .option(...CONFIG_FLAG)
    .option(...SETTINGS_FLAG)
    .option(
      '-p, --prompt <template>',
      'prompt template, repeatable: {filename} {content} {path} {title}',
      collect,
    )
    .option(
      '--preset <name>',
      'built-in prompt set: research, summary, analysis, review (or one from --presets-file)',
    )
    .option('--presets-file <file>', 'YAML/JSON presets: system prompt, max tokens, temperature per prompt')
    .option(
      '--max-concurrent <n>',
      'most tasks in flight at once (default: settings.max_concurrent_batch, 50)',
    )
    .option(
      '--extensions <exts...>',
      `file extensions to take from folders (default: ${DEFAULT_EXTENSIONS.join(' ')})`,
    )
    .option(
      '--max-chars <n>',
      'most document characters per request (default: what the smallest worker context holds)',
    )
    .option('-m, --model <name>', "model to use (default: each worker's own)")
    .option('--max-tokens <n>', "max tokens per answer, for every prompt (default: the prompt's, else 512)")
    .option(
      '--temperature <t>',
      "sampling temperature for every prompt (default: the prompt's, else the server's)",
    )
    .option('--out-dir <dir>', 'also write one Markdown report per document here')
    .option('--jsonl <file>', 'also stream results to this file as JSON lines as they finish')
    .option('--state <file>', 'journal file (default: <output>.journal.sqlite)')
    .option('--fresh', 'discard the journal and start over')
    .option('--no-affinity', 'do not keep the prompts of a document on one worker (for comparison)')
    .option(
      '--long-docs <mode>',
      'documents longer than a request holds: chunk (map, then combine) or truncate',
      'chunk',
    )
    .option('--full-prompts', 'put the whole rendered prompt, document included, in results[].prompt')
    .action(async (flags: BatchFlags) => {
      io.exitCode = await runBatchCommand(flags, io);
    });
}

function bad(message: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', message);
}

function intFlag(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min)
    bad(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

async function resolvePromptFlags(
  flags: BatchFlags,
  io: Io,
): Promise<{ prompts: PromptSpec[]; preset?: Preset }> {
  const user = flags.presetsFile === undefined ? {} : await loadPresetsFile(flags.presetsFile, io.cwd);
  const preset = flags.preset === undefined ? undefined : findPreset(flags.preset, user);
  const prompts = [...(preset?.prompts ?? []), ...promptsFromTemplates(flags.prompt ?? [])].map((p) => ({
    ...p,
    ...(p.maxTokens === undefined && preset?.maxTokens !== undefined ? { maxTokens: preset.maxTokens } : {}),
    ...(p.temperature === undefined && preset?.temperature !== undefined
      ? { temperature: preset.temperature }
      : {}),
  }));
  if (prompts.length === 0) {
    const hint =
      flags.presetsFile === undefined
        ? ''
        : ` (${flags.presetsFile} defines: ${Object.keys(user).join(', ')})`;
    bad(
      `no prompts: pass -p/--prompt TEMPLATE (repeatable) or --preset research|summary|analysis|review${hint}`,
    );
  }
  return preset ? { prompts, preset } : { prompts };
}

async function runBatchCommand(flags: BatchFlags, io: Io): Promise<number> {
  if (flags.input === undefined || flags.input.length === 0)
    bad('-i/--input: required: a folder of documents, files, or globs');
  if (flags.longDocs !== 'chunk' && flags.longDocs !== 'truncate')
    bad(`--long-docs: expected chunk or truncate, got ${JSON.stringify(flags.longDocs)}`);
  const temperature = flags.temperature === undefined ? undefined : Number(flags.temperature);
  if (temperature !== undefined && (!Number.isFinite(temperature) || temperature < 0 || temperature > 2))
    bad(`--temperature: expected a number from 0 to 2, got ${JSON.stringify(flags.temperature)}`);
  const maxConcurrent = intFlag('max-concurrent', flags.maxConcurrent, 1);
  const maxChars = intFlag('max-chars', flags.maxChars, 100);
  const maxTokens = intFlag('max-tokens', flags.maxTokens, 1);
  const { prompts, preset } = await resolvePromptFlags(flags, io);
  const config = await loadFleetConfig(flags, io);

  const options: BatchOptions = {
    inputs: flags.input,
    cwd: io.cwd,
    output: flags.output,
    prompts,
    longDocs: flags.longDocs,
    affinity: flags.affinity,
    fresh: flags.fresh ?? false,
    fullPrompts: flags.fullPrompts ?? false,
    ...(preset?.system === undefined ? {} : { sharedSystem: preset.system }),
    ...(flags.state === undefined ? {} : { state: flags.state }),
    ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
    ...(flags.extensions === undefined ? {} : { extensions: flags.extensions }),
    ...(maxChars === undefined ? {} : { maxChars }),
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(flags.outDir === undefined ? {} : { outDir: flags.outDir }),
    ...(flags.jsonl === undefined ? {} : { jsonl: flags.jsonl }),
  };
  const prep = await prepareBatch(options);
  for (const s of prep.skipped) io.err(`skipped ${s.file}: ${s.reason}\n`);
  for (const s of prep.unreadable) io.err(`cannot process ${s.file}: ${s.reason} (the other files go on)\n`);

  const fleet = createFleet(config);
  const ac = new AbortController();
  const onSigint = () => ac.abort(new Error('SIGINT'));
  process.once('SIGINT', onSigint);
  const progress = progressPrinter(io);
  try {
    const result = await runBatch(prep, fleet, {
      signal: ac.signal,
      defaultMaxConcurrent: config.settings.maxConcurrentBatch,
      onStart: (info) => {
        io.out(
          `Processing ${prep.docs.length} files x ${prompts.length} prompts = ${info.total} tasks` +
            ` on ${fleet.workers.length} worker${fleet.workers.length === 1 ? '' : 's'}` +
            (info.resumed > 0
              ? ` (${info.resumed} already done, from ${prep.statePath}; ${info.pending} to run)`
              : '') +
            '\n',
        );
        if (info.contextSource === 'assumed')
          io.err(
            `note: no worker reports its context length; assuming ${info.contextTokens} tokens (set context_length in the config)\n`,
          );
        for (const n of info.notices) io.err(`notice: ${n.file}: ${n.notice}\n`);
      },
      onTask: (_r, p) => progress(p),
    });
    progress.end();
    io.out(result.text);
    if (result.interrupted) {
      io.err(
        `Interrupted: ${result.records.length} finished tasks are saved in ${prep.statePath}.\n` +
          `Run the same command again to resume (finished tasks are not sent again).\n`,
      );
      return ExitCode.Interrupted;
    }
    return result.ok ? ExitCode.Ok : ExitCode.Failure;
  } finally {
    process.removeListener('SIGINT', onSigint);
    prep.journal.close();
    await fleet.close();
  }
}

/** A live bar on a terminal; the older tool's plain line (every 10 % or 5 s) otherwise. */
function progressPrinter(io: Io): ((p: BatchProgress) => void) & { end: () => void } {
  let lastStep = -1;
  let lastAt = 0;
  let drawn = false;
  const fn = (p: BatchProgress) => {
    if (io.isTTY) {
      const width = 24;
      const filled = Math.round((p.done / Math.max(1, p.total)) * width);
      const rate = p.elapsedS > 0 ? (p.ran / p.elapsedS) * 60 : 0;
      const eta = rate > 0 ? ((p.total - p.done) / rate) * 60 : 0;
      const workers = Object.entries(p.perWorker)
        .map(([w, n]) => `${w} ${n}`)
        .join(' ');
      io.out(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} | ${rate.toFixed(1)} tasks/min | ETA ${eta.toFixed(0)}s | failed ${p.failed} | ${workers}\x1b[K`,
      );
      drawn = true;
      return;
    }
    const step = Math.floor((p.done / Math.max(1, p.total)) * 10);
    if (step !== lastStep || p.elapsedS - lastAt >= 5 || p.done === p.total) {
      lastStep = step;
      lastAt = p.elapsedS;
      io.out(progressLine(p.done, p.total, p.elapsedS, p.ran) + '\n');
    }
  };
  fn.end = () => {
    if (drawn) io.out('\n');
  };
  return fn;
}
