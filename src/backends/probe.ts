import type { AbortLike } from '../core/cancel.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { FleetError, toFleetError } from '../core/errors.ts';
import { formatMs } from './deadline.ts';
import { parseJsonBody, type HttpClient, type TextResponse } from './http.ts';
import type { ProbeResult } from './types.ts';
import { copyWith } from '../core/objects.ts';

/** A probe's findings before its latency is filled in. */
export type ProbeInfo = Omit<ProbeResult, 'latencyMs'>;

export type ErrorMapper = (status: number, text: string, headers: TextResponse['headers']) => FleetError;

/**
 * One health probe: a few cheap GETs sharing one short budget. The first answer's round trip
 * is the probe's latency. When the budget runs out every request in flight is aborted and the
 * probe fails with "timed out after N s".
 */
export class Prober {
  readonly #http: HttpClient;
  readonly #clock: Clock;
  readonly #mapError: ErrorMapper;
  readonly #ac = new AbortController();
  readonly #caller: AbortLike | undefined;
  readonly #timer: TimerHandle;
  readonly #start: number;
  #latency: number | undefined;

  constructor(http: HttpClient, budgetMs: number, mapError: ErrorMapper, caller?: AbortLike) {
    this.#http = http;
    this.#clock = http.clock;
    this.#mapError = mapError;
    this.#caller = caller;
    this.#start = this.#clock.now();
    const id = http.workerId;
    this.#timer = this.#clock.setTimeout(
      () =>
        this.#ac.abort(
          new FleetError('FLEET_UPSTREAM_TIMEOUT', `${id}: timed out after ${formatMs(budgetMs)}`, {
            worker: id,
            phase: 'probe',
          }),
        ),
      budgetMs,
    );
    if (caller?.aborted) this.#onCaller();
    else caller?.addEventListener('abort', this.#onCaller, { once: true });
  }

  readonly #onCaller = (): void => {
    const id = this.#http.workerId;
    this.#ac.abort(
      new FleetError('FLEET_ABORTED', `${id}: probe aborted by the caller`, {
        worker: id,
        cause: this.#caller?.reason,
      }),
    );
  };

  /** Round trip of the first answer, or the time spent so far when nothing answered. */
  get latencyMs(): number {
    return this.#latency ?? this.#clock.now() - this.#start;
  }

  /** GET whatever the status; throws only when there was no HTTP answer (or the budget ran out). */
  async get(path: string): Promise<TextResponse> {
    const sent = this.#clock.now();
    try {
      const r = await this.#http.fetchText({
        method: 'GET',
        path,
        signal: this.#ac.signal,
        limits: { totalMs: 0, firstTokenMs: 0, stallMs: 0 },
      });
      this.#latency ??= this.#clock.now() - sent;
      return r;
    } catch (err) {
      if (this.#ac.signal.aborted) throw this.#ac.signal.reason as FleetError;
      throw err;
    }
  }

  /** GET a 2xx JSON body; other answers become the mapped FleetError. */
  async json(path: string): Promise<unknown> {
    const r = await this.get(path);
    if (r.status < 200 || r.status >= 300) throw this.#mapError(r.status, r.text, r.headers);
    return parseJsonBody(r, this.#http.workerId);
  }

  /** Like json() for optional endpoints: any failure but the budget running out gives undefined. */
  async optionalJson(path: string): Promise<unknown> {
    try {
      return await this.json(path);
    } catch (err) {
      if (this.#ac.signal.aborted) throw err;
      return undefined;
    }
  }

  /** Like get() for optional endpoints: undefined unless a 2xx answer came. */
  async optionalText(path: string): Promise<string | undefined> {
    try {
      const r = await this.get(path);
      return r.status >= 200 && r.status < 300 ? r.text : undefined;
    } catch (err) {
      if (this.#ac.signal.aborted) throw err;
      return undefined;
    }
  }

  dispose(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#caller?.removeEventListener('abort', this.#onCaller);
  }
}

/** Runs a probe body and turns any failure into a 'down' (or, for 429/503, 'loading') result. */
export async function runProbe(
  http: HttpClient,
  budgetMs: number,
  mapError: ErrorMapper,
  signal: AbortLike | undefined,
  body: (p: Prober) => Promise<ProbeInfo>,
): Promise<ProbeResult> {
  const p = new Prober(http, budgetMs, mapError, signal);
  try {
    const info = await body(p);
    return copyWith(info, { latencyMs: p.latencyMs });
  } catch (e) {
    const err = toFleetError(e);
    if (err.code === 'FLEET_ABORTED') throw err;
    return copyWith(probeFailure(err, http.workerId), { latencyMs: p.latencyMs });
  } finally {
    p.dispose();
  }
}

/** A failure in words a person can act on: "connection refused", "401 unauthorized: check api_key", ... */
export function probeFailure(err: FleetError, workerId: string): ProbeInfo {
  let reason = err.message.startsWith(`${workerId}: `) ? err.message.slice(workerId.length + 2) : err.message;
  reason = reason.replace(/^HTTP (\d{3}): /, 'HTTP $1 ');
  if (err.code === 'FLEET_UPSTREAM_AUTH') {
    reason = `${err.status ?? 401} ${err.status === 403 ? 'forbidden' : 'unauthorized'}: check api_key`;
  }
  return {
    state: err.code === 'FLEET_UPSTREAM_BUSY' ? 'loading' : 'down',
    reason,
    code: err.code,
    models: [],
  };
}

/** Whether a server's model list has `model` (Ollama adds `:latest` to untagged names). */
export function hasModel(models: readonly string[], model: string): boolean {
  const m = model.toLowerCase();
  return models.some((x) => {
    const y = x.toLowerCase();
    return y === m || y === `${m}:latest` || `${y}:latest` === m;
  });
}

/** The "model X is not here" result. */
export function modelMissing(model: string, models: string[], where: string): ProbeInfo {
  const list =
    models.length === 0 ? 'none' : models.slice(0, 10).join(', ') + (models.length > 10 ? ', ...' : '');
  return {
    state: 'down',
    code: 'FLEET_MODEL_NOT_FOUND',
    reason: `model "${model}" is not available on this ${where} (it lists: ${list})`,
    models,
  };
}
