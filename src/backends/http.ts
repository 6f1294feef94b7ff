import { Pool, type Dispatcher } from 'undici';
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
  signal?: AbortSignal | undefined;
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
  readonly #headers: Record<string, string>;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(o: HttpClientOptions) {
    this.workerId = o.workerId;
    this.clock = o.clock;
    const url = new URL(o.baseUrl);
    this.#origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#headers = { 'user-agent': 'llm-fleet' };
    if (o.apiKey) this.#headers['authorization'] = `Bearer ${o.apiKey}`;
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
  async send(spec: SendSpec): Promise<Exchange> {
    const deadline = new Deadline(this.clock, this.workerId, spec.limits, spec.signal);
    if (deadline.aborted) throw deadline.reason;
    const headers: Record<string, string> = { ...this.#headers };
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    headers['accept'] = spec.stream ? 'text/event-stream, application/x-ndjson' : 'application/json';
    try {
      const res = await this.#dispatcher.request({
        origin: this.#origin,
        path: this.#prefix + spec.path,
        method: spec.method,
        headers,
        body: body ?? null,
        signal: deadline.signal,
      });
      if (!spec.stream) deadline.firstToken();
      return new Exchange(this.workerId, res, deadline, this.clock);
    } catch (err) {
      if (deadline.aborted) throw deadline.reason;
      deadline.dispose();
      throw mapTransportError(err, this.workerId, 'request');
    }
  }

  /** Sends and reads the whole body as text, whatever the status. */
  async fetchText(spec: SendSpec): Promise<TextResponse> {
    const ex = await this.send(spec);
    const text = await ex.text(ex.ok ? Infinity : ERROR_BODY_LIMIT);
    return { status: ex.status, headers: ex.headers, text };
  }

  mapError(status: number, text: string, headers: TextResponse['headers']): FleetError {
    return mapHttpError(status, text, headers, this.workerId, this.clock.wallNow());
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
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

const noop = (): void => undefined;

/** After the end of a stream's useful part ([DONE]), how much trailing body is read to keep the connection. */
const DRAIN_LIMIT_BYTES = 16 * 1024;
const DRAIN_MAX_MS = 1000;

/** One response in flight: its status, headers and a guarded body. */
export class Exchange {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly #worker: string;
  readonly #res: Dispatcher.ResponseData;
  readonly #deadline: Deadline;
  readonly #clock: Clock;
  #it: AsyncIterator<Uint8Array> | undefined;
  #finished = false;

  constructor(workerId: string, res: Dispatcher.ResponseData, deadline: Deadline, clock: Clock) {
    this.#worker = workerId;
    this.#res = res;
    this.status = res.statusCode;
    this.headers = res.headers;
    this.#deadline = deadline;
    this.#clock = clock;
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

  #iterator(): AsyncIterator<Uint8Array> {
    this.#it ??= (this.#res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return this.#it;
  }

  /**
   * The body's bytes. Errors come out as FleetErrors: the Deadline's reason when it ended the
   * exchange (abort, timeout), else FLEET_UPSTREAM_STREAM_ENDED for a connection lost mid-body.
   */
  async *body(): AsyncGenerator<Uint8Array> {
    const it = this.#iterator();
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      this.#deadline.waitStart();
      try {
        r = await it.next();
      } catch (err) {
        throw this.#deadline.aborted
          ? this.#deadline.reason
          : mapTransportError(err, this.#worker, 'body', this.status);
      } finally {
        this.#deadline.waitEnd();
      }
      if (this.#deadline.aborted) throw this.#deadline.reason;
      if (r.done) {
        this.#finished = true;
        return;
      }
      yield r.value;
    }
  }

  /** Reads the body as UTF-8 text, up to `limit` characters (the rest is dropped with the connection). */
  async text(limit = Infinity): Promise<string> {
    const decoder = new TextDecoder();
    let out = '';
    try {
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
    if (this.#finished) {
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
    this.#destroy();
  }

  /**
   * Ends an exchange whose useful part is over (a stream after `[DONE]`): the little that may
   * follow is read in the background so the keep-alive connection can be reused; if more than a
   * few KiB follow, or the body does not end within a second, the connection is dropped instead.
   */
  release(): void {
    if (this.#finished) {
      this.#deadline.dispose();
      return;
    }
    this.#finished = true;
    this.#deadline.dispose();
    const it = this.#iterator();
    const timer = this.#clock.setTimeout(() => this.#destroy(), DRAIN_MAX_MS);
    const drain = async () => {
      let bytes = 0;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        bytes += r.value.byteLength;
        if (bytes > DRAIN_LIMIT_BYTES) return this.#destroy();
      }
    };
    drain()
      .catch(noop)
      .finally(() => this.#clock.clearTimeout(timer));
  }

  #destroy(): void {
    // undici destroys the body when the signal fires; a dispatcher that does not gets it done here.
    const body = this.#res.body;
    if (!body.destroyed) body.on('error', noop).destroy();
  }
}
