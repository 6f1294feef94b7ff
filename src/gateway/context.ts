import type { Context } from 'hono';
import type { Logger } from 'pino';
import { Cancel, type AbortLike } from '../core/cancel.ts';
import type { Clock } from '../core/clock.ts';
import type { ChatMessage } from '../core/openai.ts';
import type { Fleet, Priority, ReloadResult, RequestOptions } from '../fleet/index.ts';
import { affinityKeyOf } from './affinity.ts';
import type { KeyChecker } from './auth.ts';
import { badRequest } from './errors.ts';
import {
  alreadySent,
  header,
  nodeResponse,
  onClientGone,
  readBodyText,
  type NodeBindings,
} from './node-req.ts';
import type { LiveFeed } from './live.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RecentRequests } from './recent.ts';
import type { StreamOutcome } from './stream-out.ts';

/** Everything the routes share. */
export interface Gateway {
  fleet: Fleet;
  clock: Clock;
  log: Logger;
  keys: KeyChecker;
  recent: RecentRequests;
  live: LiveFeed;
  metrics: GatewayMetrics;
  keepAliveMs: number;
  logBodies: boolean;
  /** Largest request body in bytes; larger gets 413. */
  maxBodyBytes: number;
  isDraining(): boolean;
  reload(): Promise<ReloadResult>;
}

/** Per-request values the routes hand to the logging/recording middleware. */
export interface RequestVars {
  reqId: string;
  t0: number;
  model: string | undefined;
  worker: string | undefined;
  stream: boolean;
  errorCode: string | undefined;
  /** The route records the request itself when its stream ends. */
  deferred: boolean;
}

export type GatewayEnv = { Variables: RequestVars; Bindings: NodeBindings };
export type Ctx = Context<GatewayEnv>;

/** Reads the JSON body; invalid JSON is a 400 that says where it broke. */
export async function readJson(c: Ctx, g: Gateway): Promise<unknown> {
  const text = await readBodyText(c, g.maxBodyBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw badRequest(`invalid JSON body: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (g.logBodies) g.log.info({ reqId: c.get('reqId'), body }, 'request body');
  return body;
}

/**
 * Fleet options of a request: client disconnect aborts it; `x-fleet-affinity` or the hash of the
 * leading messages is the affinity key; `x-fleet-priority: batch` lets interactive traffic first.
 */
export function fleetOptions(c: Ctx, signal: AbortLike, messages?: readonly ChatMessage[]): RequestOptions {
  const opts: RequestOptions = { signal };
  const key = header(c, 'x-fleet-affinity') ?? (messages ? affinityKeyOf(messages) : undefined);
  if (key !== undefined && key !== '') opts.affinityKey = key;
  const p = header(c, 'x-fleet-priority');
  if (p !== undefined) {
    if (p !== 'interactive' && p !== 'batch')
      throw badRequest(`x-fleet-priority: expected "interactive" or "batch", got "${p}"`, 'x-fleet-priority');
    opts.priority = p satisfies Priority;
  }
  return opts;
}

/** A Cancel (a cheap AbortController) that fires when the client disconnects. */
export function clientAbort(c: Ctx): Cancel {
  const ac = new Cancel();
  onClientGone(c, (reason) => ac.abort(reason));
  return ac;
}

/** Records and logs a finished request (streams call it when they end). */
export function recordRequest(c: Ctx, g: Gateway, status: number, extra: Partial<StreamOutcome> = {}): void {
  const latencyMs = g.clock.now() - c.get('t0');
  const meta = extra.meta;
  const worker = meta?.worker ?? c.get('worker');
  const error = extra.error?.code ?? c.get('errorCode');
  const path = c.req.path;
  const rec = g.recent.add({
    id: c.get('reqId'),
    at: g.clock.wallNow(),
    method: c.req.method,
    path,
    model: c.get('model'),
    worker,
    status,
    latencyMs,
    ttftMs: meta?.ttftMs,
    outputTokens: meta?.outputTokens,
    stream: c.get('stream'),
    error,
  });
  g.log.info(
    {
      reqId: rec.id,
      method: rec.method,
      path,
      status,
      ms: Math.round(latencyMs * 10) / 10,
      model: rec.model,
      worker,
      stream: rec.stream,
      ...(error === undefined ? {} : { error }),
    },
    'request',
  );
}

/**
 * A successful inference answer as JSON. On a Node server it is written straight to Node's
 * response (no web Response and Headers to build and copy back) and the request is recorded after
 * the bytes went out, off the client's critical path; under `app.request()` it is `c.json`.
 */
export function answerJson(c: Ctx, g: Gateway, body: unknown, worker: string): Response {
  const outgoing = nodeResponse(c);
  c.set('worker', worker);
  if (outgoing === undefined) return c.json(body, 200, { 'x-fleet-worker': worker });
  const text = JSON.stringify(body);
  outgoing.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-fleet-worker': worker,
    'x-request-id': c.get('reqId'),
  });
  outgoing.end(text);
  c.set('deferred', true);
  recordRequest(c, g, 200);
  return alreadySent();
}
