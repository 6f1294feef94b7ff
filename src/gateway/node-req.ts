import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { HttpError } from './errors.ts';

/*
 * Request access that goes to Node's own objects when the gateway runs under @hono/node-server.
 * Its lightweight Request builds a real web Request (a Headers copy, a ReadableStream over the
 * socket, an AbortController) the first time `body`, `json()`, `signal` or `headers` is touched;
 * that alone halved the requests/s one core serves (docs/performance.md "Gateway"). Under
 * `app.request()` (no Node objects) the same helpers fall back to the web Request.
 */

export interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

function nodeOf(c: Ctx): NodeBindings {
  const env: NodeBindings | undefined = c.env; // undefined under app.request() without an env
  return env ?? {};
}

/** Node's response object, when the gateway runs on a Node server (undefined under app.request()). */
export function nodeResponse(c: Ctx): ServerResponse | undefined {
  return nodeOf(c).outgoing;
}

/**
 * What a route returns once it wrote its answer to Node's response itself: @hono/node-server
 * leaves a response marked this way alone.
 */
export function alreadySent(): Response {
  return new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
}

/** One request header (the first value if repeated); `name` in lower case. */
export function header(c: Ctx, name: string): string | undefined {
  const incoming = nodeOf(c).incoming;
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function bodyTooLarge(max: number): HttpError {
  return new HttpError(
    413,
    'invalid_request_error',
    'body_too_large',
    `request body larger than ${max} bytes (start the gateway with a larger --max-body)`,
  );
}

/** The body as text, refusing (413) more than `max` bytes: by Content-Length first, else while reading. */
export async function readBodyText(c: Ctx, max: number): Promise<string> {
  const declared = Number(header(c, 'content-length') ?? NaN);
  if (declared > max) throw bodyTooLarge(max);
  const incoming = nodeOf(c).incoming;
  if (!incoming) {
    const buf = new Uint8Array(await c.req.arrayBuffer());
    if (buf.byteLength > max) throw bodyTooLarge(max);
    return new TextDecoder().decode(buf);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw bodyTooLarge(max);
    chunks.push(chunk);
  }
  return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
}

/** Calls `fn` once if the client goes away before the response is complete. */
export function onClientGone(c: Ctx, fn: (reason: Error) => void): void {
  const outgoing = nodeOf(c).outgoing;
  if (!outgoing) {
    const s = c.req.raw.signal;
    if (s.aborted) fn(new Error('client disconnected'));
    else s.addEventListener('abort', () => fn(new Error('client disconnected')), { once: true });
    return;
  }
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) fn(new Error('client disconnected'));
  });
}
