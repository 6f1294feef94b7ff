import type { IncomingMessage, ServerResponse } from 'node:http';
import { FleetError } from '../core/errors.ts';

/** Headers a browser app may read from our answers. */
const EXPOSED = 'x-fleet-worker, x-request-id, retry-after';

/**
 * Cross-origin access for browser apps (a chat UI on another port calling `/v1` directly), off
 * unless origins are given. An allowed Origin gets `Access-Control-Allow-Origin` on every answer,
 * errors and streams included, and its preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) a 204 without needing the API key, which browsers never send
 * on a preflight. Other origins get no CORS headers, so the browser keeps the answer from them.
 */
export class Cors {
  readonly enabled: boolean;
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  /** @param origins `*`, or origins as `scheme://host[:port]`. */
  constructor(origins: readonly string[]) {
    for (const o of origins) checkOrigin(o);
    this.#any = origins.includes('*');
    this.#origins = new Set(origins.map((o) => o.toLowerCase()));
    this.enabled = origins.length > 0;
  }

  /** `*`: pages of any origin may call the API. */
  get anyOrigin(): boolean {
    return this.#any;
  }

  /**
   * Sets the CORS headers when the request's Origin is allowed. Returns true when it answered a
   * preflight itself (nothing else must be written then).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || !(this.#any || this.#origins.has(origin.toLowerCase()))) return false;
    res.setHeader('access-control-allow-origin', this.#any ? '*' : origin);
    if (!this.#any) res.setHeader('vary', 'origin');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
      res.setHeader('access-control-expose-headers', EXPOSED);
      return false;
    }
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers':
        req.headers['access-control-request-headers'] ?? 'authorization, content-type',
      'access-control-max-age': '600',
      'content-length': 0,
    });
    res.end();
    return true;
  }
}

function checkOrigin(o: string): void {
  if (o === '*') return;
  const url = URL.canParse(o) ? new URL(o) : undefined;
  if (url === undefined || url.origin === 'null' || url.origin !== o.replace(/\/$/, '').toLowerCase())
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `CORS origin "${o}": expected * or an origin such as http://localhost:3000 (scheme://host[:port], no path)`,
    );
}
