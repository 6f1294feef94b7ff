import { problem, type ConfigProblem } from './problems.ts';
import { WORKER_TYPES } from './types.ts';
import { addressFromBaseUrl, checkBaseUrl, isValidHost, sameHost } from './url.ts';

/** Environment variables, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

/**
 * Rules that span fields or workers, which zod's per-field schema cannot state. They read the
 * raw data and look only at fields of the right type, so they report alongside (never instead
 * of) the per-field problems: one run shows every mistake.
 */
export function crossCheckWorkers(rawWorkers: unknown, file: string, env: Env | undefined): ConfigProblem[] {
  if (!Array.isArray(rawWorkers)) return [];
  const out: ConfigProblem[] = [];
  const firstIndexOfId = new Map<string, number>();
  rawWorkers.forEach((w: unknown, i) => {
    if (w === null || typeof w !== 'object' || Array.isArray(w)) return;
    const worker = w as Record<string, unknown>;
    const at = (key: string) => ['workers', i, key];

    const id = worker['id'];
    if (typeof id === 'string') {
      const first = firstIndexOfId.get(id);
      if (first === undefined) firstIndexOfId.set(id, i);
      else out.push(problem(file, at('id'), id, 'a unique id', `workers[${first}] has the same id`));
    }

    if (worker['model'] === undefined && worker['models'] === undefined) {
      out.push(
        problem(file, at('model'), undefined, 'a model name, or a "models" list (one of them is required)'),
      );
    }

    out.push(...checkAddress(worker, file, i));

    const type = worker['type'];
    const api = worker['api'];
    if (api !== undefined && typeof type === 'string' && isWorkerType(type) && type !== 'ollama') {
      out.push(
        problem(file, at('api'), api, 'no "api" field for this type', `"api" applies to type ollama only`),
      );
    }

    const keyEnv = worker['api_key_env'];
    if (keyEnv !== undefined && worker['api_key'] !== undefined) {
      out.push(problem(file, at('api_key_env'), keyEnv, 'either api_key or api_key_env, not both'));
    } else {
      const unset = unsetEnv(file, at('api_key_env'), keyEnv, env);
      if (unset !== undefined) out.push(unset);
    }
  });
  return out;
}

/** The gateway section's `api_keys_env` must name a set variable (as a worker's `api_key_env`). */
export function checkGatewayEnv(rawGateway: unknown, file: string, env: Env | undefined): ConfigProblem[] {
  if (rawGateway === null || typeof rawGateway !== 'object' || Array.isArray(rawGateway)) return [];
  const keyEnv = (rawGateway as Record<string, unknown>)['api_keys_env'];
  const unset = unsetEnv(file, ['gateway', 'api_keys_env'], keyEnv, env);
  return unset === undefined ? [] : [unset];
}

/**
 * The problem with a well-formed variable name whose variable is not set or empty; undefined when
 * it is set, or when the name is malformed (the schema reports that).
 */
function unsetEnv(
  file: string,
  path: Array<string | number>,
  name: unknown,
  env: Env | undefined,
): ConfigProblem | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  const value = env?.[name];
  if (value !== undefined && value.trim() !== '') return undefined;
  const why =
    env === undefined
      ? 'no environment was passed to the config loader'
      : `environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`;
  return problem(file, path, name, 'the name of a set environment variable', why);
}

/**
 * base_url and host/port together: accepted only when they agree, because a mismatch means one
 * of them is stale and guessing which would send traffic to the wrong machine.
 */
function checkAddress(worker: Record<string, unknown>, file: string, i: number): ConfigProblem[] {
  const baseUrl = worker['base_url'];
  if (typeof baseUrl !== 'string' || checkBaseUrl(baseUrl) !== undefined) return [];
  const addr = addressFromBaseUrl(baseUrl);
  const out: ConfigProblem[] = [];
  const host = worker['host'];
  if (typeof host === 'string' && isValidHost(host) && !sameHost(host, addr.host)) {
    const expected = `the host of base_url ("${addr.host}") or no host at all`;
    out.push(problem(file, ['workers', i, 'host'], host, expected, 'base_url and host disagree'));
  }
  const port = worker['port'];
  if (typeof port === 'number' && Number.isInteger(port) && port !== addr.port) {
    const expected = `the port of base_url (${addr.port}) or no port at all`;
    out.push(problem(file, ['workers', i, 'port'], port, expected, 'base_url and port disagree'));
  }
  return out;
}

function isWorkerType(s: string): s is (typeof WORKER_TYPES)[number] {
  return (WORKER_TYPES as readonly string[]).includes(s);
}
