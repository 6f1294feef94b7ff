import type { Hono } from 'hono';
import { formatSseData } from '../core/sse.ts';
import type { Gateway, GatewayEnv } from './context.ts';
import { HttpError } from './errors.ts';

const encoder = new TextEncoder();
const isUp = (s: string) => s === 'healthy' || s === 'degraded';

/** `/health`, `/ready`, `/metrics`, `/fleet/status`, `/fleet/events`, `POST /fleet/reload`. */
export function registerFleetRoutes(app: Hono<GatewayEnv>, g: Gateway): void {
  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', (c) => {
    const workers = g.fleet.stats().workers;
    const healthy = workers.filter((w) => isUp(w.state)).length;
    const ready = healthy > 0 && !g.isDraining();
    const body = {
      status: ready ? 'ready' : 'unavailable',
      healthy,
      workers: workers.length,
      ...(g.isDraining() ? { reason: 'draining' } : healthy === 0 ? { reason: 'no healthy worker' } : {}),
    };
    return c.json(body, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) =>
    c.body(await g.metrics.text(), 200, { 'content-type': g.metrics.contentType }),
  );

  app.get('/fleet/status', (c) => c.json({ draining: g.isDraining(), ...g.fleet.stats() }));

  app.post('/fleet/reload', async (c) => {
    try {
      return c.json({ ok: true, ...(await g.reload()) });
    } catch (e) {
      throw e instanceof HttpError
        ? e
        : new HttpError(
            400,
            'invalid_request_error',
            'reload_failed',
            `reload failed, config unchanged: ${e instanceof Error ? e.message : String(e)}`,
          );
    }
  });

  app.get('/fleet/events', (c) => {
    let unsubscribe: (() => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (event: string, data: unknown) => {
          try {
            controller.enqueue(encoder.encode(`event: ${event}\n${formatSseData(data)}`));
          } catch {
            unsubscribe?.(); // closed under us
          }
        };
        unsubscribe = g.live.subscribe(send, () => {
          try {
            controller.close();
          } catch {
            // already closed
          }
        });
      },
      cancel() {
        unsubscribe?.();
      },
    });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        'x-request-id': c.get('reqId'),
      },
    });
  });
}
