import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { FleetError } from '../core/errors.ts';

/** The older tool's extensions, plus PDF and .htm. */
export const DEFAULT_EXTENSIONS = ['.txt', '.md', '.py', '.js', '.html', '.css', '.json', '.pdf', '.htm'];

export interface FoundFile {
  /** Absolute path. */
  abs: string;
  /** Path shown in output: relative to the working folder when inside it, else absolute. */
  rel: string;
  /** Named on the command line (not found by walking a folder). */
  explicit: boolean;
}

function bad(message: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', message);
}

/** Normalises `--extensions` values: `txt`, `.TXT` and `.txt` are the same; commas may separate them. */
export function normaliseExtensions(list: string[]): string[] {
  const out = new Set<string>();
  for (const item of list.flatMap((s) => s.split(','))) {
    const e = item.trim().toLowerCase();
    if (e === '') continue;
    out.add(e.startsWith('.') ? e : `.${e}`);
  }
  if (out.size === 0) bad('--extensions: expected extensions such as .txt .md .pdf, got none');
  return [...out];
}

/** Every file under `dir` (hidden files and folders and node_modules are skipped), sorted. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Relative to the working folder when inside it (as the user typed it), else absolute. */
function display(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel.startsWith('..') || rel === '' ? abs : rel.split(sep).join('/');
}

const GLOB_CHARS = /[*?[]/;

/** `**` = any folders, `*` = any characters but `/`, `?` = one character. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function expandGlob(pattern: string, cwd: string): Promise<FoundFile[]> {
  const parts = pattern.split('/');
  const firstWild = parts.findIndex((p) => GLOB_CHARS.test(p));
  const baseRel = parts.slice(0, firstWild).join('/') || '.';
  const base = resolve(cwd, baseRel);
  const info = await stat(base).catch(() => undefined);
  if (!info?.isDirectory()) bad(`-i/--input: ${pattern}: folder ${baseRel} not found`);
  const re = globToRegExp(parts.slice(firstWild).join('/'));
  const files = await walk(base);
  return files
    .filter((f) => re.test(relative(base, f).split(sep).join('/')))
    .map((f) => ({ abs: f, rel: display(f, cwd), explicit: false }));
}

/**
 * Resolves `-i` values (folders walked recursively, files, or globs such as `papers/**\/*.pdf`)
 * to the documents to process, keeping files whose extension is in `extensions` (a file named
 * explicitly is kept whatever its extension). Throws FLEET_INPUT_INVALID for a missing path, an
 * empty folder, or when nothing matches, saying what was found instead.
 */
export async function discoverFiles(
  inputs: string[],
  extensions: string[],
  cwd: string,
): Promise<FoundFile[]> {
  if (inputs.length === 0) bad('-i/--input: required: a folder of documents, files, or globs');
  const found: FoundFile[] = [];
  const otherExts = new Map<string, number>();
  let total = 0;
  for (const input of inputs) {
    if (GLOB_CHARS.test(input)) {
      const files = await expandGlob(input, cwd);
      total += files.length;
      found.push(...files);
      continue;
    }
    const abs = resolve(cwd, input);
    const info = await stat(abs).catch(() => undefined);
    if (!info) bad(`-i/--input: ${input}: no such file or folder`);
    if (info.isFile()) {
      total++;
      found.push({ abs, rel: display(abs, cwd), explicit: true });
      continue;
    }
    if (!info.isDirectory()) bad(`-i/--input: ${input}: not a file or folder`);
    const files = await walk(abs);
    if (files.length === 0) bad(`-i/--input: folder ${input} is empty`);
    total += files.length;
    for (const f of files) {
      const ext = extname(f).toLowerCase();
      if (extensions.includes(ext)) {
        found.push({ abs: f, rel: display(f, cwd), explicit: false });
      } else {
        const key = ext || `(no extension: ${basename(f)})`;
        otherExts.set(key, (otherExts.get(key) ?? 0) + 1);
      }
    }
  }
  // Globs honour --extensions too: `papers/*` should not pick up a stray .DS_Store-like file.
  const kept = found.filter((f) => f.explicit || extensions.includes(extname(f.abs).toLowerCase()));
  if (kept.length === 0) {
    const others = [...otherExts.entries()].map(([e, n]) => `${e} (${n})`).join(', ');
    bad(
      `-i/--input: no files with extensions ${extensions.join(' ')} in ${inputs.join(' ')}` +
        (total > 0
          ? ` (found ${total} other file${total === 1 ? '' : 's'}${others ? `: ${others}` : ''}); pass --extensions to include them`
          : ''),
    );
  }
  // One document once, even when two inputs name it.
  const seen = new Set<string>();
  return kept.filter((f) => (seen.has(f.abs) ? false : (seen.add(f.abs), true)));
}
