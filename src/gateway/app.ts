import { Hono } from 'hono';
import { sequentialIds } from '../core/ids.ts';
import { dashboardAsset } from '../dashboard/index.ts';
import { presentedKey } from './auth.ts';
import { recordRequest, type Ctx, type Gateway, type GatewayEnv } from './context.ts';
import { HttpError, toHttpError } from './errors.ts';
import { header } from './node-req.ts';
import { registerFleetRoutes } from './fleet-routes.ts';
import { registerOllamaRoutes } from './ollama-routes.ts';
import { registerOpenAiRoutes } from './openai-routes.ts';

/** Paths anyone may read: liveness, readiness, and the dashboard's static files (its data needs the key). */
const PUBLIC = /^\/(?:health|ready|favicon\.ico|dashboard\/[\w.-]+)?$/;
/** Paths whose key may also come as `?key=` (EventSource cannot send headers). */
const QUERY_KEY = new Set(['/fleet/events', '/fleet/status']);

const INFERENCE_API = new Set(['/api/chat', '/api/generate', '/api/embed', '/api/embeddings']);
/** Inference routes go to the "recent requests" list; the rest are only logged at debug. */
const isInference = (method: string, path: string) =>
  method === 'POST' && (path.startsWith('/v1/') || INFERENCE_API.has(path));

function errorResponse(path: string, e: HttpError): Response {
  const headers = { 'content-type': 'application/json', ...e.headers };
  // Ollama's routes answer in Ollama's error shape, the rest in OpenAI's.
  const body = path.startsWith('/api/') ? { error: e.message } : e.body();
  return new Response(JSON.stringify(body), { status: e.status, headers });
}

/** The gateway's routes as a Hono app (`app.request()` works without a socket). */
export function createGatewayApp(g: Gateway): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const nextId = sequentialIds('req-');

  app.use('*', async (c, next) => {
    c.set('t0', g.clock.now());
    c.set('reqId', header(c as Ctx, 'x-request-id') ?? nextId());
    c.set('stream', false);
    c.set('deferred', false);
    c.set('model', undefined);
    c.set('worker', undefined);
    c.set('errorCode', undefined);
    await next();
    const status = c.res.status;
    g.metrics.http.inc({ route: c.req.routePath, status: String(status) });
    if (c.get('deferred')) return;
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', c.get('reqId'));
    if (isInference(c.req.method, c.req.path)) recordRequest(c as Ctx, g, status);
    else g.log.debug({ reqId: c.get('reqId'), method: c.req.method, path: c.req.path, status }, 'request');
  });

  app.use('*', async (c, next) => {
    if (!g.keys.enabled || PUBLIC.test(c.req.path)) return next();
    const key =
      presentedKey((name) => header(c as Ctx, name)) ??
      (QUERY_KEY.has(c.req.path) ? c.req.query('key') : undefined);
    if (g.keys.check(key)) return next();
    throw new HttpError(
      401,
      'authentication_error',
      'invalid_api_key',
      key === undefined
        ? 'missing API key: send "Authorization: Bearer <key>"'
        : 'invalid API key (check the key the gateway was started with)',
      { 'www-authenticate': 'Bearer' },
    );
  });

  app.onError((err, c) => {
    const e = toHttpError(err);
    c.set('errorCode', e.code);
    if (e.status >= 500 && !(err instanceof HttpError))
      g.log.warn({ reqId: c.get('reqId'), code: e.code, err: e.message }, 'request failed');
    return errorResponse(c.req.path, e);
  });

  app.get('/', (c) => {
    const a = dashboardAsset('index.html')!;
    return c.body(new Uint8Array(a.body), 200, {
      'content-type': a.contentType,
      'cache-control': 'no-cache',
    });
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/dashboard/:file', (c) => {
    const a = dashboardAsset(c.req.param('file'));
    if (!a) return c.notFound();
    return c.body(new Uint8Array(a.body), 200, {
      'content-type': a.contentType,
      'cache-control': 'no-cache',
    });
  });

  registerOpenAiRoutes(app, g);
  registerOllamaRoutes(app, g);
  registerFleetRoutes(app, g);

  app.notFound((c) =>
    errorResponse(
      c.req.path,
      new HttpError(404, 'invalid_request_error', 'unknown_route', `no route ${c.req.method} ${c.req.path}`),
    ),
  );
  return app;
}
