import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../core/clock.ts';
import { createRandom, type Random } from '../core/random.ts';
import { Admission } from './admission.ts';
import type { Routes, SimCore } from './context.ts';
import { Engine } from './engine.ts';
import { errorResponse } from './errors.ts';
import { sendError, splitUrl } from './http.ts';
import { resolveSimOptions, validateFaults } from './options.ts';
import { PrefixCache } from './prefix-cache.ts';
import { commonRoutes } from './routes-common.ts';
import { llamaRoutes } from './routes-llama.ts';
import { lmStudioRoutes } from './routes-lmstudio.ts';
import { ollamaRoutes } from './routes-ollama.ts';
import { exoRoutes, mlxRoutes, vllmRoutes } from './routes-others.ts';
import { StatsRecorder } from './stats.ts';
import type {
  ResolvedSimOptions,
  SimFaults,
  SimStats,
  SimType,
  SimWorker,
  SimWorkerOptions,
} from './types.ts';

/** Starts one simulated LLM server and resolves once it listens. */
export async function startSimWorker(opts: SimWorkerOptions = {}): Promise<SimWorker> {
  const worker = new SimWorkerImpl(opts);
  await worker.listen();
  return worker;
}

const CORS_HEADERS = [
  'Access-Control-Allow-Origin',
  '*',
  'Access-Control-Allow-Methods',
  'GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers',
  '*',
  'Content-Length',
  '0',
];

class SimWorkerImpl implements SimWorker, SimCore {
  readonly options: ResolvedSimOptions;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly recorder: StatsRecorder;
  readonly admission: Admission;
  readonly textRandom: Random;
  readonly faultRandom: Random;
  readonly t0: number;
  faults: SimFaults;
  #port: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #routes: Routes = new Map();
  #loadedAt = 0;
  #sinceStart = 0;
  #requestId = 0;
  #closed = false;

  constructor(opts: SimWorkerOptions) {
    const o = resolveSimOptions(opts);
    this.options = o;
    this.clock = opts.clock ?? systemClock;
    this.t0 = this.clock.now();
    // Separate streams, so the generated text does not depend on the fault settings.
    this.textRandom = createRandom(o.seed);
    this.faultRandom = createRandom(`faults:${o.seed}`);
    this.faults = o.faults;
    this.#port = o.port;
    const perMs = (tps: number) => (tps * o.speed) / (1000 * o.timeScale);
    this.engine = new Engine(
      {
        slots: o.slots,
        maxQueue: o.maxQueue,
        prefillPerMs: perMs(o.prefillTps),
        decodePerMs: perMs(o.decodeTps),
        batchSlowdown: o.batchSlowdown,
        fixedMs: o.fixedLatencyMs === undefined ? undefined : o.fixedLatencyMs * o.timeScale,
        tickMs: o.streamTickMs,
      },
      this.clock,
      new PrefixCache(o.cacheTokens),
    );
    this.engine.slowFirstTokenMs = (this.faults.slowFirstTokenMs ?? 0) * o.timeScale;
    this.recorder = new StatsRecorder(o.logLimit);
    this.admission = new Admission(this.recorder);
    commonRoutes(this, this, this.#routes);
    const typeRoutes: Partial<Record<SimType, (c: SimCore, r: Routes) => void>> = {
      llama_cpp: llamaRoutes,
      lm_studio: lmStudioRoutes,
      ollama: ollamaRoutes,
      vllm: vllmRoutes,
      mlx: mlxRoutes,
      exo: exoRoutes,
    };
    typeRoutes[o.type]?.(this, this.#routes);
  }

  get o(): ResolvedSimOptions {
    return this.options;
  }

  get id(): string {
    return this.options.id;
  }

  get type(): SimType {
    return this.options.type;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const h = this.options.host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${this.#port}`;
  }

  loading(): boolean {
    return this.clock.now() < this.#loadedAt;
  }

  nextRequestId(): number {
    return ++this.#requestId;
  }

  admit(): boolean {
    this.#sinceStart++;
    const limit = this.faults.crashAfter;
    if (limit !== undefined && this.#sinceStart > limit) {
      void this.crash();
      return false;
    }
    return true;
  }

  stats(): SimStats {
    return this.recorder.snapshot(this.id, this.type, this.engine);
  }

  resetStats(): void {
    this.recorder.reset();
    this.engine.resetCounters();
  }

  setFaults(f: SimFaults): void {
    this.faults = validateFaults(f, `sim worker "${this.id}"`);
    this.engine.slowFirstTokenMs = (this.faults.slowFirstTokenMs ?? 0) * this.options.timeScale;
    this.#sinceStart = 0;
  }

  async listen(): Promise<void> {
    if (this.#closed) throw new Error(`sim worker "${this.id}" is closed`);
    if (this.#server !== undefined) return;
    const server = createServer({ noDelay: true, requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) =>
      this.#onRequest(req, res),
    );
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr !== null && typeof addr === 'object') this.#port = addr.port;
    this.#server = server;
    this.#loadedAt = this.clock.now() + this.options.coldStartMs * this.options.timeScale;
    this.#sinceStart = 0;
  }

  async crash(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.admission.crashAll();
    this.engine.clear();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  async restart(): Promise<void> {
    await this.crash();
    await this.listen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.crash();
    this.#closed = true;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { path, query } = splitUrl(req.url);
    const method = req.method ?? 'GET';
    const handler = this.#routes.get(`${method} ${path}`);
    if (handler !== undefined) return handler(req, res, query);
    req.resume();
    if (method === 'OPTIONS') {
      res.writeHead(200, CORS_HEADERS);
      res.end();
      return;
    }
    sendError(res, errorResponse(this.type, { kind: 'no_route', method, path }), this.type);
  }
}
