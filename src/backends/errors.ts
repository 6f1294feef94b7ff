import { FleetError, parseRetryAfter, type FleetErrorCode } from '../core/errors.ts';
import { isRecord } from '../core/objects.ts';

/**
 * The one place where what a server answered becomes a FleetError (openai-node style: one
 * factory maps status + body to a code). Every adapter funnels HTTP errors, transport errors and
 * mid-stream error events through here, so the scheduler sees one vocabulary whatever the server.
 */

/** Response headers as undici gives them, or anything with `get()` (fetch Headers). */
export type HeadersLike =
  Record<string, string | string[] | undefined> | { get(name: string): string | null | undefined };

/** What an error body said, whichever of the three shapes it used. */
export interface ErrorBody {
  message: string;
  type?: string;
  code?: string | number;
  /** Other fields of the error object (llama.cpp's n_prompt_tokens and n_ctx). */
  extra: Record<string, unknown>;
  /** True when the body was JSON in one of the known error shapes. */
  structured: boolean;
}

const MAX_MESSAGE = 500;

function clip(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}...` : t;
}

/**
 * Reads `{"error":{message,type,code,...}}` (OpenAI, llama.cpp, LM Studio, Ollama /v1),
 * `{"error":"..."}` (Ollama native, MLX, vLLM 401), the flat `{"object":"error","message",...}`
 * (older vLLM) and FastAPI's `{"detail": ...}`; anything else is kept as clipped text.
 */
export function parseErrorBody(bodyText: string): ErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return { message: clip(bodyText), extra: {}, structured: false };
  }
  return errorFromJson(json) ?? { message: clip(bodyText), extra: {}, structured: false };
}

/** The error carried by a parsed JSON value, or undefined when it is not an error shape. */
export function errorFromJson(json: unknown): ErrorBody | undefined {
  if (!isRecord(json)) return undefined;
  const err = json['error'];
  if (typeof err === 'string') return { message: clip(err), extra: {}, structured: true };
  if (isRecord(err)) return fromObject(err);
  if (json['object'] === 'error' || (typeof json['message'] === 'string' && 'type' in json))
    return fromObject(json);
  const detail = json['detail'];
  if (typeof detail === 'string') return { message: clip(detail), extra: {}, structured: true };
  if (Array.isArray(detail)) {
    const parts = detail.map((d) =>
      isRecord(d) && typeof d['msg'] === 'string' ? d['msg'] : JSON.stringify(d),
    );
    return { message: clip(parts.join('; ')), extra: {}, structured: true };
  }
  return undefined;
}

function fromObject(o: Record<string, unknown>): ErrorBody {
  const { message, type, code, object: _object, ...rest } = o;
  const out: ErrorBody = {
    message: clip(typeof message === 'string' ? message : JSON.stringify(message ?? o)),
    extra: rest,
    structured: true,
  };
  if (typeof type === 'string') out.type = type;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  return out;
}

/** Context overflow in each server's words (llama.cpp, vLLM, OpenAI, Ollama, MLX, LM Studio). */
const OVERFLOW_TEXT =
  /exceeds? the (available )?context (size|length|window)|maximum context length|context[ _]length[ _]exceeded|context window (is )?(full|exceeded)|input length exceeds|prompt is too long|too many tokens in the prompt|when context the overflows|loaded with context length of only/i;
/** Wording that names a missing model whatever the status (LM Studio, Ollama, vLLM, exo). */
const MODEL_MISSING_TEXT =
  /no models? loaded|not found, try pulling|\bmodel [`'"]?[^\s`'"]+[`'"]? (does not exist|not found|is not (loaded|available))|\bmodel not found|unknown model/i;

function isContextOverflow(b: ErrorBody): boolean {
  return (
    b.type === 'exceed_context_size_error' ||
    b.code === 'context_length_exceeded' ||
    OVERFLOW_TEXT.test(b.message)
  );
}

function isModelMissing(status: number, b: ErrorBody): boolean {
  if (b.code === 'model_not_found' || MODEL_MISSING_TEXT.test(b.message)) return true;
  // A 404 (or vLLM's NotFoundError) that talks about a model; a bare "File Not Found" is a wrong path.
  return (status === 404 || b.type === 'NotFoundError') && /\bmodels?\b/i.test(b.message);
}

/** Structured facts worth keeping: context sizes, the server's own type and code. */
function detailsOf(b: ErrorBody): Record<string, unknown> | undefined {
  const d: Record<string, unknown> = {};
  if (b.type !== undefined) d['type'] = b.type;
  if (b.code !== undefined) d['code'] = b.code;
  for (const k of ['n_prompt_tokens', 'n_ctx', 'param']) if (b.extra[k] != null) d[k] = b.extra[k];
  // vLLM: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens ..."
  const vllm = /maximum context length is (\d+) tokens.*?requested (\d+) tokens/i.exec(b.message);
  if (vllm) {
    d['n_ctx'] ??= Number(vllm[1]);
    d['n_prompt_tokens'] ??= Number(vllm[2]);
  }
  return Object.keys(d).length > 0 ? d : undefined;
}

function headerGetter(headers: HeadersLike | undefined): { get(name: string): string | undefined } {
  if (headers === undefined) return { get: () => undefined };
  if (typeof headers.get === 'function') {
    const h = headers as { get(name: string): string | null | undefined };
    return { get: (n) => h.get(n) ?? undefined };
  }
  const rec = headers as Record<string, string | string[] | undefined>;
  return {
    get: (n) => {
      const v = rec[n.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
  };
}

/** Picks the code for a non-2xx answer (and the hint a person needs to act on it). */
function classify(status: number, b: ErrorBody): { code: FleetErrorCode; hint?: string } {
  if (status === 401 || status === 403) return { code: 'FLEET_UPSTREAM_AUTH', hint: 'check api_key' };
  if (isContextOverflow(b)) return { code: 'FLEET_CONTEXT_OVERFLOW' };
  if (isModelMissing(status, b)) return { code: 'FLEET_MODEL_NOT_FOUND' };
  if (status === 429 || status === 503) return { code: 'FLEET_UPSTREAM_BUSY' };
  // llama.cpp answers a body it cannot parse with 500 server_error: it is our request, not the server.
  if (status === 500 && /json\.exception\.parse_error/.test(b.message)) return { code: 'FLEET_BAD_REQUEST' };
  if (status >= 500) return { code: 'FLEET_UPSTREAM_SERVER' };
  // Ollama's 499 "request canceled": not the request's fault, and not ours if we are still listening.
  if (status === 499) return { code: 'FLEET_UPSTREAM_SERVER', hint: 'the server dropped the request' };
  if (status === 404)
    return {
      code: 'FLEET_BAD_REQUEST',
      hint: 'endpoint not found: check base_url and that the server supports it',
    };
  if (status >= 400) return { code: 'FLEET_BAD_REQUEST' };
  return { code: 'FLEET_UPSTREAM_MALFORMED', hint: `unexpected HTTP ${status}` };
}

/**
 * Maps an HTTP answer to a FleetError. `status` 2xx means the body was unusable (not JSON or
 * the wrong shape) and gives FLEET_UPSTREAM_MALFORMED. The message is `<worker>: HTTP <status>:
 * <server message>`; `retryAfterMs` comes from Retry-After / retry-after-ms on 429 and 503.
 */
export function mapHttpError(
  status: number,
  bodyText: string,
  headers: HeadersLike | undefined,
  workerId: string,
  nowMs?: number,
): FleetError {
  const body = parseErrorBody(bodyText);
  if (status >= 200 && status < 300) {
    const what = body.message === '' ? 'an empty body' : `"${body.message.slice(0, 200)}"`;
    return new FleetError(
      'FLEET_UPSTREAM_MALFORMED',
      `${workerId}: HTTP ${status} with an unusable body: ${what}`,
      {
        worker: workerId,
        status,
      },
    );
  }
  const { code, hint } = classify(status, body);
  const said = body.message === '' ? statusText(status) : body.message;
  const message = `${workerId}: HTTP ${status}: ${said}${hint ? ` (${hint})` : ''}`;
  const options: ConstructorParameters<typeof FleetError>[2] = { worker: workerId, status };
  if (code === 'FLEET_UPSTREAM_BUSY') {
    const ra = parseRetryAfter(headerGetter(headers), nowMs);
    if (ra !== undefined) options.retryAfterMs = ra;
  }
  const details = detailsOf(body);
  if (details) options.details = details;
  return new FleetError(code, message, options);
}

/**
 * An error reported inside a 200 stream (llama.cpp `error:` event, a `data: {"error":..}` chunk,
 * an Ollama `{"error":".."}` NDJSON line). The status inside the payload wins when there is one;
 * otherwise it is treated as a server error unless the wording says what it is.
 */
export function mapStreamError(payload: unknown, workerId: string): FleetError {
  const body =
    typeof payload === 'string'
      ? parseErrorBody(payload)
      : (errorFromJson(payload) ?? { message: clip(JSON.stringify(payload)), extra: {}, structured: false });
  const inner = typeof body.code === 'number' && body.code >= 400 && body.code < 600 ? body.code : undefined;
  const { code } = classify(inner ?? 500, body);
  const message = `${workerId}: error in stream: ${body.message || 'unknown error'}`;
  const options: ConstructorParameters<typeof FleetError>[2] = { worker: workerId, status: inner ?? 200 };
  const details = detailsOf(body);
  if (details) options.details = details;
  return new FleetError(code, message, options);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'no message';
}

/** Codes undici and Node use for a connection that never got a response. */
const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'host lookup failed (DNS), try again',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host is down',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_DESTROYED: 'connection pool closed',
};

/** The first error code found on an error, its cause chain or an AggregateError's members. */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (!isRecord(err) && !(err instanceof Error)) return undefined;
  if (depth > 4) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1);
      if (c) return c;
    }
  }
  return e.cause === undefined ? undefined : errorCode(e.cause, depth + 1);
}

/**
 * Maps a transport failure (no HTTP answer, or the body broke off). `stage` says whether the
 * response had started: a connection lost after the headers is FLEET_UPSTREAM_STREAM_ENDED
 * (carrying the `status` those headers had), before them FLEET_UPSTREAM_CONNECT.
 */
export function mapTransportError(
  err: unknown,
  workerId: string,
  stage: 'request' | 'body',
  status?: number,
): FleetError {
  if (err instanceof FleetError) return err;
  const code = errorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return new FleetError('FLEET_UPSTREAM_TIMEOUT', `${workerId}: connect timed out`, {
      worker: workerId,
      phase: 'connect',
      cause: err,
    });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    const phase = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'first_token' : 'stall';
    return new FleetError(
      'FLEET_UPSTREAM_TIMEOUT',
      `${workerId}: timed out waiting for the ${phase === 'stall' ? 'body' : 'response'}`,
      {
        worker: workerId,
        phase,
        cause: err,
      },
    );
  }
  if (stage === 'body') {
    const options: ConstructorParameters<typeof FleetError>[2] = { worker: workerId, cause: err };
    if (status !== undefined) options.status = status;
    return new FleetError(
      'FLEET_UPSTREAM_STREAM_ENDED',
      `${workerId}: connection lost mid-response (${code ?? raw})`,
      options,
    );
  }
  const words = code === undefined ? undefined : CONNECT_CODES[code];
  if (words !== undefined) {
    return new FleetError('FLEET_UPSTREAM_CONNECT', `${workerId}: ${words}`, {
      worker: workerId,
      cause: err,
    });
  }
  return new FleetError(
    'FLEET_UPSTREAM_CONNECT',
    `${workerId}: request failed: ${raw}${code ? ` (${code})` : ''}`,
    {
      worker: workerId,
      cause: err,
    },
  );
}
