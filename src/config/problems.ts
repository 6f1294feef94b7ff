import { FleetError } from '../core/errors.ts';

/**
 * One thing wrong with a config file. Every invalid config yields one problem per mistake, so a
 * user fixes them all in one pass instead of one per run (p-queue style messages: file, path,
 * value, expectation).
 */
export interface ConfigProblem {
  /** The file as the user named it (`config/my_workers.json`). */
  file: string;
  /** JSON path inside the file (`workers[2].port`); `''` for the file as a whole. */
  path: string;
  /** The offending value (`undefined` when missing; `'***'` for secrets). */
  value: unknown;
  /** What would have been accepted, in words. */
  expected: string;
  /** The whole line shown to the user. */
  message: string;
}

/** Thrown by `loadConfig` / `parseConfig`: every problem, one per line of the message. */
export class ConfigError extends FleetError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    super('FLEET_CONFIG_INVALID', formatProblems(problems), options);
    this.problems = problems;
  }
}

function formatProblems(problems: ConfigProblem[]): string {
  if (problems.length === 1 && problems[0] !== undefined) return problems[0].message;
  return [
    `invalid configuration, ${problems.length} problems:`,
    ...problems.map((p) => `  ${p.message}`),
  ].join('\n');
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `['workers', 2, 'port']` -> `workers[2].port`; odd keys are quoted: `settings["my key"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Keys whose values are secrets: never echoed back, not even in an error. */
const SECRET_KEYS = new Set(['api_key', 'api_keys']);

/** A secret's path, or a path inside one (`gateway.api_keys[0]`). */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  return path.some((p) => typeof p === 'string' && SECRET_KEYS.has(p));
}

const MAX_SHOWN = 60;

/** How a bad value is quoted back: strings JSON-quoted, containers abbreviated, a type hint when it helps. */
export function describeValue(value: unknown, secret = false, wantsNumber = false): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (secret) return `a ${typeName(value)} (value hidden)`;
  if (typeof value === 'string') {
    const shown = JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}...` : value);
    // "8080" in quotes is the most common YAML/JSON slip: say why it is not a number.
    if (wantsNumber && value.trim() !== '' && Number.isFinite(Number(value))) {
      return `${shown} (a string: remove the quotes)`;
    }
    return shown;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value))
    return value.length === 0
      ? 'an empty list'
      : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > MAX_SHOWN ? `an object ${json.slice(0, MAX_SHOWN)}...` : `an object ${json}`;
  }
  return typeName(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

/** Builds a problem whose message reads `file: path: expected X, got Y`. */
export function problem(
  file: string,
  path: readonly PathSegment[],
  value: unknown,
  expected: string,
  note?: string,
): ConfigProblem {
  const secret = isSecretPath(path);
  const where = path.length === 0 ? file : `${file}: ${formatPath(path)}`;
  const tail = note === undefined ? '' : ` (${note})`;
  return {
    file,
    path: formatPath(path),
    value: secret && value !== undefined ? '***' : value,
    expected,
    message: `${where}: expected ${expected}, got ${describeValue(value, secret, /\b(integer|number)\b/.test(expected))}${tail}`,
  };
}

/** A problem that is not "wrong value" shaped (unreadable file, unknown key): the message is given whole. */
export function rawProblem(
  file: string,
  path: readonly PathSegment[],
  value: unknown,
  expected: string,
  text: string,
): ConfigProblem {
  const where = path.length === 0 ? file : `${file}: ${formatPath(path)}`;
  return { file, path: formatPath(path), value, expected, message: `${where}: ${text}` };
}
