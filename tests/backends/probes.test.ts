/**
 * Probes per server type: readiness during a cold start, capacity hints under load, missing
 * models, short timeouts, and servers that answer 200 to anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import type { BackendDeps } from '../../src/backends/openai-compat.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { WorkerConfig, WorkerType } from '../../src/config/types.ts';
import type { ChatRequest } from '../../src/core/openai.ts';
import { startSimWorker, type SimWorker, type SimWorkerOptions } from '../../src/sim/index.ts';
import { collect, expectFleetError, json, sleep, startServer, workerAt, type TestServer } from './helpers.ts';

const hi: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
let sims: SimWorker[] = [];
let servers: TestServer[] = [];
let backends: Backend[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all([...sims.map((s) => s.close()), ...servers.map((s) => s.close())]);
  sims = [];
  servers = [];
  backends = [];
});

async function sim(o: SimWorkerOptions): Promise<SimWorker> {
  const w = await startSimWorker({ models: ['m1'], decodeTps: Infinity, outputTokens: 4, ...o });
  sims.push(w);
  return w;
}

function backendFor(
  url: string,
  type: WorkerType,
  over: Partial<WorkerConfig> = {},
  deps: BackendDeps = {},
): Backend {
  const b = createBackend(workerAt(url, { type, model: 'm1', ...over }), deps);
  backends.push(b);
  return b;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await sleep(20);
  }
}

/**
 * Each cold-start test checks the worker while it still loads, so the load must outlast the test's
 * first requests even when the other test files load this 2-core machine: at 600 ms the LM Studio
 * test (a probe and a chat before the model is up) sometimes found it loaded already.
 */
const COLD_MS = 2000;

describe('cold start', () => {
  it('llama_cpp: /health 503 "Loading model" is state loading, then ready', async () => {
    const w = await sim({ type: 'llama_cpp', coldStartMs: COLD_MS });
    const b = backendFor(w.url, 'llama_cpp');
    expect(await b.probe()).toMatchObject({
      state: 'loading',
      reason: 'HTTP 503 Loading model',
      code: 'FLEET_UPSTREAM_BUSY',
    });
    const err = await expectFleetError(b.chat(hi), 'FLEET_UPSTREAM_BUSY');
    expect(err.message).toContain('Loading model');
    expect(
      (
        await until(
          () => b.probe(),
          (p) => p.state === 'ready',
        )
      ).state,
    ).toBe('ready');
  });

  it('lm_studio: a not-loaded model is state loading with FLEET_MODEL_NOT_FOUND, then ready with its parallel slots', async () => {
    const w = await sim({ type: 'lm_studio', coldStartMs: COLD_MS, slots: 3, contextLength: 4096 });
    const b = backendFor(w.url, 'lm_studio');
    expect(await b.probe()).toMatchObject({
      state: 'loading',
      code: 'FLEET_MODEL_NOT_FOUND',
      reason: 'model m1 not loaded (load it in LM Studio, or run `lms load m1`)',
      models: ['m1'],
      loadedModels: [],
    });
    await expectFleetError(b.chat(hi), 'FLEET_MODEL_NOT_FOUND');
    const p = await until(
      () => b.probe(),
      (x) => x.state === 'ready',
    );
    expect(p).toMatchObject({
      state: 'ready',
      loadedModels: ['m1'],
      capacity: { slots: 3 },
      contextLength: 4096,
    });
  });

  it('vllm: /health 503 is down (engine dead or starting), then ready', async () => {
    const w = await sim({ type: 'vllm', coldStartMs: COLD_MS });
    const b = backendFor(w.url, 'vllm');
    const p = await b.probe();
    expect(p.state).toBe('down');
    expect(p.reason).toContain('HTTP 503 from /health');
    expect(
      (
        await until(
          () => b.probe(),
          (x) => x.state === 'ready',
        )
      ).state,
    ).toBe('ready');
  });

  it('ollama: a pulled model that is not loaded yet is ready (Ollama loads on demand), with a note', async () => {
    const w = await sim({ type: 'ollama', coldStartMs: COLD_MS });
    const b = backendFor(w.url, 'ollama');
    const p = await b.probe();
    expect(p).toMatchObject({ state: 'ready', models: ['m1'], loadedModels: [], version: '0.12.6' });
    expect(p.note).toContain('not loaded');
    const later = await until(
      () => b.probe(),
      (x) => (x.loadedModels ?? []).length > 0,
    );
    expect(later).toMatchObject({ loadedModels: ['m1'], contextLength: 8192 });
    expect(later.note).toBeUndefined();
  });

  it('mlx: ready as soon as it answers, with a note that this proves liveness only', async () => {
    const w = await sim({ type: 'mlx', coldStartMs: COLD_MS });
    const p = await backendFor(w.url, 'mlx').probe();
    expect(p.state).toBe('ready');
    expect(p.note).toContain('liveness');
  });
});

describe('capacity under load', () => {
  const busyStreams = (b: Backend, n: number, ac: AbortController) =>
    Array.from({ length: n }, () => collect(b.chatStream(hi, { signal: ac.signal })).catch(() => undefined));

  it('llama_cpp: slots from /props, busy from /slots, waiting from /metrics', async () => {
    const w = await sim({ type: 'llama_cpp', slots: 2, decodeTps: 20, outputTokens: 200 });
    const b = backendFor(w.url, 'llama_cpp');
    const ac = new AbortController();
    const load = busyStreams(b, 4, ac);
    await until(
      () => Promise.resolve(w.stats()),
      (s) => s.running === 2 && s.queued === 2,
    );
    const p = await b.probe();
    ac.abort();
    await Promise.all(load);
    expect(p.capacity).toEqual({ slots: 2, busy: 2, waiting: 2 });
    expect(p.contextLength).toBe(8192);
    expect(p.version).toBe('b0-sim');
  });

  it('vllm: running and waiting from the /metrics gauges, max_model_len as context', async () => {
    const w = await sim({ type: 'vllm', slots: 1, decodeTps: 20, outputTokens: 200, contextLength: 2048 });
    const b = backendFor(w.url, 'vllm');
    const ac = new AbortController();
    const load = busyStreams(b, 3, ac);
    await until(
      () => Promise.resolve(w.stats()),
      (s) => s.running === 1 && s.queued === 2,
    );
    const p = await b.probe();
    ac.abort();
    await Promise.all(load);
    expect(p).toMatchObject({
      state: 'ready',
      capacity: { busy: 1, waiting: 2 },
      contextLength: 2048,
      version: '0.11.0',
    });
  });
});

describe('missing models', () => {
  it.each<[WorkerType, string]>([
    ['openai', 'model "absent" is not available on this server (it lists: m1)'],
    ['exo', 'model "absent" is not available on this server (it lists: m1)'],
    ['vllm', 'model "absent" is not available on this vLLM server (it lists: m1)'],
    ['lm_studio', 'model "absent" is not available on this LM Studio (it lists: m1)'],
    ['ollama', 'model "absent" not found on this Ollama (run `ollama pull absent`)'],
  ])('%s: down with FLEET_MODEL_NOT_FOUND and what to do', async (type, reason) => {
    const w = await sim({ type });
    const p = await backendFor(w.url, type, { model: 'absent' }).probe();
    expect(p).toMatchObject({ state: 'down', code: 'FLEET_MODEL_NOT_FOUND', reason });
  });

  it('ollama: matches `name` to `name:latest`', async () => {
    const w = await sim({ type: 'ollama', models: ['llama3:latest'] });
    expect((await backendFor(w.url, 'ollama', { model: 'llama3' }).probe()).state).toBe('ready');
  });

  it('llama_cpp: never checks the name (llama-server serves whatever is loaded)', async () => {
    const w = await sim({ type: 'llama_cpp' });
    expect((await backendFor(w.url, 'llama_cpp', { model: 'anything' }).probe()).state).toBe('ready');
  });
});

describe('probe limits', () => {
  async function hanging(): Promise<TestServer> {
    const s = await startServer(async () => {
      await sleep(5000);
    });
    servers.push(s);
    return s;
  }

  it.each<WorkerType>(['openai', 'lm_studio', 'llama_cpp', 'vllm', 'mlx', 'ollama'])(
    '%s: a hanging server is down after the probe budget, "timed out after N"',
    async (type) => {
      const s = await hanging();
      const t0 = performance.now();
      const p = await backendFor(s.url, type, {}, { probeTimeoutMs: 300 }).probe();
      const took = performance.now() - t0;
      expect(p).toMatchObject({
        state: 'down',
        reason: 'timed out after 300 ms',
        code: 'FLEET_UPSTREAM_TIMEOUT',
      });
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(3000);
    },
  );

  it('defaults the budget to the connect timeout, capped at 5 s', async () => {
    const s = await hanging();
    const p = await backendFor(s.url, 'openai', {
      timeouts: { connectMs: 200, firstTokenMs: 9000, stallMs: 9000, totalMs: 9000 },
    }).probe();
    expect(p.reason).toBe('timed out after 200 ms');
  });

  it('rejects with FLEET_ABORTED when the caller aborts', async () => {
    const s = await hanging();
    const ac = new AbortController();
    const p = backendFor(s.url, 'llama_cpp').probe({ signal: ac.signal });
    await sleep(50);
    ac.abort();
    await expectFleetError(p, 'FLEET_ABORTED');
  });

  it('lm_studio: a server that answers 200 to every path is not taken for ready', async () => {
    const s = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`Unexpected endpoint or method. (${req.method} ${req.path}). Returning 200 anyway`);
    });
    servers.push(s);
    const p = await backendFor(s.url, 'lm_studio').probe();
    expect(p.state).toBe('down');
    expect(p.code).toBe('FLEET_UPSTREAM_MALFORMED');
    expect(p.reason).toContain('HTTP 200 with an unusable body');
    expect(s.requests.map((r) => r.path)).not.toContain('/health');
  });

  it('lm_studio: older servers without /api/v0 fall back to /v1/models, saying so', async () => {
    const s = await startServer((req, res) => {
      if (req.path === '/v1/models')
        json(res, 200, { object: 'list', data: [{ id: 'm1', object: 'model' }] });
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('Unexpected endpoint or method. Returning 200 anyway');
      }
    });
    servers.push(s);
    const p = await backendFor(s.url, 'lm_studio').probe();
    expect(p).toMatchObject({ state: 'ready', models: ['m1'] });
    expect(p.note).toContain('0.3.6');
  });

  it('llama_cpp: /metrics is fetched only when /props says it is enabled, and a 501 is ignored', async () => {
    const s = await startServer((req, res) => {
      if (req.path === '/health') return json(res, 200, { status: 'ok' });
      if (req.path === '/props')
        return json(res, 200, {
          total_slots: 3,
          default_generation_settings: { n_ctx: 1024 },
          endpoint_metrics: false,
        });
      if (req.path === '/slots')
        return json(res, 501, {
          error: {
            code: 501,
            message: 'This server does not support slots endpoint.',
            type: 'not_supported_error',
          },
        });
      if (req.path === '/v1/models')
        return json(res, 200, { object: 'list', data: [{ id: 'tiny', object: 'model', meta: null }] });
      json(res, 404, { error: { message: 'File Not Found', type: 'not_found_error', code: 404 } });
    });
    servers.push(s);
    const p = await backendFor(s.url, 'llama_cpp').probe();
    expect(p).toMatchObject({
      state: 'ready',
      capacity: { slots: 3 },
      contextLength: 1024,
      models: ['tiny'],
    });
    expect(s.requests.map((r) => r.path)).not.toContain('/metrics');
  });
});
