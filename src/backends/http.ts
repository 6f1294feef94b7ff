import type { Dispatcher } from 'undici';
// Pool alone, not undici's index: the index also loads fetch, WebSocket, EventSource, the cache
// stores and mocks, ~10 MB of memory in every process that talks to a worker (measured with
// `npm run bench:gateway`; docs/performance.md "Gateway"). The package has no exports map, and
// the lockfile pins the version this path is checked against.
import Pool from 'undici/lib/dispatcher/pool.js';
import type { AbortLike } from '../core/cancel.ts';
import type { Clock } from '../core/clock.ts';
import { FleetError } from '../core/errors.ts';
import { Deadline, type DeadlineLimits } from './deadline.ts';
import { mapHttpError, mapTransportError } from './errors.ts';

/** Largest error body read before giving up on the rest (error bodies are small; garbage may not be). */
export const ERROR_BODY_LIMIT = 64 * 1024;

export interface HttpClientOptions {
  workerId: string;
  /** `scheme://host:port[/prefix]` (WorkerConfig.baseUrl). */
  baseUrl: string;
  clock: Clock;
  apiKey?: string | undefined;
  /** TCP connect timeout handed to undici. */
  connectMs: number;
  /** Pooled connections (>= the worker's cap, with room for probes and a raised cap). */
  connections: number;
  /** Use this dispatcher instead of a private Pool; it is not closed by close(). */
  dispatcher?: Dispatcher | undefined;
}

export interface SendSpec {
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortLike | undefined;
  limits: DeadlineLimits;
  /** Streams: the first-token timer runs until the first data chunk, not just the headers. */
  stream?: boolean;
}

/** The body of a response, read in full, for probes and error mapping. */
export interface TextResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  text: string;
}

/**
 * One worker's HTTP connection pool. Every exchange gets its own Deadline; the pool is plain
 * keep-alive HTTP/1.1 with pipelining 1 (a request never waits behind another on one socket).
 */
export class HttpClient {
  readonly workerId: string;
  readonly clock: Clock;
  readonly #origin: string;
  readonly #prefix: string;
  readonly #getHeaders: string[];
  readonly #jsonHeaders: string[];
  readonly #streamHeaders: string[];
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(o: HttpClientOptions) {
    this.workerId = o.workerId;
    this.clock = o.clock;
    const url = new URL(o.baseUrl);
    this.#origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    // The three header sets this client ever sends, built once (flat arrays: no per-request copy).
    const base = ['user-agent', 'llm-fleet'];
    if (o.apiKey) base.push('authorization', `Bearer ${o.apiKey}`);
    this.#getHeaders = [...base, 'accept', 'application/json'];
    this.#jsonHeaders = [...this.#getHeaders, 'content-type', 'application/json'];
    this.#streamHeaders = [
      ...base,
      'accept',
      'text/event-stream, application/x-ndjson',
      'content-type',
      'application/json',
    ];
    this.#ownsDispatcher = o.dispatcher === undefined;
    this.#dispatcher =
      o.dispatcher ??
      new Pool(this.#origin, {
        connections: o.connections,
        pipelining: 1,
        connect: { timeout: o.connectMs },
        // Our own Deadline (on the injected clock) owns header and body timing.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
  }

  /** Sends a request and resolves once the headers are in; the caller reads or closes the body. */
  send(spec: SendSpec): Promise<Exchange> {
    const deadline = new Deadline(this.clock, this.workerId, spec.limits, spec.signal);
    if (deadline.aborted) return Promise.reject(deadline.reason);
    const hasBody = spec.body !== undefined;
    const up = new Upstream();
    deadline.onAbort = (reason) => up.abort(reason);
    const headers = hasBody ? (spec.stream ? this.#streamHeaders : this.#jsonHeaders) : this.#getHeaders;
    try {
      this.#dispatcher.dispatch(
        {
          origin: this.#origin,
          path: this.#prefix + spec.path,
          method: spec.method,
          headers,
          body: hasBody ? JSON.stringify(spec.body) : null,
        },
        up,
      );
    } catch (err) {
      deadline.dispose();
      return Promise.reject(mapTransportError(err, this.workerId, 'request'));
    }
    return up.started.then(
      () => {
        if (!spec.stream) deadline.firstToken();
        return new Exchange(this.workerId, up, deadline, this.clock);
      },
      (err: unknown) => {
        if (deadline.aborted) throw deadline.reason;
        deadline.dispose();
        throw mapTransportError(err, this.workerId, 'request');
      },
    );
  }

  /** Sends and reads the whole body as text, whatever the status. */
  async fetchText(spec: SendSpec): Promise<TextResponse> {
    const ex = await this.send(spec);
    const text = await ex.text(ex.ok ? Infinity : ERROR_BODY_LIMIT);
    return new WholeText(ex, text);
  }

  mapError(status: number, text: string, headers: TextResponse['headers']): FleetError {
    return mapHttpError(status, text, headers, this.workerId, this.clock.wallNow());
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

/**
 * A body read in full; its headers are parsed only if someone looks (error mapping, probes).
 * A class, not an object literal with a getter: V8 pretenures literal allocation sites whose
 * objects once survived, and a pretenured (old-space) object pointing at this request's young
 * buffers kept every request's garbage alive until a full GC (scavenges of 5+ ms instead of
 * under 1 ms, and a growing old space; docs/performance.md "Gateway").
 */
class WholeText implements TextResponse {
  readonly status: number;
  readonly text: string;
  readonly #ex: Exchange;
  constructor(ex: Exchange, text: string) {
    this.status = ex.status;
    this.text = text;
    this.#ex = ex;
  }
  get headers(): TextResponse['headers'] {
    return this.#ex.headers;
  }
}

/** Parses a 2xx body as JSON or throws FLEET_UPSTREAM_MALFORMED. */
export function parseJsonBody(r: TextResponse, workerId: string): unknown {
  try {
    return JSON.parse(r.text) as unknown;
  } catch {
    throw mapHttpError(r.status, r.text, r.headers, workerId);
  }
}

/** After the end of a stream's useful part ([DONE]), how much trailing body is read to keep the connection. */
const DRAIN_LIMIT_BYTES = 16 * 1024;
const DRAIN_MAX_MS = 1000;
/** Bytes received and not yet read by the consumer before undici is asked to pause the socket. */
const HIGH_WATER_BYTES = 256 * 1024;

type Headers = Dispatcher.ResponseData['headers'];

/** Raw header pairs (as undici hands them over) as the lower-cased record Node uses. */
function parseRawHeaders(raw: Buffer[] | string[] | null): Headers {
  const out: Headers = {};
  if (raw === null) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!.toString().toLowerCase();
    const value = raw[i + 1]!.toString();
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

/**
 * undici's dispatch handler for one request: it takes the response straight from the parser
 * (no Readable stream, no AbortSignal, no per-chunk promise when the consumer is not waiting)
 * and hands chunks to one consumer, pausing the socket when that consumer falls behind.
 * This is the hot path of every proxied request; `request()` costs ~25 % more per exchange.
 */
class Upstream implements Dispatcher.DispatchHandler {
  status = 0;
  #raw: Buffer[] | string[] | null = null;
  #headers: Headers | undefined;
  /** Resolves at the response headers; rejects when the request fails before them. */
  readonly started: Promise<void>;
  #startOk!: () => void;
  #startFail!: (err: unknown) => void;
  #chunks: Buffer[] = [];
  #head = 0;
  #queued = 0;
  #done = false;
  #error: Error | undefined;
  #waiter: (() => void) | undefined;
  #undiciAbort: ((reason?: Error) => void) | undefined;
  #pendingAbort: Error | undefined;
  #resume: (() => void) | undefined;
  #paused = false;
  /** Set by discard(): chunks are counted and dropped instead of queued. */
  #discarding = false;
  #discarded = 0;
  #onDiscardOver: (() => void) | undefined;
  #onEnd: (() => void) | undefined;

  constructor() {
    this.started = new Promise<void>((ok, fail) => {
      this.#startOk = ok;
      this.#startFail = fail;
    });
    // A failure before the headers is reported through started; nobody else may be listening.
    this.started.catch(() => undefined);
  }

  /**
   * Parsed on first use: most exchanges only ever look at one header, many at none. The raw pairs
   * (a Buffer each) are dropped once parsed: a stream would otherwise hold them to its end.
   */
  get headers(): Headers {
    if (this.#headers === undefined) {
      this.#headers = parseRawHeaders(this.#raw);
      this.#raw = null;
    }
    return this.#headers;
  }

  get finished(): boolean {
    return this.#done || this.#error !== undefined;
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#undiciAbort = abort;
    if (this.#pendingAbort !== undefined) abort(this.#pendingAbort);
  }

  onHeaders(status: number, raw: Buffer[] | string[] | null, resume: () => void): boolean {
    if (status < 200) return true; // 1xx: the real response follows
    this.status = status;
    this.#raw = raw;
    this.#resume = resume;
    this.#startOk();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#discarding) {
      this.#discarded += chunk.length;
      if (this.#discarded > DRAIN_LIMIT_BYTES) this.#onDiscardOver?.();
      return true;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.#wake();
    if (this.#queued < HIGH_WATER_BYTES) return true;
    this.#paused = true;
    return false;
  }

  onComplete(): void {
    this.#done = true;
    this.#wake();
    this.#onEnd?.();
  }

  onError(err: Error): void {
    if (this.#error !== undefined || this.#done) return;
    this.#error = err;
    this.#startFail(err);
    this.#wake();
    this.#onEnd?.();
  }

  /** Ends the request now (undici destroys it, and the socket if the response was under way). */
  abort(reason: Error): void {
    if (this.#done) return;
    if (this.#undiciAbort !== undefined) this.#undiciAbort(reason);
    else this.#pendingAbort = reason;
    this.onError(reason);
  }

  /** The next chunk, undefined at the end; throws the transport error. Null: wait first. */
  next(): Buffer | undefined | null {
    if (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head]!;
      this.#chunks[this.#head++] = undefined as unknown as Buffer;
      if (this.#head === this.#chunks.length) {
        this.#chunks.length = 0;
        this.#head = 0;
      }
      this.#queued -= c.length;
      if (this.#paused && this.#queued < HIGH_WATER_BYTES >> 1) {
        this.#paused = false;
        this.#resume?.();
      }
      return c;
    }
    if (this.#error !== undefined) throw this.#error;
    return this.#done ? undefined : null;
  }

  /** Resolves when there is something for next(). */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.#waiter = resolve));
  }

  /** Everything left, once the body ended (throws the transport error). */
  async rest(): Promise<Buffer> {
    while (!this.finished) await this.wait();
    if (this.#error !== undefined) throw this.#error;
    return this.#takeAll();
  }

  /** Everything left when the body has already ended without error; undefined otherwise. */
  restIfDone(): Buffer | undefined {
    return this.#done && this.#error === undefined ? this.#takeAll() : undefined;
  }

  #takeAll(): Buffer {
    const parts = this.#head === 0 ? this.#chunks : this.#chunks.slice(this.#head);
    this.#chunks = [];
    this.#head = this.#queued = 0;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Drops what is queued and what follows; `over` runs if more than DRAIN_LIMIT_BYTES follow. */
  discard(over: () => void, end: () => void): void {
    this.#discarding = true;
    this.#chunks = [];
    this.#head = this.#queued = 0;
    this.#onDiscardOver = over;
    this.#onEnd = end;
    if (this.#paused) {
      this.#paused = false;
      this.#resume?.();
    }
    if (this.finished) end();
  }

  #wake(): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w();
    }
  }
}

/** One response in flight: its status, headers and a guarded body. */
export class Exchange {
  readonly status: number;
  readonly #worker: string;
  readonly #up: Upstream;
  readonly #deadline: Deadline;
  readonly #clock: Clock;
  #finished = false;

  constructor(workerId: string, up: Upstream, deadline: Deadline, clock: Clock) {
    this.#worker = workerId;
    this.#up = up;
    this.status = up.status;
    this.#deadline = deadline;
    this.#clock = clock;
  }

  get headers(): Headers {
    return this.#up.headers;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get contentType(): string {
    const v = this.headers['content-type'];
    return (Array.isArray(v) ? v[0] : v) ?? '';
  }

  /** Marks the first data chunk of a stream (switches from the first-token to the stall timer). */
  firstToken(): void {
    this.#deadline.firstToken();
  }

  /** The Deadline's reason when it ended the exchange, else the transport error as a FleetError. */
  #mapError(err: unknown): FleetError {
    return this.#deadline.aborted
      ? this.#deadline.reason
      : mapTransportError(err, this.#worker, 'body', this.status);
  }

  /**
   * The body's next bytes, undefined at its end: one promise per chunk and no generator, for
   * the readers that pull every chunk of a stream (readSseChat). Errors come out as FleetErrors:
   * the Deadline's reason when it ended the exchange (abort, timeout), else
   * FLEET_UPSTREAM_STREAM_ENDED for a connection lost mid-body.
   */
  async read(): Promise<Uint8Array | undefined> {
    const up = this.#up;
    for (;;) {
      let chunk: Buffer | undefined | null;
      try {
        chunk = up.next();
      } catch (err) {
        throw this.#mapError(err);
      }
      if (chunk === undefined) {
        this.#finished = true;
        return undefined;
      }
      if (chunk !== null) return chunk;
      this.#deadline.waitStart();
      try {
        await up.wait();
      } finally {
        this.#deadline.waitEnd();
      }
      if (this.#deadline.aborted) throw this.#deadline.reason;
    }
  }

  /** The body's bytes as an async iterable (see read()). */
  async *body(): AsyncGenerator<Uint8Array> {
    for (let chunk = await this.read(); chunk !== undefined; chunk = await this.read()) yield chunk;
  }

  /** Reads the body as UTF-8 text, up to `limit` characters (the rest is dropped with the connection). */
  async text(limit = Infinity): Promise<string> {
    try {
      // A body that has all arrived is taken at once, without the stall timer or a wait: a JSON
      // answer usually comes in the packet with its headers, and undici has parsed all of it
      // before the headers' promise is handled (docs/performance.md "Gateway").
      const arrived = this.#up.restIfDone();
      if (arrived !== undefined) {
        this.#finished = true;
        const all = arrived.toString('utf8');
        return all.length > limit ? all.slice(0, limit) : all;
      }
      if (limit === Infinity) {
        let all: Buffer;
        this.#deadline.waitStart();
        try {
          all = await this.#up.rest();
        } catch (err) {
          throw this.#mapError(err);
        } finally {
          this.#deadline.waitEnd();
        }
        this.#finished = true;
        return all.toString('utf8');
      }
      const decoder = new TextDecoder();
      let out = '';
      for await (const chunk of this.body()) {
        out += decoder.decode(chunk, { stream: true });
        if (out.length >= limit) return out.slice(0, limit);
      }
      return out + decoder.decode();
    } finally {
      this.close();
    }
  }

  /**
   * Ends the exchange: timers stop; a body not read to the end is destroyed (closing its
   * connection), so the server sees the client go and can stop generating.
   */
  close(reason?: FleetError): void {
    if (this.#finished || this.#up.finished) {
      this.#finished = true;
      this.#deadline.dispose();
      return;
    }
    this.#finished = true;
    this.#deadline.abort(
      reason ??
        new FleetError('FLEET_ABORTED', `${this.#worker}: response abandoned by the consumer`, {
          worker: this.#worker,
        }),
    );
  }

  /**
   * Ends an exchange whose useful part is over (a stream after `[DONE]`): the little that may
   * follow is read in the background so the keep-alive connection can be reused; if more than a
   * few KiB follow, or the body does not end within a second, the connection is dropped instead.
   */
  release(): void {
    this.#deadline.dispose();
    if (this.#finished) return;
    this.#finished = true;
    const up = this.#up;
    const drop = () => up.abort(new FleetError('FLEET_ABORTED', `${this.#worker}: trailing body dropped`));
    const timer = this.#clock.setTimeout(drop, DRAIN_MAX_MS);
    up.discard(drop, () => this.#clock.clearTimeout(timer));
  }
}
