import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MY_WORKERS_JSON, scratchDir } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/fleet.mjs', import.meta.url));
const scratch = scratchDir();
afterAll(() => scratch.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the real `fleet` binary in the scratch directory. */
function fleet(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: scratch.dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fleet config check', () => {
  it("exits 0 with a summary for the guide's my_workers.json", async () => {
    scratch.write('config/my_workers.json', MY_WORKERS_JSON);
    const r = await fleet(['config', 'check', 'config/my_workers.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('config/my_workers.json: OK, 3 workers, 15 concurrent requests in total');
    expect(lines[1]).toMatch(/^ {2}ID +TYPE +BASE URL +MODELS +CAP +KEY$/);
    expect(lines[2]).toMatch(
      /^ {2}mac-studio-1 +lm_studio +http:\/\/192\.168\.1\.105:1234 +mistral-7b-instruct-v0\.2 +5 \(config\) +-$/,
    );
    expect(lines[4]).toMatch(/^ {2}mac-studio-3 +lm_studio +http:\/\/192\.168\.1\.107:1234 /);
    expect(r.stdout).toMatch(/^settings:$/m);
    expect(r.stdout).toMatch(/^ {2}health_check_interval +30 s$/m);
    expect(r.stdout).toMatch(/^ {2}max_concurrent_batch +50$/m);
  });

  it('exits 2 printing every problem, one per line, nothing on stdout', async () => {
    scratch.write(
      'config/bad.json',
      JSON.stringify({
        workers: [
          { id: 'a', type: 'lmstudio', port: '12a4', model: 'm' },
          { id: 'a', type: 'ollama', max_concurrent_requests: 0 },
        ],
      }),
    );
    const r = await fleet(['config', 'check', 'config/bad.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'error: invalid configuration, 5 problems:',
      '  config/bad.json: workers[0].type: expected one of lm_studio, ollama, llama_cpp, vllm, mlx, exo, openai, got "lmstudio" (did you mean "lm_studio"?)',
      '  config/bad.json: workers[0].port: expected an integer 1-65535, got "12a4"',
      '  config/bad.json: workers[1].max_concurrent_requests: expected an integer of 1 or more, got 0',
      '  config/bad.json: workers[1].id: expected a unique id, got "a" (workers[0] has the same id)',
      '  config/bad.json: workers[1].model: expected a model name, or a "models" list (one of them is required), got nothing (the field is missing)',
    ]);
  });

  it('exits 2 on a missing file and on malformed YAML, with line:column', async () => {
    const missing = await fleet(['config', 'check', 'config/none.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'error: config/none.yaml: cannot read the file: it does not exist (ENOENT); check the path, or create one with `fleet init`\n',
    );
    scratch.write('config/broken.yaml', 'workers:\n  - id: a\n   type: ollama\n');
    const broken = await fleet(['config', 'check', 'config/broken.yaml']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toBe(
      'error: config/broken.yaml:3:1: malformed YAML: Sequence item without - indicator\n',
    );
  });

  it('reads api_key_env from the environment and never prints the key', async () => {
    scratch.write(
      'config/keyed.yaml',
      'workers:\n  - { id: gpu, type: vllm, base_url: "https://gpu.lan/v1", model: m, api_key_env: GPU_KEY }\n  - { id: cloud, type: openai, base_url: "https://api.example.com/v1", model: g, api_key: sk-inline-secret }\n',
    );
    const unset = await fleet(['config', 'check', 'config/keyed.yaml'], { GPU_KEY: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toBe(
      'error: config/keyed.yaml: workers[0].api_key_env: expected the name of a set environment variable, got "GPU_KEY" (environment variable GPU_KEY is empty)\n',
    );

    const summary = await fleet(['config', 'check', 'config/keyed.yaml'], { GPU_KEY: 'sk-env-secret' });
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(/^ {2}gpu +vllm +https:\/\/gpu\.lan +m +5 \(default\) +set$/m);
    const json = await fleet(['config', 'check', 'config/keyed.yaml', '--json'], {
      GPU_KEY: 'sk-env-secret',
    });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { workers: { apiKey?: string }[] };
    expect(parsed.workers.map((w) => w.apiKey)).toEqual(['***', '***']);
    for (const out of [summary.stdout, json.stdout, summary.stderr, json.stderr]) {
      expect(out).not.toContain('sk-env-secret');
      expect(out).not.toContain('sk-inline-secret');
    }
  });

  it('the gateway section: keys counted and redacted, never printed; CORS origins listed', async () => {
    scratch.write(
      'config/gw.json',
      JSON.stringify({
        workers: [{ id: 'a', type: 'vllm', base_url: 'http://a.lan:8000', model: 'm' }],
        gateway: {
          api_keys: ['gw-inline-secret'],
          api_keys_env: 'GW_KEYS',
          cors_origins: ['http://localhost:3000'],
        },
      }),
    );
    const env = { GW_KEYS: 'gw-env-secret' };
    const summary = await fleet(['config', 'check', 'config/gw.json'], env);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(
      /^gateway \(fleet serve\):\n {2}api keys +2 \(not shown\)\n {2}cors origins +http:\/\/localhost:3000$/m,
    );
    const json = await fleet(['config', 'check', 'config/gw.json', '--json'], env);
    const parsed = JSON.parse(json.stdout) as { gateway: { apiKeys: string[]; corsOrigins: string[] } };
    expect(parsed.gateway).toEqual({ apiKeys: ['***', '***'], corsOrigins: ['http://localhost:3000'] });
    for (const out of [summary.stdout, json.stdout, summary.stderr, json.stderr]) {
      expect(out).not.toContain('gw-env-secret');
      expect(out).not.toContain('gw-inline-secret');
    }
  });

  it('--json prints the resolved config; -s overrides settings', async () => {
    scratch.write('config/s.json', MY_WORKERS_JSON);
    scratch.write('config/settings.json', '{ "max_retries": 7, "request_timeout": 30 }');
    const r = await fleet(['config', 'check', 'config/s.json', '-s', 'config/settings.json', '--json']);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as {
      workers: { id: string; timeouts: { totalMs: number } }[];
      settings: { maxRetries: number; requestTimeout: number };
      source: unknown;
    };
    expect(config.workers.map((w) => w.id)).toEqual(['mac-studio-1', 'mac-studio-2', 'mac-studio-3']);
    expect(config.settings.maxRetries).toBe(7);
    expect(config.workers[0]?.timeouts.totalMs).toBe(30_000);
    expect(config.source).toEqual({ config: 'config/s.json', settings: 'config/settings.json' });

    const text = await fleet(['config', 'check', 'config/s.json', '--settings', 'config/settings.json']);
    expect(text.stdout).toMatch(/^settings \(overrides from config\/settings\.json\):$/m);
    expect(text.stdout).toMatch(/^ {2}max_retries +7$/m);
  });
});

describe('fleet config schema', () => {
  it('prints a JSON Schema with properties.workers', async () => {
    const r = await fleet(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      properties: { workers: { items: { properties: object } } };
    };
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(Object.keys(schema.properties.workers.items.properties)).toContain('max_concurrent_requests');
  });
});

describe('fleet init', () => {
  it('writes config/workers.yaml, which then passes config check', async () => {
    const r = await fleet(['init']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'wrote config/workers.yaml\nedit it, then run: fleet config check config/workers.yaml\n',
    );
    const text = readFileSync(`${scratch.dir}/config/workers.yaml`, 'utf8');
    expect(text).toMatch(/^# llm-fleet worker configuration/);
    const check = await fleet(['config', 'check', 'config/workers.yaml']);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^config\/workers\.yaml: OK, 1 worker, 5 concurrent requests in total$/m);
  });

  it('refuses to overwrite without --force (exit 2, file untouched), overwrites with it', async () => {
    const path = scratch.write('mine/workers.yaml', 'workers: []  # mine\n');
    const refused = await fleet(['init', 'mine/workers.yaml']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: mine/workers.yaml already exists; pass --force to overwrite it\n');
    expect(readFileSync(path, 'utf8')).toBe('workers: []  # mine\n');

    const forced = await fleet(['init', 'mine/workers.yaml', '--force']);
    expect(forced.code).toBe(0);
    expect((await fleet(['config', 'check', 'mine/workers.yaml'])).code).toBe(0);
  });

  it("--json writes the guide's JSON format, which passes check", async () => {
    const r = await fleet(['init', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote config\/workers\.json\n/);
    const raw = JSON.parse(readFileSync(`${scratch.dir}/config/workers.json`, 'utf8')) as {
      workers: unknown[];
    };
    expect(raw.workers).toHaveLength(1);
    const check = await fleet(['config', 'check', 'config/workers.json']);
    expect(check.code).toBe(0);
    // A .json target gets JSON even without --json (YAML in a .json file would not load).
    const named = await fleet(['init', 'other/fleet.json']);
    expect(named.code).toBe(0);
    expect(() => {
      JSON.parse(readFileSync(`${scratch.dir}/other/fleet.json`, 'utf8'));
    }).not.toThrow();
  });

  it('an edited starter with a typo fails check with exit 2', async () => {
    await fleet(['init', 'typo/workers.yaml']);
    const path = `${scratch.dir}/typo/workers.yaml`;
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('max_concurrent_requests: 5', 'max_concurent_requests: 5'),
    );
    const r = await fleet(['config', 'check', 'typo/workers.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: typo\/workers\.yaml: workers\[0\]\.max_concurent_requests: unknown key "max_concurent_requests" \(did you mean "max_concurrent_requests"\?\); valid keys: /,
    );
  });
});
