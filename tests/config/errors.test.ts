import { describe, expect, it } from 'vitest';
import { FleetError } from '../../src/core/errors.ts';
import { ConfigError, parseConfig, type Env } from '../../src/config/index.ts';
import { messagesOf, problemsOf } from './helpers.ts';

const FILE = 'config/my_workers.json';
const ok = {
  id: 'mac-studio-1',
  host: '192.168.1.105',
  port: 1234,
  type: 'lm_studio',
  model: 'mistral',
  max_concurrent_requests: 5,
};

/** A config of the given workers, parsed as `config/my_workers.json`. */
function parse(workers: unknown[], extra: Record<string, unknown> = {}, env?: Env) {
  return parseConfig({ workers, ...extra }, env === undefined ? { file: FILE } : { file: FILE, env });
}

const TYPES = 'lm_studio, ollama, llama_cpp, vllm, mlx, exo, openai';

describe('one message per problem: file, JSON path, value, expectation', () => {
  it('port that is not an integer (the p-queue style example)', () => {
    expect(messagesOf(() => parse([ok, { ...ok, id: 'w2' }, { ...ok, id: 'w3', port: '12a4' }]))).toEqual([
      'config/my_workers.json: workers[2].port: expected an integer 1-65535, got "12a4"',
    ]);
  });

  it.each([
    [70000, 'got 70000'],
    [0, 'got 0'],
    [-1, 'got -1'],
    [80.5, 'got 80.5'],
    ['1234', 'got "1234" (a string: remove the quotes)'],
    [null, 'got null'],
  ])('port %j is out of range or not an integer', (port, got) => {
    expect(messagesOf(() => parse([{ ...ok, port }]))).toEqual([
      `config/my_workers.json: workers[0].port: expected an integer 1-65535, ${got}`,
    ]);
  });

  it('unknown type lists the valid ones and suggests the nearest', () => {
    expect(
      messagesOf(() =>
        parse([
          { ...ok, type: 'lmstudio' },
          { ...ok, id: 'b', type: 'llama.cpp' },
          { ...ok, id: 'c', type: 'tgi' },
        ]),
      ),
    ).toEqual([
      `config/my_workers.json: workers[0].type: expected one of ${TYPES}, got "lmstudio" (did you mean "lm_studio"?)`,
      `config/my_workers.json: workers[1].type: expected one of ${TYPES}, got "llama.cpp" (did you mean "llama_cpp"?)`,
      `config/my_workers.json: workers[2].type: expected one of ${TYPES}, got "tgi"`,
    ]);
  });

  it('missing type', () => {
    const { type: _t, ...noType } = ok;
    expect(messagesOf(() => parse([noType]))).toEqual([
      `config/my_workers.json: workers[0].type: expected one of ${TYPES}, got nothing (the field is missing)`,
    ]);
  });

  it('duplicate ids name both indexes', () => {
    expect(messagesOf(() => parse([ok, { ...ok, id: 'other' }, { ...ok }]))).toEqual([
      'config/my_workers.json: workers[2].id: expected a unique id, got "mac-studio-1" (workers[0] has the same id)',
    ]);
  });

  it('missing id, empty id, id with stray spaces', () => {
    const { id: _id, ...noId } = ok;
    const expected = 'a non-empty name without leading or trailing spaces, e.g. "mac-studio-1"';
    expect(
      messagesOf(() => parse([noId, { ...ok, id: '' }, { ...ok, id: ' w3' }, { ...ok, id: 4 }])),
    ).toEqual([
      `config/my_workers.json: workers[0].id: expected ${expected}, got nothing (the field is missing)`,
      `config/my_workers.json: workers[1].id: expected ${expected}, got ""`,
      `config/my_workers.json: workers[2].id: expected ${expected}, got " w3"`,
      `config/my_workers.json: workers[3].id: expected ${expected}, got 4`,
    ]);
  });

  it('missing model (neither model nor models)', () => {
    const { model: _m, ...noModel } = ok;
    expect(messagesOf(() => parse([noModel]))).toEqual([
      'config/my_workers.json: workers[0].model: expected a model name, or a "models" list (one of them is required), got nothing (the field is missing)',
    ]);
  });

  it('empty model name and empty models list', () => {
    expect(
      messagesOf(() =>
        parse([
          { ...ok, model: '' },
          { ...ok, id: 'b', model: undefined, models: [] },
        ]),
      ),
    ).toEqual([
      'config/my_workers.json: workers[0].model: expected a non-empty model name, e.g. "mistral-7b-instruct-v0.2", got ""',
      'config/my_workers.json: workers[1].models: expected a non-empty list of model names, got an empty list',
    ]);
  });

  it('empty workers list', () => {
    expect(messagesOf(() => parse([]))).toEqual([
      'config/my_workers.json: workers: expected at least one worker, got an empty list',
    ]);
  });

  it('workers that is not a list, and a worker that is not an object', () => {
    expect(messagesOf(() => parseConfig({ workers: { a: ok } }, { file: FILE }))).toEqual([
      'config/my_workers.json: workers: expected a list of workers: [ { "id": ..., "type": ..., "model": ... }, ... ], got an object {"a":{"id":"mac-studio-1","host":"192.168.1.105","port":1234...',
    ]);
    expect(messagesOf(() => parse(['mac-studio-1']))).toEqual([
      'config/my_workers.json: workers[0]: expected a worker object such as { "id": "w1", "type": "lm_studio", "model": "..." }, got "mac-studio-1"',
    ]);
  });

  it('non-positive or fractional max_concurrent_requests', () => {
    expect(
      messagesOf(() =>
        parse([
          { ...ok, max_concurrent_requests: 0 },
          { ...ok, id: 'b', max_concurrent_requests: -3 },
          { ...ok, id: 'c', max_concurrent_requests: 2.5 },
        ]),
      ),
    ).toEqual([
      'config/my_workers.json: workers[0].max_concurrent_requests: expected an integer of 1 or more, got 0',
      'config/my_workers.json: workers[1].max_concurrent_requests: expected an integer of 1 or more, got -3',
      'config/my_workers.json: workers[2].max_concurrent_requests: expected an integer of 1 or more, got 2.5',
    ]);
  });

  it('bad base_url says why', () => {
    const base = { id: 'g', type: 'vllm', model: 'm' };
    const expected =
      'an http:// or https:// URL such as "http://192.168.1.105:1234" (no query, fragment or user:password)';
    expect(
      messagesOf(() =>
        parse([
          { ...base, id: 'a', base_url: '192.168.1.5:8000' },
          { ...base, id: 'b', base_url: 'ftp://gpu.lan/' },
          { ...base, id: 'c', base_url: 'http://user:pw@gpu.lan:8000' },
          { ...base, id: 'd', base_url: 'http://gpu.lan:8000/v1?x=1' },
          { ...base, id: 'e', base_url: 'not a url' },
          { ...base, id: 'f', base_url: 'http://exa mple.com' },
        ]),
      ),
    ).toEqual([
      `config/my_workers.json: workers[0].base_url: expected ${expected}, got "192.168.1.5:8000" (no scheme: start it with http:// or https://)`,
      `config/my_workers.json: workers[1].base_url: expected ${expected}, got "ftp://gpu.lan/" (scheme must be http or https)`,
      `config/my_workers.json: workers[2].base_url: expected ${expected}, got "http://user:pw@gpu.lan:8000" (credentials belong in api_key, not the URL)`,
      `config/my_workers.json: workers[3].base_url: expected ${expected}, got "http://gpu.lan:8000/v1?x=1" (no query or fragment allowed)`,
      `config/my_workers.json: workers[4].base_url: expected ${expected}, got "not a url" (no scheme: start it with http:// or https://)`,
      `config/my_workers.json: workers[5].base_url: expected ${expected}, got "http://exa mple.com" (not a URL)`,
    ]);
  });

  it('base_url with a host or port that disagrees with it', () => {
    const w = { id: 'g', type: 'vllm', model: 'm', base_url: 'http://10.0.0.5:8000/v1' };
    expect(messagesOf(() => parse([{ ...w, host: '10.0.0.6', port: 8001 }]))).toEqual([
      'config/my_workers.json: workers[0].host: expected the host of base_url ("10.0.0.5") or no host at all, got "10.0.0.6" (base_url and host disagree)',
      'config/my_workers.json: workers[0].port: expected the port of base_url (8000) or no port at all, got 8001 (base_url and port disagree)',
    ]);
    // When they agree, both are accepted (a file converted from host/port keeps working).
    expect(parse([{ ...w, host: '10.0.0.5', port: 8000 }]).workers[0]?.baseUrl).toBe('http://10.0.0.5:8000');
  });

  it('host given as a URL or with a port', () => {
    const expected =
      'a host name or IP address without scheme, port or path, e.g. "192.168.1.105" (put URLs in base_url)';
    expect(
      messagesOf(() =>
        parse([
          { ...ok, host: 'http://192.168.1.105' },
          { ...ok, id: 'b', host: '192.168.1.105:1234' },
        ]),
      ),
    ).toEqual([
      `config/my_workers.json: workers[0].host: expected ${expected}, got "http://192.168.1.105"`,
      `config/my_workers.json: workers[1].host: expected ${expected}, got "192.168.1.105:1234"`,
    ]);
  });

  it('api_key_env naming an unset or empty variable', () => {
    const w = { ...ok, api_key_env: 'STUDIO_KEY' };
    expect(messagesOf(() => parse([w], {}, { OTHER: 'x' }))).toEqual([
      'config/my_workers.json: workers[0].api_key_env: expected the name of a set environment variable, got "STUDIO_KEY" (environment variable STUDIO_KEY is not set)',
    ]);
    expect(messagesOf(() => parse([w], {}, { STUDIO_KEY: '' }))).toEqual([
      'config/my_workers.json: workers[0].api_key_env: expected the name of a set environment variable, got "STUDIO_KEY" (environment variable STUDIO_KEY is empty)',
    ]);
    expect(messagesOf(() => parse([w]))).toEqual([
      'config/my_workers.json: workers[0].api_key_env: expected the name of a set environment variable, got "STUDIO_KEY" (no environment was passed to the config loader)',
    ]);
    expect(
      messagesOf(() =>
        parse(
          [
            { ...ok, api_key_env: 'my-key' },
            { ...ok, id: 'b', api_key_env: '123' },
          ],
          {},
          {},
        ),
      ),
    ).toEqual([
      'config/my_workers.json: workers[0].api_key_env: expected the name of an environment variable (letters, digits, underscores), e.g. "FLEET_API_KEY", got "my-key"',
      // No "remove the quotes" hint where a string is what is wanted.
      'config/my_workers.json: workers[1].api_key_env: expected the name of an environment variable (letters, digits, underscores), e.g. "FLEET_API_KEY", got "123"',
    ]);
  });

  it('api_key and api_key_env together; api on a type other than ollama', () => {
    expect(
      messagesOf(() => parse([{ ...ok, api_key: 'sk-1', api_key_env: 'K', api: 'native' }], {}, { K: 'v' })),
    ).toEqual([
      'config/my_workers.json: workers[0].api: expected no "api" field for this type, got "native" ("api" applies to type ollama only)',
      'config/my_workers.json: workers[0].api_key_env: expected either api_key or api_key_env, not both, got "K"',
    ]);
    expect(messagesOf(() => parse([{ ...ok, type: 'ollama', api: 'grpc' }]))).toEqual([
      'config/my_workers.json: workers[0].api: expected one of openai, native, got "grpc"',
    ]);
  });

  it('a bad api_key is never quoted back', () => {
    const problems = problemsOf(() =>
      parse([
        { ...ok, api_key: 123456789 },
        { ...ok, id: 'b', api_key: '' },
      ]),
    );
    expect(problems.map((p) => p.message)).toEqual([
      'config/my_workers.json: workers[0].api_key: expected a non-empty string, got a number (value hidden)',
      'config/my_workers.json: workers[1].api_key: expected a non-empty string, got a string (value hidden)',
    ]);
    expect(problems.map((p) => p.value)).toEqual(['***', '***']);
  });

  it('other worker fields: weight, context_length, timeouts, models entries, capabilities', () => {
    expect(
      messagesOf(() =>
        parse([
          {
            ...ok,
            weight: 0,
            context_length: 4096.5,
            stall_timeout: -1,
            request_timeout: '60',
            models: ['a', 7],
            capabilities: ['completion', 'tool'],
          },
          { ...ok, id: 'w2', capabilities: 'tools' },
        ]),
      ),
    ).toEqual([
      'config/my_workers.json: workers[0].models[1]: expected a non-empty model name, e.g. "mistral-7b-instruct-v0.2", got 7',
      'config/my_workers.json: workers[0].weight: expected a number greater than 0, got 0',
      'config/my_workers.json: workers[0].context_length: expected an integer of 1 or more (tokens), got 4096.5',
      'config/my_workers.json: workers[0].capabilities[1]: expected a list of capabilities, each one of completion, tools, vision, thinking, embedding, insert, e.g. ["completion", "tools"], got "tool"',
      'config/my_workers.json: workers[0].stall_timeout: expected a number of seconds greater than 0, got -1',
      'config/my_workers.json: workers[0].request_timeout: expected a number of seconds greater than 0, got "60" (a string: remove the quotes)',
      'config/my_workers.json: workers[1].capabilities: expected a list of capabilities, each one of completion, tools, vision, thinking, embedding, insert, e.g. ["completion", "tools"], got "tools"',
    ]);
  });
});

describe('unknown keys: named, with the valid ones listed', () => {
  const WORKER_KEYS =
    'id, type, host, port, base_url, model, models, max_concurrent_requests, weight, context_length, capabilities, api_key, api_key_env, api, connect_timeout, first_token_timeout, stall_timeout, request_timeout';
  const SETTINGS_KEYS =
    'health_check_interval, request_timeout, connect_timeout, first_token_timeout, stall_timeout, max_retries, max_queue_size, queue_timeout, circuit_breaker_threshold, circuit_breaker_cooldown, max_concurrent_batch, connection_pool_size';

  it('at worker level, with a spelling suggestion or the right place for the key', () => {
    expect(
      messagesOf(() => parse([{ ...ok, prot: 1234, maxConcurrentRequests: 4, max_retries: 2, gpu: 'm2' }])),
    ).toEqual([
      `config/my_workers.json: workers[0].prot: unknown key "prot" (did you mean "port"?); valid keys: ${WORKER_KEYS}`,
      `config/my_workers.json: workers[0].maxConcurrentRequests: unknown key "maxConcurrentRequests" (did you mean "max_concurrent_requests"?); valid keys: ${WORKER_KEYS}`,
      `config/my_workers.json: workers[0].max_retries: unknown key "max_retries" (it is a setting: put it under "settings"); valid keys: ${WORKER_KEYS}`,
      `config/my_workers.json: workers[0].gpu: unknown key "gpu"; valid keys: ${WORKER_KEYS}`,
    ]);
  });

  it('at settings level', () => {
    expect(messagesOf(() => parse([ok], { settings: { request_timout: 30, max_retries: 2 } }))).toEqual([
      `config/my_workers.json: settings.request_timout: unknown key "request_timout" (did you mean "request_timeout"?); valid keys: ${SETTINGS_KEYS}`,
    ]);
  });

  it('at top level ($schema is allowed for editors)', () => {
    expect(messagesOf(() => parse([ok], { $schema: './schema.json', setings: {}, max_retries: 1 }))).toEqual([
      'config/my_workers.json: setings: unknown key "setings" (did you mean "settings"?); valid keys: $schema, workers, settings, gateway',
      'config/my_workers.json: max_retries: unknown key "max_retries" (it is a setting: put it under "settings"); valid keys: $schema, workers, settings, gateway',
    ]);
  });
});

describe('settings values', () => {
  it('each setting is checked with its own expectation', () => {
    expect(
      messagesOf(() =>
        parse([ok], {
          settings: {
            health_check_interval: 0,
            max_retries: 1.5,
            max_queue_size: 0,
            circuit_breaker_threshold: 'three',
          },
        }),
      ),
    ).toEqual([
      'config/my_workers.json: settings.health_check_interval: expected a number of seconds greater than 0, got 0',
      'config/my_workers.json: settings.max_retries: expected an integer of 0 or more, got 1.5',
      'config/my_workers.json: settings.max_queue_size: expected an integer of 1 or more, got 0',
      'config/my_workers.json: settings.circuit_breaker_threshold: expected an integer of 1 or more, got "three"',
    ]);
  });

  it('a settings file with problems is named in its own messages (bare and wrapped)', () => {
    const run = (settingsRaw: unknown) =>
      messagesOf(() =>
        parseConfig({ workers: [ok] }, { file: FILE, settingsRaw, settingsFile: 'config/settings.yaml' }),
      );
    expect(run({ max_retries: -1, colour: 'red' })).toEqual([
      'config/settings.yaml: max_retries: expected an integer of 0 or more, got -1',
      'config/settings.yaml: colour: unknown key "colour"; valid keys: health_check_interval, request_timeout, connect_timeout, first_token_timeout, stall_timeout, max_retries, max_queue_size, queue_timeout, circuit_breaker_threshold, circuit_breaker_cooldown, max_concurrent_batch, connection_pool_size',
    ]);
    expect(run({ settings: { stall_timeout: 0 } })).toEqual([
      'config/settings.yaml: settings.stall_timeout: expected a number of seconds greater than 0, got 0',
    ]);
    expect(run({ settings: {}, workers: [] })).toEqual([
      'config/settings.yaml: workers: unknown key "workers"; valid keys: $schema, settings',
    ]);
    expect(run([1, 2])).toEqual([
      'config/settings.yaml: expected an object of settings, e.g. { "request_timeout": 300 }, got a list of 2 items',
    ]);
  });
});

describe('wrong top-level shape', () => {
  const expected = 'an object like { "workers": [ { "id": ..., "type": ..., "model": ... } ] }';

  it('a bare list of workers says to wrap it', () => {
    expect(messagesOf(() => parseConfig([ok, ok], { file: FILE }))).toEqual([
      `config/my_workers.json: expected ${expected}, got a list of 2 items (wrap the list: { "workers": [ ... ] })`,
    ]);
  });

  it('a scalar, an empty file, a missing workers key', () => {
    expect(messagesOf(() => parseConfig('workers', { file: FILE }))).toEqual([
      `config/my_workers.json: expected ${expected}, got "workers"`,
    ]);
    expect(messagesOf(() => parseConfig(undefined, { file: FILE }))).toEqual([
      `config/my_workers.json: the file is empty; expected ${expected}`,
    ]);
    expect(messagesOf(() => parseConfig({ settings: {} }, { file: FILE }))).toEqual([
      'config/my_workers.json: workers: expected a list of workers: [ { "id": ..., "type": ..., "model": ... }, ... ], got nothing (the field is missing)',
    ]);
  });
});

describe('ConfigError', () => {
  it('is a FleetError with code FLEET_CONFIG_INVALID, not retryable, listing every problem one per line', () => {
    let caught: unknown;
    try {
      parse([
        { ...ok, port: 0 },
        { ...ok, type: 'x' },
        { id: 'c', type: 'ollama' },
      ]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toBeInstanceOf(FleetError);
    const err = caught as ConfigError;
    expect(err.code).toBe('FLEET_CONFIG_INVALID');
    expect(err.retryable).toBe(false);
    expect(err.problems).toHaveLength(4);
    expect(err.message.split('\n')).toEqual([
      'invalid configuration, 4 problems:',
      '  config/my_workers.json: workers[0].port: expected an integer 1-65535, got 0',
      `  config/my_workers.json: workers[1].type: expected one of ${TYPES}, got "x"`,
      '  config/my_workers.json: workers[1].id: expected a unique id, got "mac-studio-1" (workers[0] has the same id)',
      '  config/my_workers.json: workers[2].model: expected a model name, or a "models" list (one of them is required), got nothing (the field is missing)',
    ]);
    expect(err.problems[0]).toEqual({
      file: FILE,
      path: 'workers[0].port',
      value: 0,
      expected: 'an integer 1-65535',
      message: 'config/my_workers.json: workers[0].port: expected an integer 1-65535, got 0',
    });
  });
});

describe('the gateway section (fleet serve)', () => {
  it('keys from the file and from the variable it names, and CORS origins', () => {
    const c = parse(
      [ok],
      { gateway: { api_keys: ['k-file'], api_keys_env: 'GW_KEYS', cors_origins: ['http://localhost:3000'] } },
      { GW_KEYS: 'k-env1, k-env2' },
    );
    expect(c.gateway).toEqual({
      apiKeys: ['k-file', 'k-env1', 'k-env2'],
      corsOrigins: ['http://localhost:3000'],
    });
    expect(parse([ok]).gateway).toBeUndefined();
  });

  it('says what is wrong, and never echoes a key', () => {
    expect(
      messagesOf(() =>
        parse(
          [ok],
          { gateway: { api_keys: ['s3cret', ''], api_keys_env: 'NOT_SET_HERE', cors_origin: ['*'] } },
          {},
        ),
      ),
    ).toEqual([
      // Neither key is echoed: not the bad one, and not "s3cret" beside it.
      'config/my_workers.json: gateway.api_keys[1]: expected a non-empty string, got a string (value hidden)',
      'config/my_workers.json: gateway.cors_origin: unknown key "cors_origin" (did you mean "cors_origins"?); valid keys: api_keys, api_keys_env, cors_origins',
      'config/my_workers.json: gateway.api_keys_env: expected the name of a set environment variable, got "NOT_SET_HERE" (environment variable NOT_SET_HERE is not set)',
    ]);
  });
});
