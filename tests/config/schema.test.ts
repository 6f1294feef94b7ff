import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  configJsonSchema,
  defaultSettings,
  parseConfig,
  parseStructuredText,
  starterConfig,
} from '../../src/config/index.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => v as Json;

const WORKER_KEYS = [
  'id',
  'type',
  'host',
  'port',
  'base_url',
  'model',
  'models',
  'max_concurrent_requests',
  'weight',
  'context_length',
  'capabilities',
  'api_key',
  'api_key_env',
  'api',
  'connect_timeout',
  'first_token_timeout',
  'stall_timeout',
  'request_timeout',
];
const SETTINGS_KEYS = [
  'health_check_interval',
  'request_timeout',
  'connect_timeout',
  'first_token_timeout',
  'stall_timeout',
  'max_retries',
  'max_queue_size',
  'queue_timeout',
  'circuit_breaker_threshold',
  'circuit_breaker_cooldown',
  'max_concurrent_batch',
  'connection_pool_size',
];

describe('configJsonSchema', () => {
  const schema = configJsonSchema();
  const props = obj(schema['properties']);
  const workers = obj(props['workers']);
  const worker = obj(workers['items']);
  const workerProps = obj(worker['properties']);
  const settingsProps = obj(obj(props['settings'])['properties']);

  it('is a draft 2020-12 object schema with workers required and no extra keys', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['type']).toBe('object');
    expect(schema['required']).toEqual(['workers']);
    expect(schema['additionalProperties']).toBe(false);
    expect(workers).toMatchObject({ type: 'array', minItems: 1 });
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema); // plain JSON, printable
  });

  it('describes every worker field, requires id and type, and model or models', () => {
    expect(Object.keys(workerProps)).toEqual(WORKER_KEYS);
    for (const key of WORKER_KEYS)
      expect(obj(workerProps[key])['description'], key).toEqual(expect.any(String));
    expect(worker['required']).toEqual(['id', 'type']);
    expect(worker['additionalProperties']).toBe(false);
    expect(worker['anyOf']).toEqual([{ required: ['model'] }, { required: ['models'] }]);
    expect(obj(workerProps['type'])['enum']).toEqual([
      'lm_studio',
      'ollama',
      'llama_cpp',
      'vllm',
      'mlx',
      'exo',
      'openai',
    ]);
    expect(obj(workerProps['port'])).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(obj(workerProps['max_concurrent_requests'])['default']).toBe(5);
    expect(obj(workerProps['host'])['default']).toBe('127.0.0.1');
  });

  it('describes every setting with its default', () => {
    expect(Object.keys(settingsProps)).toEqual(SETTINGS_KEYS);
    const d = defaultSettings();
    expect(obj(settingsProps['health_check_interval'])['default']).toBe(d.healthCheckInterval);
    expect(obj(settingsProps['request_timeout'])['default']).toBe(d.requestTimeout);
    expect(obj(settingsProps['max_retries'])['default']).toBe(d.maxRetries);
    expect(obj(settingsProps['max_concurrent_batch'])['default']).toBe(d.maxConcurrentBatch);
    expect(obj(settingsProps['connection_pool_size'])['default']).toBe(d.connectionPoolSize);
    for (const key of SETTINGS_KEYS)
      expect(obj(settingsProps[key])['description'], key).toEqual(expect.any(String));
  });
});

describe('starterConfig', () => {
  it("the YAML passes validation and gives one LM Studio worker with the guide's cap", () => {
    const config = parseConfig(parseStructuredText(starterConfig(), 'workers.yaml'), {
      file: 'workers.yaml',
    });
    expect(config.workers).toHaveLength(1);
    expect(config.workers[0]).toMatchObject({
      type: 'lm_studio',
      baseUrl: 'http://127.0.0.1:1234',
      maxConcurrentRequests: 5,
    });
    expect(config.settings).toEqual(defaultSettings());
  });

  it('the YAML mentions every worker field and every setting in its comments', () => {
    const text = starterConfig('yaml');
    for (const key of [...WORKER_KEYS, ...SETTINGS_KEYS]) expect(text, key).toMatch(new RegExp(`\\b${key}:`));
  });

  it('every commented-out setting line is valid when uncommented', () => {
    const text = starterConfig('yaml')
      .replace(/^# settings:$/m, 'settings:')
      .replace(/^#( {3}\w+: )/gm, '$1');
    const raw = YAML.parse(text) as { settings: Record<string, unknown> };
    expect(Object.keys(raw.settings)).toEqual(SETTINGS_KEYS);
    expect(parseConfig(raw, { file: 'workers.yaml' }).settings).toEqual(defaultSettings());
  });

  it("the JSON is the guide's format and passes validation", () => {
    const text = starterConfig('json');
    const raw = JSON.parse(text) as { workers: Json[] };
    expect(Object.keys(raw.workers[0] ?? {})).toEqual([
      'id',
      'host',
      'port',
      'type',
      'model',
      'max_concurrent_requests',
    ]);
    expect(parseConfig(raw, { file: 'workers.json' }).workers[0]?.capSource).toBe('config');
  });
});
