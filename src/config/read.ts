import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import YAML from 'yaml';
import { locateJsonError, lineColumn } from './json-error.ts';
import { ConfigError, type ConfigProblem } from './problems.ts';

/**
 * Reads a JSON or YAML file into plain data, or throws a ConfigError with one problem that says
 * why not: which OS error, or where (line:column) the syntax breaks. Format by extension
 * (`.json`; `.yaml`/`.yml`); anything else is tried as JSON, then as YAML.
 */
export async function readStructuredFile(file: string, cwd?: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(cwd === undefined ? file : resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new ConfigError([readProblem(file, err)], { cause: err });
  }
  return parseStructuredText(text, file);
}

/** Parses already-read text; `file` names it in messages and picks the format. `undefined` when empty. */
export function parseStructuredText(text: string, file: string): unknown {
  // Editors on Windows save a BOM; JSON.parse rejects it.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return parseYaml(body, file);
  if (ext === '.json') return parseJson(body, file);
  try {
    return parseJson(body, file);
  } catch (jsonErr) {
    try {
      return parseYaml(body, file);
    } catch (yamlErr) {
      // Report the error of the format the text looks like.
      throw /^\s*[[{]/.test(body) ? jsonErr : yamlErr;
    }
  }
}

function parseJson(text: string, file: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    const data: unknown = JSON.parse(text);
    checkDuplicateKeys(text, file);
    return data;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const located = locateJsonError(text);
    const offset = located?.offset ?? text.length;
    const reason = located?.reason ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError([syntaxProblem(file, text, offset, `malformed JSON: ${reason}`)], { cause: err });
  }
}

/**
 * JSON.parse keeps the last of two equal keys without a word; a duplicated `port` is almost
 * always an editing slip. YAML 1.2 reads JSON, and its parser reports duplicates with a position.
 */
function checkDuplicateKeys(text: string, file: string): void {
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (dup === undefined) return;
  const offset = dup.pos[0];
  const key = /^"((?:[^"\\]|\\.)*)"/.exec(text.slice(offset))?.[1] ?? text.slice(offset, offset + 20);
  throw new ConfigError([
    syntaxProblem(file, text, offset, `duplicate key "${key}" (JSON would silently keep only the last one)`),
  ]);
}

function parseYaml(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const reason =
      first.code === 'MULTIPLE_DOCS'
        ? 'the file holds more than one YAML document (remove the extra "---")'
        : first.code === 'DUPLICATE_KEY'
          ? 'duplicate key (each key may appear once per mapping)'
          : first.message;
    throw new ConfigError([syntaxProblem(file, text, first.pos[0], `malformed YAML: ${reason}`)], {
      cause: first,
    });
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

function syntaxProblem(file: string, text: string, offset: number, reason: string): ConfigProblem {
  const { line, column } = lineColumn(text, offset);
  return {
    file,
    path: '',
    value: undefined,
    expected: 'well-formed JSON or YAML',
    message: `${file}:${line}:${column}: ${reason}`,
  };
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'it does not exist (ENOENT); check the path, or create one with `fleet init`',
  EACCES: 'permission denied (EACCES); check the file permissions (e.g. chmod u+r)',
  EPERM: 'operation not permitted (EPERM); check the file permissions',
  EISDIR: 'it is a directory (EISDIR); name a file inside it',
  ENOTDIR: 'a part of the path is not a directory (ENOTDIR)',
};

function readProblem(file: string, err: unknown): ConfigProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    (code === undefined ? undefined : READ_ERRORS[code]) ??
    (err instanceof Error ? err.message : String(err));
  return {
    file,
    path: '',
    value: undefined,
    expected: 'a readable JSON or YAML file',
    message: `${file}: cannot read the file: ${why}`,
  };
}
