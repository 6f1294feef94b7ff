import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FleetError } from '../core/errors.ts';
import { DEFAULT_EXTENSIONS, discoverFiles, normaliseExtensions } from './discover.ts';
import { extractDocument } from './extract.ts';
import type { LongDocMode } from './fit.ts';
import { Journal } from './journal.ts';
import { documentInfo, jobIdentity, type DocumentInfo } from './plan.ts';
import type { PromptSpec } from './presets.ts';
import type { ResolvedPrompt } from './template.ts';

/** Everything a batch job is asked to do (the `fleet batch` flags, resolved). */
export interface BatchOptions {
  /** Folders (walked recursively), files or globs. */
  inputs: string[];
  /** Folder relative paths are resolved against. */
  cwd: string;
  /** The results JSON. @default 'processing_results.json' */
  output?: string;
  /** The journal. @default `<output>.journal.sqlite` */
  state?: string;
  prompts: PromptSpec[];
  /** System message shared by every prompt (a preset's). */
  sharedSystem?: string;
  /** Tasks in flight at once. @default settings.max_concurrent_batch (50) */
  maxConcurrent?: number;
  /** @default DEFAULT_EXTENSIONS */
  extensions?: string[];
  /** Most document characters in one request. @default what the smallest worker context holds */
  maxChars?: number;
  model?: string;
  /** Overrides every prompt's max_tokens. @default the prompt's, else 512 */
  maxTokens?: number;
  /** Overrides every prompt's temperature. @default the prompt's, else the server's */
  temperature?: number;
  /** One Markdown report per document here. */
  outDir?: string;
  /** Results as JSON lines, written as they finish. */
  jsonl?: string;
  /** @default 'chunk' */
  longDocs?: LongDocMode;
  /** @default true */
  affinity?: boolean;
  /** Discard the journal and start over. @default false */
  fresh?: boolean;
  /** Put the full rendered prompt (document included) in `results[].prompt`. @default false */
  fullPrompts?: boolean;
}

export const DEFAULT_MAX_TOKENS = 512;

/** A job checked and ready: documents read, outputs writable, journal open. Nothing sent yet. */
export interface PreparedBatch {
  options: BatchOptions;
  output: string;
  statePath: string;
  prompts: ResolvedPrompt[];
  docs: DocumentInfo[];
  /** Binary files found while walking folders (skipped, not an error). */
  skipped: Array<{ file: string; reason: string }>;
  /** Files that could not be read or parsed (reported; the job fails at the end). */
  unreadable: Array<{ file: string; reason: string }>;
  journal: Journal;
  jobId: string;
}

function bad(message: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', message);
}

/** Throws unless `file` can be created or overwritten (checked before any request: never lose work). */
export function checkWritable(file: string, what: string): void {
  const dir = dirname(file);
  try {
    if (existsSync(file)) {
      if (statSync(file).isDirectory()) bad(`${what} ${file}: is a folder; give a file name`);
      accessSync(file, constants.W_OK);
    } else {
      if (!existsSync(dir))
        bad(`${what} ${file}: folder ${dir} does not exist; create it or choose another path`);
      accessSync(dir, constants.W_OK);
    }
  } catch (err) {
    if (err instanceof FleetError) throw err;
    bad(
      `${what} ${file}: not writable (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another path`,
    );
  }
}

export function resolvePrompts(opts: BatchOptions): ResolvedPrompt[] {
  if (opts.prompts.length === 0) bad('no prompts: pass -p/--prompt TEMPLATE (repeatable) or --preset NAME');
  return opts.prompts.map((p, index) => {
    const temperature = opts.temperature ?? p.temperature;
    return {
      index,
      name: p.name,
      template: p.template,
      ...(p.system === undefined || p.system === opts.sharedSystem ? {} : { system: p.system }),
      maxTokens: opts.maxTokens ?? p.maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(temperature === undefined ? {} : { temperature }),
    };
  });
}

/**
 * Checks every input and output and opens the journal. Throws FLEET_INPUT_INVALID (exit 2)
 * for: no prompts, missing or empty folder, no matching files, a binary file named explicitly,
 * no readable document, an unwritable output, a journal from another job.
 */
export async function prepareBatch(opts: BatchOptions): Promise<PreparedBatch> {
  const prompts = resolvePrompts(opts);
  const extensions = normaliseExtensions(opts.extensions ?? DEFAULT_EXTENSIONS);
  const files = await discoverFiles(opts.inputs, extensions, opts.cwd);

  const output = resolve(opts.cwd, opts.output ?? 'processing_results.json');
  const statePath = resolve(
    opts.cwd,
    opts.state ?? `${opts.output ?? 'processing_results.json'}.journal.sqlite`,
  );
  checkWritable(output, '-o/--output');
  checkWritable(statePath, 'journal (--state)');
  if (opts.jsonl !== undefined) checkWritable(resolve(opts.cwd, opts.jsonl), '--jsonl');
  if (opts.outDir !== undefined) {
    const dir = resolve(opts.cwd, opts.outDir);
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      bad(`--out-dir ${opts.outDir}: not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }

  const docs: DocumentInfo[] = [];
  const skipped: PreparedBatch['skipped'] = [];
  const unreadable: PreparedBatch['unreadable'] = [];
  for (const f of files) {
    const got = await extractDocument(f.abs);
    if (got.ok) docs.push(documentInfo(f.rel, f.abs, got.text, got.title));
    else if (got.binary && f.explicit)
      bad(`-i/--input: ${f.rel}: ${got.reason}; batch reads text, Markdown, HTML and PDF documents`);
    else if (got.binary) skipped.push({ file: f.rel, reason: got.reason });
    else unreadable.push({ file: f.rel, reason: got.reason });
  }
  if (docs.length === 0) {
    const why = [...skipped, ...unreadable].map((s) => `${s.file}: ${s.reason}`).join('; ');
    bad(
      `-i/--input: no readable document among ${files.length} file${files.length === 1 ? '' : 's'} (${why})`,
    );
  }

  const job = jobIdentity({
    inputs: opts.inputs,
    extensions,
    prompts,
    sharedSystem: opts.sharedSystem,
    model: opts.model,
    longDocs: opts.longDocs ?? 'chunk',
    maxChars: opts.maxChars,
  });
  const journal = Journal.open(statePath, job, { fresh: opts.fresh ?? false });
  return { options: opts, output, statePath, prompts, docs, skipped, unreadable, journal, jobId: job.id };
}
