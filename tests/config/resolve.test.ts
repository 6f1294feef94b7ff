import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, WORKER_TYPES, parseConfig, redactConfig, type Env } from '../../src/config/index.ts';

const FILE = 'w.yaml';

function worker(fields: Record<string, unknown>, settings?: Record<string, unknown>, env?: Env) {
  const raw = {
    workers: [{ id: 'w', type: 'lm_studio', model: 'm', ...fields }],
    ...(settings ? { settings } : {}),
  };
  const w = parseConfig(raw, env === undefined ? { file: FILE } : { file: FILE, env }).workers[0];
  if (w === undefined) throw new Error('no worker');
  return w;
}

describe('addresses', () => {
  it.each(WORKER_TYPES.map((t) => [t, DEFAULT_PORTS[t]] as const))(
    'type %s defaults to 127.0.0.1:%i',
    (type, port) => {
      const w = worker({ type });
      expect([w.host, w.port, w.baseUrl]).toEqual(['127.0.0.1', port, `http://127.0.0.1:${port}`]);
    },
  );

  it("the default ports are the servers' own", () => {
    expect(DEFAULT_PORTS).toEqual({
      lm_studio: 1234,
      ollama: 11434,
      llama_cpp: 8080,
      vllm: 8000,
      mlx: 8080,
      exo: 52415,
      openai: 8000,
    });
  });

  it('host without port takes the type default; IPv6 hosts are bracketed in the URL', () => {
    expect(worker({ type: 'ollama', host: 'studio.local' }).baseUrl).toBe('http://studio.local:11434');
    const v6 = worker({ type: 'llama_cpp', host: 'fe80::1', port: 9000 });
    expect([v6.host, v6.baseUrl]).toEqual(['fe80::1', 'http://[fe80::1]:9000']);
    expect(worker({ host: '[::1]' }).baseUrl).toBe('http://[::1]:1234');
  });

  it.each([
    ['http://10.0.0.5:1234', 'http://10.0.0.5:1234', '10.0.0.5', 1234],
    ['http://10.0.0.5:1234/', 'http://10.0.0.5:1234', '10.0.0.5', 1234],
    ['http://10.0.0.5:1234/v1', 'http://10.0.0.5:1234', '10.0.0.5', 1234],
    ['http://10.0.0.5:1234/v1/', 'http://10.0.0.5:1234', '10.0.0.5', 1234],
    ['https://gpu.lan/llm/ollama/v1', 'https://gpu.lan/llm/ollama', 'gpu.lan', 443],
    ['https://gpu.lan:8443/prefix', 'https://gpu.lan:8443/prefix', 'gpu.lan', 8443],
    ['http://gpu.lan', 'http://gpu.lan', 'gpu.lan', 80],
    ['http://[::1]:8000/v1', 'http://[::1]:8000', '::1', 8000],
    ['https://api.example.com/v1', 'https://api.example.com', 'api.example.com', 443],
  ])('base_url %s -> %s', (baseUrl, expected, host, port) => {
    const w = worker({ type: 'vllm', base_url: baseUrl });
    expect([w.baseUrl, w.host, w.port]).toEqual([expected, host, port]);
  });

  it('base_url with an agreeing host (any case) and port is accepted', () => {
    const w = worker({ base_url: 'http://Studio.lan:1234/v1', host: 'studio.LAN', port: 1234 });
    expect(w.baseUrl).toBe('http://studio.lan:1234');
  });
});

describe('models, cap, weight, api, context', () => {
  it('model alone; models alone; both (model first, no duplicates)', () => {
    expect(worker({ model: 'a' }).models).toEqual(['a']);
    const onlyList = worker({ model: undefined, models: ['x', 'y'] });
    expect([onlyList.model, onlyList.models]).toEqual(['x', ['x', 'y']]);
    const both = worker({ model: 'y', models: ['x', 'y', 'z'] });
    expect([both.model, both.models]).toEqual(['y', ['y', 'x', 'z']]);
  });

  it('max_concurrent_requests: from the file (capSource config) or 5 (capSource default)', () => {
    expect([worker({}).maxConcurrentRequests, worker({}).capSource]).toEqual([5, 'default']);
    const set = worker({ max_concurrent_requests: 8 });
    expect([set.maxConcurrentRequests, set.capSource]).toEqual([8, 'config']);
    // Even a value equal to the default counts as configured: the user chose it.
    expect(worker({ max_concurrent_requests: 5 }).capSource).toBe('config');
  });

  it('weight defaults to 1; context_length and capabilities only when given; api openai unless ollama native', () => {
    const w = worker({});
    expect(w.weight).toBe(1);
    expect('contextLength' in w).toBe(false);
    expect('capabilities' in w).toBe(false);
    expect(worker({ capabilities: ['completion', 'tools', 'completion'] }).capabilities).toEqual([
      'completion',
      'tools',
    ]);
    expect(w.api).toBe('openai');
    expect(worker({ weight: 2.5, context_length: 8192 })).toMatchObject({ weight: 2.5, contextLength: 8192 });
    expect(worker({ type: 'ollama', api: 'native' }).api).toBe('native');
    expect(worker({ type: 'ollama', api: 'openai' }).api).toBe('openai');
  });
});

describe('api keys', () => {
  it('api_key is used as is; api_key_env is read from the env option', () => {
    expect(worker({ api_key: 'sk-direct' }).apiKey).toBe('sk-direct');
    expect(worker({ api_key_env: 'STUDIO_KEY' }, undefined, { STUDIO_KEY: 'sk-env' }).apiKey).toBe('sk-env');
    expect('apiKey' in worker({})).toBe(false);
  });

  it('redactConfig hides every key and leaves the config itself untouched', () => {
    const config = parseConfig(
      {
        workers: [
          { id: 'a', type: 'vllm', model: 'm', api_key: 'sk-secret-1' },
          { id: 'b', type: 'vllm', model: 'm', api_key_env: 'K' },
          { id: 'c', type: 'vllm', model: 'm' },
        ],
      },
      { file: FILE, env: { K: 'sk-secret-2' } },
    );
    const redacted = redactConfig(config) as typeof config;
    expect(redacted.workers.map((w) => w.apiKey)).toEqual(['***', '***', undefined]);
    expect(JSON.stringify(redacted)).not.toContain('sk-secret');
    expect(config.workers.map((w) => w.apiKey)).toEqual(['sk-secret-1', 'sk-secret-2', undefined]);
    expect(redacted.settings).toEqual(config.settings);
  });
});

describe('timeouts (seconds in the file, milliseconds resolved)', () => {
  it('each worker timeout defaults to the setting of the same name', () => {
    const w = worker(
      {},
      { connect_timeout: 3, first_token_timeout: 20, stall_timeout: 15, request_timeout: 90 },
    );
    expect(w.timeouts).toEqual({ connectMs: 3000, firstTokenMs: 20_000, stallMs: 15_000, totalMs: 90_000 });
  });

  it('worker values win over settings', () => {
    const w = worker(
      { connect_timeout: 1.5, first_token_timeout: 5, stall_timeout: 2, request_timeout: 30 },
      { connect_timeout: 3, first_token_timeout: 20, stall_timeout: 15, request_timeout: 90 },
    );
    expect(w.timeouts).toEqual({ connectMs: 1500, firstTokenMs: 5000, stallMs: 2000, totalMs: 30_000 });
  });

  it('a worker request_timeout also lifts its first-token limit unless first_token_timeout is set somewhere', () => {
    expect(worker({ request_timeout: 600 }).timeouts.firstTokenMs).toBe(600_000);
    expect(worker({ request_timeout: 600 }, { first_token_timeout: 45 }).timeouts.firstTokenMs).toBe(45_000);
    expect(worker({}, { request_timeout: 120 }).timeouts.firstTokenMs).toBe(120_000);
  });
});
