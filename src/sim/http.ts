import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorResponse } from './errors.ts';
import type { SimType } from './types.ts';

/** Small, allocation-light helpers for node:http (the hot path of instant mode). */

export const JSON_TYPE = 'application/json; charset=utf-8';

/** The `Server` header each real server sends (only where it is well known). */
const SERVER_HEADER: Partial<Record<SimType, string>> = {
  llama_cpp: 'llama.cpp',
  vllm: 'uvicorn',
  mlx: 'BaseHTTP/0.6 Python/3.12',
};

export function serverHeader(type: SimType): string | undefined {
  return SERVER_HEADER[type];
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  type?: SimType,
): void {
  if (res.headersSent || res.destroyed) return;
  const headers: string[] = ['Content-Type', contentType, 'Content-Length', String(Buffer.byteLength(body))];
  const server = type === undefined ? undefined : SERVER_HEADER[type];
  if (server !== undefined) headers.push('Server', server);
  res.writeHead(status, headers);
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, type?: SimType): void {
  send(res, status, JSON_TYPE, typeof body === 'string' ? body : JSON.stringify(body), type);
}

export function sendError(res: ServerResponse, e: ErrorResponse, type?: SimType): void {
  send(res, e.status, e.contentType, e.body, type);
}

/** Headers of a stream (SSE or NDJSON), written once the request holds a slot. */
export function streamHeaders(contentType: string, type: SimType): string[] {
  const h = ['Content-Type', contentType, 'Cache-Control', 'no-cache', 'X-Accel-Buffering', 'no'];
  const server = SERVER_HEADER[type];
  if (server !== undefined) h.push('Server', server);
  return h;
}

/** Reads the whole body as text, then calls `done` (never if the request errors). */
export function readBody(req: IncomingMessage, done: (body: string) => void): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => done(body));
  req.on('error', () => {
    /* the 'close' handler of the response accounts for it */
  });
}

/** Splits `/path?query` without allocating a URL object on the hot path. */
export function splitUrl(url: string | undefined): { path: string; query: string } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? { path: u, query: '' } : { path: u.slice(0, q), query: u.slice(q + 1) };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim();
}
