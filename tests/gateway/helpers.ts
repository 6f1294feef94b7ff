import { parseConfig } from '../../src/config/index.ts';
import { createRandom } from '../../src/core/random.ts';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/index.ts';
import { startSimFleet, type SimFleet, type SimWorkerOptions } from '../../src/sim/index.ts';
import { json, startServer, type Handler, type TestServer } from '../backends/helpers.ts';

export interface Started {
  sim: SimFleet;
  gw: RunningGateway;
}

const running: Started[] = [];

/** Simulated workers plus a gateway over them on a free loopback port. Closed by `closeAll`. */
export async function startFleetGateway(
  specs: SimWorkerOptions[],
  opts: {
    settings?: Record<string, unknown>;
    worker?: Record<string, unknown>;
    /** Edits each worker's config entry (the guide's JSON) before parsing. */
    mapWorker?: (w: Record<string, unknown>, i: number) => Record<string, unknown>;
    gateway?: Partial<GatewayOptions>;
  } = {},
): Promise<Started> {
  const sim = await startSimFleet(specs);
  const raw = sim.workerConfig();
  const config = parseConfig(
    {
      workers: raw.workers.map((w, i) => (opts.mapWorker ?? ((x) => x))({ ...w, ...opts.worker }, i)),
      settings: { ...opts.settings },
    },
    { file: 'test' },
  );
  const gw = await startGateway({
    config,
    port: 0,
    fleetDeps: { random: createRandom(7) },
    ...opts.gateway,
  }).catch(async (e: unknown) => {
    await sim.close();
    throw e;
  });
  await gw.fleet.ready();
  const s = { sim, gw };
  running.push(s);
  return s;
}

const scripted: Array<{ gw: RunningGateway; upstream: TestServer }> = [];

export async function closeAll(): Promise<void> {
  for (const s of running.splice(0)) {
    await s.gw.close();
    await s.sim.close();
  }
  for (const s of scripted.splice(0)) {
    await s.gw.close();
    await s.upstream.close();
  }
}

/**
 * A gateway over one scripted OpenAI-type worker serving `model`: `handle` answers its inference
 * requests (`GET /v1/models` is answered for it), and `upstream.requests` keeps what it was sent.
 * For what the simulator does not produce. Closed by `closeAll`.
 */
export async function startScriptedGateway(
  model: string,
  handle: Handler,
): Promise<{ gw: RunningGateway; upstream: TestServer }> {
  const upstream = await startServer((req, res, raw) =>
    req.path === '/v1/models'
      ? json(res, 200, { object: 'list', data: [{ id: model }] })
      : handle(req, res, raw),
  );
  const config = parseConfig(
    { workers: [{ id: 'u', type: 'openai', host: '127.0.0.1', port: upstream.port, model }] },
    { file: 'test' },
  );
  const gw = await startGateway({ config, port: 0 });
  scripted.push({ gw, upstream });
  await gw.fleet.ready();
  return { gw, upstream };
}

export const sim = (id: string, extra: Partial<SimWorkerOptions> = {}): SimWorkerOptions => ({
  id,
  slots: 2,
  timeScale: 0.05,
  outputTokens: 8,
  ...extra,
});

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const CHAT = { messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8 };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true (or fails after `ms`). */
export async function until(fn: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
