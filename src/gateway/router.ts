import type { IncomingMessage, ServerResponse } from 'node:http';
import { sequentialIds } from '../core/ids.ts';
import { dashboardAsset } from '../dashboard/index.ts';
import { presentedKey } from './auth.ts';
import { Call } from './call.ts';
import { recordRequest, type Gateway } from './context.ts';
import { HttpError, toHttpError } from './errors.ts';
import { registerFleetRoutes } from './fleet-routes.ts';
import { registerOllamaRoutes } from './ollama-routes.ts';
import { registerOpenAiRoutes } from './openai-routes.ts';

/** A route's handler: it writes its answer to `c.outgoing` (or throws, and the router answers). */
export type Handler = (c: Call) => void | Promise<void>;
/**
 * Registers a route. A path ending in `/:name` matches every path under its prefix (the handler
 * reads the rest with `c.param()`); any other path matches exactly. POSTs under `/v1/` and `/api/`
 * are inference requests (recorded for the dashboard's recent list) unless `lookup` says otherwise.
 */
export type AddRoute = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  handler: Handler,
  opts?: { lookup?: true },
) => void;

interface Route {
  /** The metrics label. */
  pattern: string;
  handler: Handler;
  /** Inference routes go to the "recent requests" list; the rest are only logged at debug. */
  inference: boolean;
}

/** Paths anyone may read: liveness, readiness, and the dashboard's static files (its data needs the key). */
const PUBLIC = /^\/(?:health|ready|favicon\.ico|dashboard\/[\w.-]+)?$/;
/** Paths whose key may also come as `?key=` (EventSource cannot send headers). */
const QUERY_KEY = new Set(['/fleet/events', '/fleet/status']);
const DASHBOARD = '/dashboard/';

/**
 * The gateway's request listener for `node:http`: CORS when enabled, routes by method and exact
 * path or by prefix (`/v1/models/:model`, the dashboard's files), API keys, request ids, errors in
 * OpenAI's shape (Ollama's on `/api/`), the per-route request counter, and the recent-requests
 * record of every inference request.
 */
export function createGatewayHandler(g: Gateway): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = new Map<string, Route>();
  /** Routes by prefix (`/:name` at the end), as [method + ' ' + prefix, route]. */
  const prefixed: Array<[string, Route]> = [];
  const add: AddRoute = (method, path, handler, opts) => {
    const inference =
      method === 'POST' && (path.startsWith('/v1/') || path.startsWith('/api/')) && opts?.lookup !== true;
    const route: Route = { pattern: path, handler, inference };
    const param = /\/:\w+$/.exec(path);
    if (param === null) routes.set(`${method} ${path}`, route);
    else prefixed.push([`${method} ${path.slice(0, param.index + 1)}`, route]);
  };
  const byPrefix = (key: string): Route | undefined => {
    for (const [prefix, route] of prefixed)
      if (key.startsWith(prefix) && key.length > prefix.length) return route;
    return undefined;
  };
  registerOpenAiRoutes(add, g);
  registerOllamaRoutes(add, g);
  registerFleetRoutes(add, g);
  add('GET', '/', (c) => sendAsset(c, 'index.html'));
  add('GET', '/favicon.ico', (c) => c.send(204, {}));
  add('GET', `${DASHBOARD}:file`, (c) => sendAsset(c, c.path.slice(DASHBOARD.length)));

  const nextId = sequentialIds('req-');
  return (req, res) => {
    if (g.cors.enabled && g.cors.handle(req, res)) return; // a preflight, answered
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const id = req.headers['x-request-id'];
    const c = new Call(
      req,
      res,
      method,
      path,
      q < 0 ? '' : url.slice(q + 1),
      (Array.isArray(id) ? id[0] : id) ?? nextId(),
      g.clock.now(),
    );
    const key = `${method} ${path}`;
    const route = routes.get(key) ?? byPrefix(key);
    serve(g, c, route).catch((err: unknown) => {
      // Only the bookkeeping after the answer can land here; the answer must still end.
      g.log.error(
        { reqId: c.reqId, err: err instanceof Error ? err.message : String(err) },
        'request failed',
      );
      if (!res.writableEnded) res.destroy();
    });
  };
}

async function serve(g: Gateway, c: Call, route: Route | undefined): Promise<void> {
  try {
    authorize(g, c);
    if (route === undefined) throw unknownRoute(c);
    c.route = route.pattern;
    await route.handler(c);
  } catch (err) {
    const e = toHttpError(err);
    c.errorCode = e.code;
    if (e.status >= 500 && !(err instanceof HttpError))
      g.log.warn({ reqId: c.reqId, code: e.code, err: e.message }, 'request failed');
    if (!c.outgoing.headersSent) {
      // Ollama's routes answer in Ollama's error shape, the rest in OpenAI's.
      c.json(e.status, c.path.startsWith('/api/') ? { error: e.message } : e.body(), { ...e.headers });
    } else c.outgoing.end();
  }
  c.finish();
  const status = c.outgoing.statusCode;
  g.metrics.answered(c.route, status);
  if (c.deferred) return;
  if (route?.inference === true && !c.lookup) recordRequest(c, g, status);
  else g.log.debug({ reqId: c.reqId, method: c.method, path: c.path, status }, 'request');
}

function authorize(g: Gateway, c: Call): void {
  if (!g.keys.enabled || PUBLIC.test(c.path)) return;
  const key =
    presentedKey((name) => c.header(name)) ?? (QUERY_KEY.has(c.path) ? c.queryParam('key') : undefined);
  if (g.keys.check(key)) return;
  throw new HttpError(
    401,
    'authentication_error',
    'invalid_api_key',
    key === undefined
      ? 'missing API key: send "Authorization: Bearer <key>"'
      : 'invalid API key (check the key the gateway was started with)',
    { 'www-authenticate': 'Bearer' },
  );
}

function sendAsset(c: Call, name: string): void {
  const a = dashboardAsset(name);
  if (!a) throw unknownRoute(c);
  c.send(200, { 'content-type': a.contentType, 'cache-control': 'no-cache' }, a.body);
}

const unknownRoute = (c: Call) =>
  new HttpError(404, 'invalid_request_error', 'unknown_route', `no route ${c.method} ${c.path}`);
