import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'vitest';
import type { WorkerConfig, WorkerType } from '../../src/config/types.ts';
import { FleetError, type FleetErrorCode } from '../../src/core/errors.ts';

/** A resolved worker config pointing at `url`, with test-sized timeouts. */
export function workerAt(
  url: string,
  over: Partial<WorkerConfig> & { type?: WorkerType } = {},
): WorkerConfig {
  const u = new URL(url);
  return {
    id: 'w1',
    type: 'openai',
    host: u.hostname,
    port: Number(u.port),
    baseUrl: url.replace(/\/+$/, ''),
    model: 'm',
    models: [over.model ?? 'm'],
    maxConcurrentRequests: 4,
    capSource: 'config',
    weight: 1,
    api: 'openai',
    timeouts: { connectMs: 2000, firstTokenMs: 10_000, stallMs: 10_000, totalMs: 20_000 },
    ...over,
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Awaits `p` and returns the FleetError it rejects with (failing the test if it resolves or throws something else). */
export async function fleetErrorOf(p: Promise<unknown>): Promise<FleetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FleetError);
    return e as FleetError;
  }
  throw new Error('expected a FleetError, but the call succeeded');
}

export async function expectFleetError(p: Promise<unknown>, code: FleetErrorCode): Promise<FleetError> {
  const err = await fleetErrorOf(p);
  expect(err.code, err.message).toBe(code);
  return err;
}

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json(): Record<string, unknown>;
}

export type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  requests: Received[];
  /** Requests whose client went away before the response ended. */
  clientGone: number;
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1:0 whose answers a test scripts. */
export async function startServer(handler: Handler): Promise<TestServer> {
  let h = handler;
  const sockets = new Set<Socket>();
  const state: TestServer = {
    url: '',
    port: 0,
    requests: [],
    clientGone: 0,
    setHandler: (next) => {
      h = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const r: Received = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json: () => JSON.parse(body) as Record<string, unknown>,
      };
      state.requests.push(r);
      res.on('close', () => {
        if (!res.writableFinished) state.clientGone++;
      });
      Promise.resolve(h(r, res, req)).catch(() => res.destroy());
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

export const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes pieces with pauses so the client reads them separately. */
export async function writeSlowly(
  res: ServerResponse,
  pieces: Array<string | Buffer>,
  gapMs = 5,
): Promise<void> {
  for (const p of pieces) {
    if (res.destroyed) return;
    res.write(p);
    await sleep(gapMs);
  }
}

export function sseHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** An OpenAI chunk's JSON with `content`. */
export function chunk(content: string | null, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  });
}

export function finishChunk(reason = 'stop', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: {}, finish_reason: reason }],
    ...extra,
  });
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
