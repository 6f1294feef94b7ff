import { afterAll, describe, expect, it } from 'vitest';
import { defaultSettings, loadConfig, type FleetConfig } from '../../src/config/index.ts';
import { MY_WORKERS_JSON, SINGLE_STUDIO_JSON, problemsOfAsync, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const GUIDE_TIMEOUTS = { connectMs: 10_000, firstTokenMs: 300_000, stallMs: 60_000, totalMs: 300_000 };

describe("the user guide's example configs, verbatim", () => {
  it('loads config/single_studio.json with every default applied', async () => {
    const path = scratch.write('config/single_studio.json', SINGLE_STUDIO_JSON);
    const config = await loadConfig(path);
    expect(config.workers).toEqual([
      {
        id: 'mac-studio-1',
        type: 'lm_studio',
        host: '192.168.1.107',
        port: 1234,
        baseUrl: 'http://192.168.1.107:1234',
        model: 'mistral-7b-instruct-v0.2',
        models: ['mistral-7b-instruct-v0.2'],
        maxConcurrentRequests: 5,
        capSource: 'config',
        weight: 1,
        api: 'openai',
        timeouts: GUIDE_TIMEOUTS,
      },
    ]);
    expect(config.settings).toEqual(defaultSettings());
    expect(config.source).toEqual({ config: path });
  });

  it('loads config/my_workers.json: three LM Studio workers, 15 slots in all', async () => {
    const config = await loadConfig(scratch.write('config/my_workers.json', MY_WORKERS_JSON));
    expect(config.workers.map((w) => [w.id, w.baseUrl, w.maxConcurrentRequests, w.capSource])).toEqual([
      ['mac-studio-1', 'http://192.168.1.105:1234', 5, 'config'],
      ['mac-studio-2', 'http://192.168.1.106:1234', 5, 'config'],
      ['mac-studio-3', 'http://192.168.1.107:1234', 5, 'config'],
    ]);
    expect(config.settings.healthCheckInterval).toBe(30);
    expect(config.settings.requestTimeout).toBe(300);
    expect(config.settings.maxRetries).toBe(3);
    expect(config.settings.maxConcurrentBatch).toBe(50);
    expect(config.settings.connectionPoolSize).toBe(100);
  });

  it("the defaults are the older tool's: 30 s health checks, 300 s requests, 3 retries, 50 batch, 100 pool", () => {
    expect(defaultSettings()).toEqual({
      healthCheckInterval: 30,
      requestTimeout: 300,
      connectTimeout: 10,
      firstTokenTimeout: 300,
      stallTimeout: 60,
      maxRetries: 3,
      maxQueueSize: 10_000,
      queueTimeout: 300,
      circuitBreakerThreshold: 3,
      circuitBreakerCooldown: 10,
      maxConcurrentBatch: 50,
      connectionPoolSize: 100,
    });
  });
});

describe('JSON and YAML', () => {
  const YAML_OF_MY_WORKERS = `# the guide's my_workers.json, as YAML
workers:
  - id: mac-studio-1
    host: 192.168.1.105
    port: 1234
    type: lm_studio
    model: mistral-7b-instruct-v0.2
    max_concurrent_requests: 5
  - id: mac-studio-2
    host: 192.168.1.106
    port: 1234
    type: lm_studio
    model: mistral-7b-instruct-v0.2
    max_concurrent_requests: 5
  - id: mac-studio-3
    host: 192.168.1.107
    port: 1234
    type: lm_studio
    model: mistral-7b-instruct-v0.2
    max_concurrent_requests: 5
`;
  const withoutSource = (c: FleetConfig) => ({ workers: c.workers, settings: c.settings });

  it('a YAML file (.yaml or .yml) resolves to exactly what the same JSON does', async () => {
    const json = await loadConfig(scratch.write('eq/workers.json', MY_WORKERS_JSON));
    const yaml = await loadConfig(scratch.write('eq/workers.yaml', YAML_OF_MY_WORKERS));
    const yml = await loadConfig(scratch.write('eq/workers.yml', YAML_OF_MY_WORKERS));
    expect(withoutSource(yaml)).toEqual(withoutSource(json));
    expect(withoutSource(yml)).toEqual(withoutSource(json));
  });

  it('any other extension is tried as JSON, then as YAML', async () => {
    const json = await loadConfig(scratch.write('eq/workers.conf', MY_WORKERS_JSON));
    const yaml = await loadConfig(scratch.write('eq/workers.txt', YAML_OF_MY_WORKERS));
    const noExt = await loadConfig(scratch.write('eq/workers', YAML_OF_MY_WORKERS));
    expect(withoutSource(yaml)).toEqual(withoutSource(json));
    expect(withoutSource(noExt)).toEqual(withoutSource(json));
    expect(json.workers).toHaveLength(3);
  });

  it('a UTF-8 byte order mark does not break JSON', async () => {
    const config = await loadConfig(scratch.write('bom.json', `\uFEFF${SINGLE_STUDIO_JSON}`));
    expect(config.workers[0]?.id).toBe('mac-studio-1');
  });

  it('config/example.json and config/example.yaml (the repo examples) describe the same fleet', async () => {
    const json = await loadConfig('config/example.json');
    const yaml = await loadConfig('config/example.yaml');
    expect(withoutSource(yaml)).toEqual(withoutSource(json));
    expect(json.workers.map((w) => `${w.id} ${w.type} ${w.baseUrl}`)).toEqual([
      'mac-studio-1 lm_studio http://192.168.1.105:1234',
      'mac-studio-2 ollama http://192.168.1.106:11434',
      'gpu-box vllm https://gpu-box.lan:8443/llm',
      'laptop llama_cpp http://192.168.1.110:8080',
    ]);
    expect(json.settings.healthCheckInterval).toBe(15);
  });
});

describe('settings', () => {
  const config = `workers:
  - { id: w1, type: ollama, model: m }
settings:
  request_timeout: 120
  max_retries: 1
  health_check_interval: 5
`;

  it('a settings block overrides the defaults; first_token_timeout follows request_timeout', async () => {
    const c = await loadConfig(scratch.write('s/block.yaml', config));
    expect(c.settings).toEqual({
      ...defaultSettings(),
      requestTimeout: 120,
      firstTokenTimeout: 120,
      maxRetries: 1,
      healthCheckInterval: 5,
    });
    expect(c.workers[0]?.timeouts).toEqual({
      connectMs: 10_000,
      firstTokenMs: 120_000,
      stallMs: 60_000,
      totalMs: 120_000,
    });
  });

  it('a separate settings file (bare object) overrides the block key by key', async () => {
    const settingsPath = scratch.write('s/settings.json', '{ "max_retries": 5, "max_concurrent_batch": 8 }');
    const c = await loadConfig(scratch.write('s/with-file.yaml', config), { settingsPath });
    expect(c.settings.maxRetries).toBe(5); // file beats block
    expect(c.settings.requestTimeout).toBe(120); // block kept where the file is silent
    expect(c.settings.healthCheckInterval).toBe(5);
    expect(c.settings.maxConcurrentBatch).toBe(8);
    expect(c.source).toEqual({ config: scratch.dir + '/s/with-file.yaml', settings: settingsPath });
  });

  it('a settings file may wrap its values in { "settings": {...} }, in YAML too', async () => {
    const settingsPath = scratch.write(
      's/settings.yaml',
      'settings:\n  stall_timeout: 7\n  connect_timeout: 2\n',
    );
    const c = await loadConfig(scratch.write('s/wrapped.yaml', config), { settingsPath });
    expect(c.settings.stallTimeout).toBe(7);
    expect(c.settings.connectTimeout).toBe(2);
    expect(c.workers[0]?.timeouts.stallMs).toBe(7000);
    expect(c.workers[0]?.timeouts.connectMs).toBe(2000);
  });

  it('an empty settings file changes nothing', async () => {
    const settingsPath = scratch.write('s/empty.yaml', '# nothing yet\n');
    const c = await loadConfig(scratch.write('s/empty-override.yaml', config), { settingsPath });
    expect(c.settings.requestTimeout).toBe(120);
  });

  it('problems in both files are reported together, config file first', async () => {
    const settingsPath = scratch.write('s/bad-settings.json', '{ "max_retries": -1 }');
    const problems = await problemsOfAsync(() =>
      loadConfig(scratch.write('s/bad.json', '{ "workers": [ { "id": "w", "type": "ollama" } ] }'), {
        settingsPath,
      }),
    );
    expect(problems.map((p) => p.message)).toEqual([
      `${scratch.dir}/s/bad.json: workers[0].model: expected a model name, or a "models" list (one of them is required), got nothing (the field is missing)`,
      `${settingsPath}: max_retries: expected an integer of 0 or more, got -1`,
    ]);
  });

  it('relative paths are read from the given cwd and named as given', async () => {
    scratch.write('rel/config/w.json', SINGLE_STUDIO_JSON);
    const c = await loadConfig('config/w.json', { cwd: `${scratch.dir}/rel` });
    expect(c.source.config).toBe('config/w.json');
    const problems = await problemsOfAsync(() =>
      loadConfig('config/missing.json', { cwd: `${scratch.dir}/rel` }),
    );
    expect(problems[0]?.message).toMatch(
      /^config\/missing\.json: cannot read the file: it does not exist \(ENOENT\)/,
    );
  });
});
