/**
 * One error family for the whole tool (STYLE.md: undici-style stable codes).
 * Every failure that crosses a layer boundary is a FleetError with a stable `code`,
 * a `retryable` flag the scheduler trusts, and the original `cause`.
 */
import { copyWith } from './objects.ts';

export const ERROR_CODES = {
  /** Configuration file or flags are invalid. Never retryable. */
  FLEET_CONFIG_INVALID: { retryable: false, status: 400 },
  /** TCP connect refused / reset / DNS failure before any byte was exchanged. */
  FLEET_UPSTREAM_CONNECT: { retryable: true, status: 502 },
  /** Connect, first-token, stall or total timeout (see `phase`). */
  FLEET_UPSTREAM_TIMEOUT: { retryable: true, status: 504 },
  /** 429 / 503: the server is busy or still loading; honour `retryAfterMs`. */
  FLEET_UPSTREAM_BUSY: { retryable: true, status: 503 },
  /** Other 5xx from the server. */
  FLEET_UPSTREAM_SERVER: { retryable: true, status: 502 },
  /** The response was not what the protocol promises (bad JSON, wrong shape). */
  FLEET_UPSTREAM_MALFORMED: { retryable: true, status: 502 },
  /** The stream ended (or the connection dropped) before completion. */
  FLEET_UPSTREAM_STREAM_ENDED: { retryable: true, status: 502 },
  /** The prompt does not fit the model's context window. */
  FLEET_CONTEXT_OVERFLOW: { retryable: false, status: 400 },
  /** The requested model is not served (or not loaded) there. */
  FLEET_MODEL_NOT_FOUND: { retryable: false, status: 404 },
  /** The server rejected the request as invalid. */
  FLEET_BAD_REQUEST: { retryable: false, status: 400 },
  /** 401/403 from the server: wrong or missing API key. */
  FLEET_UPSTREAM_AUTH: { retryable: false, status: 401 },
  /** The caller aborted (signal). */
  FLEET_ABORTED: { retryable: false, status: 499 },
  /** The fleet's queue is full. */
  FLEET_QUEUE_FULL: { retryable: false, status: 503 },
  /** A request waited in the queue past its queue timeout. */
  FLEET_QUEUE_TIMEOUT: { retryable: false, status: 503 },
  /** No worker serves the requested model, or none is healthy. */
  FLEET_NO_WORKER: { retryable: false, status: 503 },
  /** The fleet is closed or draining and takes no new work. */
  FLEET_CLOSED: { retryable: false, status: 503 },
  /** Invalid input from a user of a command (files, flags). */
  FLEET_INPUT_INVALID: { retryable: false, status: 400 },
} as const satisfies Record<string, { retryable: boolean; status: number }>;

export type FleetErrorCode = keyof typeof ERROR_CODES;

export type TimeoutPhase = 'connect' | 'first_token' | 'stall' | 'total' | 'probe';

export interface FleetErrorOptions {
  cause?: unknown;
  /** Overrides the code's default. */
  retryable?: boolean;
  /** HTTP status the upstream answered, when there was one. */
  status?: number;
  /** From Retry-After / retry-after-ms, in milliseconds. */
  retryAfterMs?: number;
  /** Id of the worker the error came from. */
  worker?: string;
  /** For timeouts: which one fired. */
  phase?: TimeoutPhase;
  /** Extra structured facts (e.g. n_prompt_tokens and n_ctx on context overflow). */
  details?: Record<string, unknown>;
}

export class FleetError extends Error {
  override readonly name = 'FleetError';
  readonly code: FleetErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly worker: string | undefined;
  readonly phase: TimeoutPhase | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FleetErrorCode, message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.worker = options.worker;
    this.phase = options.phase;
    this.details = options.details;
  }

  /** The HTTP status a gateway should answer for this error. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].status;
  }

  /** A copy of this error attributed to a worker (keeps code, flags and cause). */
  withWorker(worker: string): FleetError {
    if (this.worker === worker) return this;
    const copy = new FleetError(this.code, this.message, copyWith(this.#options(), { worker }));
    if (this.stack !== undefined) copy.stack = this.stack;
    return copy;
  }

  #options(): FleetErrorOptions {
    const o: FleetErrorOptions = { retryable: this.retryable };
    if (this.cause !== undefined) o.cause = this.cause;
    if (this.status !== undefined) o.status = this.status;
    if (this.retryAfterMs !== undefined) o.retryAfterMs = this.retryAfterMs;
    if (this.phase !== undefined) o.phase = this.phase;
    if (this.details !== undefined) o.details = this.details;
    return o;
  }
}

export function isFleetError(err: unknown, code?: FleetErrorCode): err is FleetError {
  return err instanceof FleetError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a FleetError; an AbortSignal's reason becomes FLEET_ABORTED. */
export function toFleetError(err: unknown, fallback: FleetErrorCode = 'FLEET_UPSTREAM_SERVER'): FleetError {
  if (err instanceof FleetError) return err;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new FleetError('FLEET_ABORTED', err.message || 'aborted', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FleetError(fallback, message, { cause: err });
}

/** Parses `retry-after-ms`, then `retry-after` (seconds or HTTP date), as the OpenAI SDK does. */
export function parseRetryAfter(
  headers: { get(name: string): string | null | undefined },
  nowMs: number = Date.now(),
): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms) {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = headers.get('retry-after');
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  return undefined;
}
