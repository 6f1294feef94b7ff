import { formatSseData } from '../core/sse.ts';
import { isUp, type Gateway } from './context.ts';
import { HttpError } from './errors.ts';
import type { AddRoute } from './router.ts';

/** `/health`, `/ready`, `/metrics`, `/fleet/status`, `/fleet/events`, `POST /fleet/reload`. */
export function registerFleetRoutes(route: AddRoute, g: Gateway): void {
  route('GET', '/health', (c) => c.json(200, { status: 'ok' }));

  route('GET', '/ready', (c) => {
    const workers = g.fleet.stats().workers;
    const healthy = workers.filter((w) => isUp(w.state)).length;
    const ready = healthy > 0 && !g.isDraining();
    const body = {
      status: ready ? 'ready' : 'unavailable',
      healthy,
      workers: workers.length,
      ...(g.isDraining() ? { reason: 'draining' } : healthy === 0 ? { reason: 'no healthy worker' } : {}),
    };
    c.json(ready ? 200 : 503, body);
  });

  route('GET', '/metrics', async (c) =>
    c.send(200, { 'content-type': g.metrics.contentType }, await g.metrics.text()),
  );

  route('GET', '/fleet/status', (c) => c.json(200, { draining: g.isDraining(), ...g.fleet.stats() }));

  route('POST', '/fleet/reload', async (c) => {
    try {
      c.json(200, { ok: true, ...(await g.reload()) });
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

  // The dashboard's live feed: one SSE event per snapshot, until the client or the feed closes.
  route('GET', '/fleet/events', (c) => {
    const res = c.outgoing;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-request-id': c.reqId,
    });
    if (c.incoming.method === 'HEAD') return void res.end(); // headers only: no feed to follow
    const unsubscribe = g.live.subscribe(
      (event, data) => {
        if (!res.writableEnded) res.write(`event: ${event}\n${formatSseData(data)}`);
      },
      () => res.end(),
    );
    res.once('close', unsubscribe);
  });
}
