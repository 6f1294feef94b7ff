import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';

/**
 * One HTTP request to the gateway, on Node's own request and response objects: the routes read
 * headers and the body from `incoming` and write their answer to `outgoing` themselves. No web
 * Request, Response or Headers is built on the way (docs/performance.md "Gateway": that work
 * and its garbage were most of what a framework cost per request and per open stream).
 */
export class Call {
  /** The model the request asked for, once the route parsed the body. */
  model: string | undefined = undefined;
  /** The worker that answered. */
  worker: string | undefined = undefined;
  stream = false;
  /** Error code when the request failed. */
  errorCode: string | undefined = undefined;
  /** The route records the request itself when its stream ends. */
  deferred = false;
  /** An inference route answered without inference (an Ollama load request): not recorded as one. */
  lookup = false;
  /** The route's pattern, for the metrics label ('*' when none matched). */
  route = '*';
  /** The body was taken in one read() (see readBody). */
  #taken = false;

  constructor(
    readonly incoming: IncomingMessage,
    readonly outgoing: ServerResponse,
    /** Upper case; HEAD is served as GET (Node leaves the body out). */
    readonly method: string,
    readonly path: string,
    /** The raw query string, without '?'. */
    readonly query: string,
    readonly reqId: string,
    /** Arrival, on the gateway's clock. */
    readonly t0: number,
  ) {}

  /** One request header (the first value if repeated); `name` in lower case. */
  header(name: string): string | undefined {
    const v = this.incoming.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /**
   * For a route ending in `/:name`: the rest of the path after the route's prefix, URL-decoded (a
   * model id may hold `/` or `:`, sent encoded or not).
   */
  param(): string {
    const raw = this.path.slice(this.route.lastIndexOf('/') + 1);
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }

  /** One query parameter. */
  queryParam(name: string): string | undefined {
    return this.query === '' ? undefined : (new URLSearchParams(this.query).get(name) ?? undefined);
  }

  /**
   * The body as text, refusing (413) more than `max` bytes: by Content-Length first, else while
   * reading. Usually the whole body came in the packet with the headers: Node's parser has pushed
   * it one tick after the 'request' handlers ran, so when all Content-Length bytes are buffered
   * they are taken in one `read()`, without switching the stream to flowing mode (at 1,000 req/s,
   * when every request runs cold, that machinery took ~16 us of the path, the `read()` ~7;
   * docs/performance.md "Gateway"). Otherwise (pieces still to come, chunked bodies) it is read
   * with 'data'/'end' listeners (an async iterator over the stream costs ~3 KB of garbage and
   * several promises per request). After a single `read()` the router calls `finish()` once
   * the answer is under way, so the stream still ends as usual, off the request's path.
   */
  readBody(max: number): Promise<string> {
    const declared = Number(this.header('content-length') ?? NaN);
    if (declared > max) return Promise.reject(bodyTooLarge(max));
    const req = this.incoming;
    return new Promise<string>((resolve, reject) => {
      process.nextTick(() => {
        if (declared > 0 && req.readableLength === declared && req.readableFlowing === null) {
          this.#taken = true;
          resolve((req.read() as Buffer).toString('utf8'));
          return;
        }
        if (req.destroyed) reject(new Error('client disconnected before the body arrived'));
        else readByListeners(req, max, resolve, reject);
      });
    });
  }

  /**
   * Lets the request stream end once the answer is under way, when the body was taken in one
   * `read()`: nothing reads past its end otherwise, so it would emit no 'end' or 'close', and
   * Node's server keeps such a request referenced from its connection until the next one.
   */
  finish(): void {
    if (this.#taken) this.incoming.resume();
  }

  /** Calls `fn` once if the client goes away before the response is complete. */
  onClientGone(fn: (reason: Error) => void): void {
    const res = this.outgoing;
    // 'close' comes once per response: `on` spares the wrapper `once` builds per request.
    res.on('close', () => {
      if (!res.writableFinished) fn(new Error('client disconnected'));
    });
  }

  /** Writes a whole answer with its length and the request id. */
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Uint8Array): void {
    headers['x-request-id'] = this.reqId;
    if (body !== undefined)
      headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    this.outgoing.writeHead(status, headers);
    this.outgoing.end(body);
  }

  /** Writes `value` as a JSON answer. */
  json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    headers['content-type'] = 'application/json';
    this.send(status, headers, JSON.stringify(value));
  }
}

/** The body through 'data'/'end' listeners, for bodies that were not all there at once. */
function readByListeners(
  req: IncomingMessage,
  max: number,
  resolve: (text: string) => void,
  reject: (e: Error) => void,
): void {
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      cleanup();
      req.resume(); // let the rest drain so the answer can go out on this connection
      reject(bodyTooLarge(max));
    } else if (first === undefined) first = chunk;
    else (more ??= [first]).push(chunk);
  };
  const onEnd = () => {
    cleanup();
    resolve(more !== undefined ? Buffer.concat(more).toString('utf8') : (first?.toString('utf8') ?? ''));
  };
  const onError = (e: Error) => {
    cleanup();
    reject(e);
  };
  const onClose = () => {
    cleanup();
    reject(new Error('client disconnected before the body arrived'));
  };
  const cleanup = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
}

export function bodyTooLarge(max: number): HttpError {
  return new HttpError(
    413,
    'invalid_request_error',
    'body_too_large',
    `request body larger than ${max} bytes (start the gateway with a larger --max-body)`,
    // The rest of the body is not read: the connection closes after the answer.
    { connection: 'close' },
  );
}
