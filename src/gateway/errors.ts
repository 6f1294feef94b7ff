import { toFleetError, type FleetError } from '../core/errors.ts';
import { noWorkerError } from '../fleet/index.ts';

/** An error the gateway answers itself, in OpenAI's shape: `{"error":{"message","type","code"}}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
    /** For 400s: the request field at fault. */
    readonly param: string | null = null,
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; code: string; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new HttpError(400, 'invalid_request_error', 'invalid_body', message, {}, param);

/** Seconds a client should wait before retrying when the fleet is saturated. */
const DEFAULT_RETRY_AFTER_S = 1;

function retryAfter(err: FleetError): Record<string, string> {
  const s =
    err.retryAfterMs === undefined ? DEFAULT_RETRY_AFTER_S : Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return { 'Retry-After': String(s) };
}

/** 404 for a model no worker serves, naming the ones served: the scheduler's own error, mapped. */
export function modelNotFound(id: string, models: ReadonlyArray<{ id: string }>): HttpError {
  return toHttpError(
    noWorkerError(
      id,
      models.map((m) => m.id),
    ),
  );
}

/**
 * Maps whatever a fleet call threw to an honest HTTP answer. Notable choices: an unknown model is
 * a 404 that lists the known ones; a worker refusing *our* key is a 502 (the caller's key was
 * fine, so a 401 would send them looking in the wrong place); saturation is a 503 + Retry-After.
 */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  const err = toFleetError(e);
  const code = err.code;
  const msg =
    err.worker !== undefined && !err.message.includes(err.worker)
      ? `${err.worker}: ${err.message}`
      : err.message;
  switch (code) {
    case 'FLEET_NO_WORKER': {
      const known = err.details?.['known'];
      if (Array.isArray(known))
        return new HttpError(404, 'invalid_request_error', 'model_not_found', msg, {}, 'model');
      return new HttpError(503, 'service_unavailable', code, msg, retryAfter(err));
    }
    case 'FLEET_MODEL_NOT_FOUND':
      return new HttpError(404, 'invalid_request_error', 'model_not_found', msg, {}, 'model');
    case 'FLEET_QUEUE_FULL':
    case 'FLEET_QUEUE_TIMEOUT':
    case 'FLEET_UPSTREAM_BUSY':
    case 'FLEET_CLOSED':
      return new HttpError(503, 'service_unavailable', code, msg, retryAfter(err));
    case 'FLEET_UPSTREAM_TIMEOUT':
      return new HttpError(504, 'timeout_error', code, msg);
    case 'FLEET_BAD_REQUEST':
    case 'FLEET_CONTEXT_OVERFLOW':
    case 'FLEET_INPUT_INVALID':
    case 'FLEET_CONFIG_INVALID':
      return new HttpError(400, 'invalid_request_error', code, msg);
    case 'FLEET_ABORTED':
      return new HttpError(499, 'client_closed_request', code, msg);
    case 'FLEET_UPSTREAM_AUTH':
      return new HttpError(
        502,
        'upstream_error',
        code,
        `a worker rejected the gateway's credentials: ${msg}`,
      );
    case 'FLEET_UPSTREAM_CONNECT':
    case 'FLEET_UPSTREAM_SERVER':
    case 'FLEET_UPSTREAM_MALFORMED':
    case 'FLEET_UPSTREAM_STREAM_ENDED':
      return new HttpError(502, 'upstream_error', code, msg);
  }
}
