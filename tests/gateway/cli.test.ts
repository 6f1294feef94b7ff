import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimFleet, type SimFleet } from '../../src/sim/index.ts';
import { BIN, runFleet } from '../cli/run.ts';
import { CHAT, post, sim, until } from './helpers.ts';

let fleet: SimFleet | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await fleet?.close();
  fleet = undefined;
});

describe('fleet serve', () => {
  it('refuses --host 0.0.0.0 without an API key (exit 2, says how to fix)', async () => {
    fleet = await startSimFleet([sim('a')]);
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    writeFileSync(join(dir, 'w.json'), JSON.stringify(fleet.workerConfig()));
    const r = await runFleet(['serve', '-c', join(dir, 'w.json'), '--host', '0.0.0.0', '--port', '0'], {
      env: { FLEET_API_KEY: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/without an API key.*FLEET_API_KEY.*--insecure/);
  });

  it('--cors-origin: refuses a value that is no origin (exit 2); * without a key warns, then serves CORS', async () => {
    fleet = await startSimFleet([sim('a')]);
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    const file = join(dir, 'w.json');
    writeFileSync(file, JSON.stringify(fleet.workerConfig()));
    const bad = await runFleet(['serve', '-c', file, '--port', '0', '--cors-origin', 'localhost:3000'], {
      env: { FLEET_API_KEY: '' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"localhost:3000"');
    expect(bad.stderr).toContain('scheme://host[:port]');

    child = spawn(process.execPath, [BIN, 'serve', '-c', file, '--port', '0', '--cors-origin', '*'], {
      env: { ...process.env, FLEET_API_KEY: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /fleet gateway on (http:\/\/\S+) /.test(err), 15_000);
    expect(err).toContain('warning: --cors-origin * without an API key');
    const url = /fleet gateway on (http:\/\/\S+) /.exec(err)![1]!;
    const r = await fetch(`${url}/v1/models`, { headers: { origin: 'http://localhost:5173' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it("takes client keys and CORS origins from the config file's gateway section, adding its flags", async () => {
    fleet = await startSimFleet([sim('a')]);
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...fleet.workerConfig(),
        gateway: { api_keys_env: 'TEAM_KEYS', cors_origins: ['http://localhost:3000'] },
      }),
    );
    child = spawn(
      process.execPath,
      [BIN, 'serve', '-c', file, '--port', '0', '--cors-origin', 'http://app.lan:8080'],
      {
        env: { ...process.env, TEAM_KEYS: 'team-key-1,team-key-2', FLEET_API_KEY: 'ops-key' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /fleet gateway on (http:\/\/\S+) /.test(err), 15_000);
    expect(err).toContain(`API key required (from ${file}: gateway and $FLEET_API_KEY)`);
    expect(err).not.toMatch(/team-key|ops-key/);
    const url = /fleet gateway on (http:\/\/\S+) /.exec(err)![1]!;
    for (const key of ['team-key-2', 'ops-key'])
      expect(
        (await post(`${url}/v1/chat/completions`, CHAT, { authorization: `Bearer ${key}` })).status,
      ).toBe(200);
    expect((await post(`${url}/v1/chat/completions`, CHAT)).status).toBe(401);
    for (const origin of ['http://localhost:3000', 'http://app.lan:8080']) {
      const r = await fetch(`${url}/health`, { headers: { origin } });
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('serves, logs request ids (never the key), reloads on SIGHUP, drains on SIGTERM', async () => {
    fleet = await startSimFleet([sim('a'), sim('b')]);
    const all = fleet.workerConfig();
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    const file = join(dir, 'w.json');
    writeFileSync(file, JSON.stringify({ workers: all.workers.slice(0, 1) }));
    child = spawn(process.execPath, [BIN, 'serve', '-c', file, '--port', '0'], {
      env: { ...process.env, FLEET_API_KEY: 'topsecret-key' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await until(() => /fleet gateway on (http:\/\/\S+) /.test(err), 15_000);
    const url = /fleet gateway on (http:\/\/\S+) /.exec(err)![1]!;
    expect(err).toContain('API key required (from $FLEET_API_KEY)');
    const auth = { authorization: 'Bearer topsecret-key' };
    const r = await post(`${url}/v1/chat/completions`, CHAT, { ...auth, 'x-request-id': 'rid-42' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('rid-42');
    await until(() => out.includes('rid-42'));
    const line = JSON.parse(out.split('\n').find((l) => l.includes('rid-42'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ reqId: 'rid-42', path: '/v1/chat/completions', status: 200, worker: 'a' });
    expect(out).not.toContain('topsecret-key');
    expect(out).not.toContain('Say hello');

    writeFileSync(file, JSON.stringify(all));
    child.kill('SIGHUP');
    await until(() => err.includes('reloaded: +1 added'), 10_000);
    const models = (await (await fetch(`${url}/v1/models`, { headers: auth })).json()) as {
      data: Array<{ workers: string[] }>;
    };
    expect(models.data[0]!.workers.sort()).toEqual(['a', 'b']);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('gateway stopped (SIGTERM)');
  });
});
