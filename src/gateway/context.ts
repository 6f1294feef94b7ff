import type { Logger } from 'pino';
import { Cancel, type AbortLike } from '../core/cancel.ts';
import type { Clock } from '../core/clock.ts';
import type { ChatMessage } from '../core/openai.ts';
import type { Fleet, FleetStream, Priority, ReloadResult, RequestOptions } from '../fleet/index.ts';
import { affinityKeyOf } from './affinity.ts';
import type { KeyChecker } from './auth.ts';
import type { Call } from './call.ts';
import type { Cors } from './cors.ts';
import { badRequest } from './errors.ts';
import type { LiveFeed } from './live.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RecentRequests } from './recent.ts';
import type { ResponseItems } from './response-items.ts';
import { streamResponse, type StreamFormat, type StreamOutcome } from './stream-out.ts';

/** A worker state that takes requests. */
export const isUp = (s: string): boolean => s === 'healthy' || s === 'degraded';

/** Everything the routes share. */
export interface Gateway {
  fleet: Fleet;
  clock: Clock;
  log: Logger;
  keys: KeyChecker;
  cors: Cors;
  recent: RecentRequests;
  /** Output items of recent Responses API answers, for `item_reference` inputs. */
  responseItems: ResponseItems;
  live: LiveFeed;
  metrics: GatewayMetrics;
  keepAliveMs: number;
  logBodies: boolean;
  /** Largest request body in bytes; larger gets 413. */
  maxBodyBytes: number;
  isDraining(): boolean;
  reload(): Promise<ReloadResult>;
}

/** Reads the JSON body; invalid JSON is a 400 that says where it broke. */
export async function readJson(c: Call, g: Gateway): Promise<unknown> {
  const text = await c.readBody(g.maxBodyBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw badRequest(`invalid JSON body: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (g.logBodies) g.log.info({ reqId: c.reqId, body }, 'request body');
  return body;
}

/**
 * Fleet options of a request: client disconnect aborts it; `x-fleet-affinity` or the hash of the
 * leading messages is the affinity key; `x-fleet-priority: batch` lets interactive traffic first.
 */
export function fleetOptions(c: Call, signal: AbortLike, messages?: readonly ChatMessage[]): RequestOptions {
  const opts: RequestOptions = { signal };
  const key = c.header('x-fleet-affinity') ?? (messages ? affinityKeyOf(messages) : undefined);
  if (key !== undefined && key !== '') opts.affinityKey = key;
  const p = c.header('x-fleet-priority');
  if (p !== undefined) {
    if (p !== 'interactive' && p !== 'batch')
      throw badRequest(`x-fleet-priority: expected "interactive" or "batch", got "${p}"`, 'x-fleet-priority');
    opts.priority = p satisfies Priority;
  }
  return opts;
}

/** A Cancel (a cheap AbortController) that fires when the client disconnects. */
export function clientAbort(c: Call): Cancel {
  const ac = new Cancel();
  c.onClientGone((reason) => ac.abort(reason));
  return ac;
}

/** Records and logs a finished inference request (streams call it when they end). */
export function recordRequest(c: Call, g: Gateway, status: number, extra: Partial<StreamOutcome> = {}): void {
  const latencyMs = g.clock.now() - c.t0;
  const meta = extra.meta;
  const worker = meta?.worker ?? c.worker;
  const error = extra.error?.code ?? c.errorCode;
  const rec = g.recent.add({
    seq: 0,
    id: c.reqId,
    at: g.clock.wallNow(),
    method: c.method,
    path: c.path,
    model: c.model,
    worker,
    status,
    latencyMs,
    ttftMs: meta?.ttftMs,
    outputTokens: meta?.outputTokens,
    stream: c.stream,
    error,
  });
  if (!g.log.isLevelEnabled('info')) return; // no log object to build and throw away
  g.log.info(
    {
      reqId: rec.id,
      method: rec.method,
      path: rec.path,
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

/** A successful inference answer as JSON, naming the worker that served it. */
export function answerJson(c: Call, body: unknown, worker: string): void {
  c.worker = worker;
  c.json(200, body, { 'x-fleet-worker': worker });
}

/**
 * A chat stream as the answer, in `format`: written to Node's response as chunks arrive, and the
 * request recorded when the stream ends. A failure before the first chunk is thrown, for the
 * router to answer with its status.
 */
export async function answerStream(
  c: Call,
  g: Gateway,
  stream: FleetStream,
  abort: Cancel,
  format: StreamFormat,
): Promise<void> {
  c.stream = true;
  await streamResponse({
    stream,
    abort,
    format,
    keepAliveMs: g.keepAliveMs,
    clock: g.clock,
    headers: { 'x-request-id': c.reqId },
    onDone: (o) => recordRequest(c, g, o.status, o),
    outgoing: c.outgoing,
  });
  c.deferred = true;
}
