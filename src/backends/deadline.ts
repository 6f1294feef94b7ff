import type { AbortLike } from '../core/cancel.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { FleetError, type TimeoutPhase } from '../core/errors.ts';

/** How long each phase of one exchange may take; 0 or Infinity turns a limit off. */
export interface DeadlineLimits {
  /** Whole exchange, from send to the last byte. */
  totalMs: number;
  /** Send -> first data chunk (streams) or response headers (everything else). */
  firstTokenMs: number;
  /** Silence while waiting for the next chunk, once the first one arrived. */
  stallMs: number;
  /** Phase named by the total timer: 'total' for requests, 'probe' for health probes. */
  totalPhase?: TimeoutPhase;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

const on = (ms: number) => Number.isFinite(ms) && ms > 0;

/**
 * The timers of one upstream exchange. Everything that ends it early (caller abort, any
 * timeout, the consumer leaving) goes through abort(): the reason is the FleetError to report,
 * and the onAbort hook (the HTTP exchange) destroys the request and wakes whoever waits on it.
 * A plain hook, not an AbortController: it is made once per request on the hot path.
 *
 * The stall timer only runs while the exchange is waiting for the server: time a consumer
 * spends holding a chunk (a slow client downstream) is not the server's silence. It is armed
 * lazily, once per stall period, so a fast stream does not churn timers.
 */
export class Deadline {
  readonly #clock: Clock;
  readonly #worker: string;
  readonly #limits: DeadlineLimits;
  readonly #caller: AbortLike | undefined;
  #reason: FleetError | undefined;
  /** Called once, with the reason, when the exchange is ended early. */
  onAbort: ((reason: FleetError) => void) | undefined;
  #totalTimer: TimerHandle | undefined;
  #firstTimer: TimerHandle | undefined;
  #stallTimer: TimerHandle | undefined;
  #stallOn = false;
  #waitingSince: number | undefined;
  #disposed = false;

  constructor(clock: Clock, workerId: string, limits: DeadlineLimits, caller?: AbortLike) {
    this.#clock = clock;
    this.#worker = workerId;
    this.#limits = limits;
    this.#caller = caller;
    if (caller?.aborted) {
      this.#onCallerAbort();
      return;
    }
    caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
    if (on(limits.totalMs)) {
      const phase = limits.totalPhase ?? 'total';
      this.#totalTimer = clock.setTimeout(
        () =>
          this.#timeout(
            phase,
            `timed out after ${formatMs(limits.totalMs)}${phase === 'total' ? ' (total request timeout)' : ''}`,
          ),
        limits.totalMs,
      );
    }
    if (on(limits.firstTokenMs)) {
      this.#firstTimer = clock.setTimeout(
        () =>
          this.#timeout(
            'first_token',
            `no first token after ${formatMs(limits.firstTokenMs)} (first token timeout)`,
          ),
        limits.firstTokenMs,
      );
    }
  }

  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** The FleetError the exchange was ended with (only read it once `aborted`). */
  get reason(): FleetError {
    return this.#reason as FleetError;
  }

  /** The first chunk (or, without streaming, the headers) arrived: the stall timer takes over. */
  firstToken(): void {
    if (this.#stallOn || this.#disposed) return;
    this.#clock.clearTimeout(this.#firstTimer);
    this.#firstTimer = undefined;
    this.#stallOn = on(this.#limits.stallMs);
  }

  /** About to wait for the server's next bytes. */
  waitStart(): void {
    if (!this.#stallOn || this.#disposed) return;
    this.#waitingSince = this.#clock.now();
    if (this.#stallTimer === undefined) this.#armStall(this.#limits.stallMs);
  }

  /** Bytes arrived (or the wait ended some other way). */
  waitEnd(): void {
    this.#waitingSince = undefined;
  }

  #armStall(ms: number): void {
    this.#stallTimer = this.#clock.setTimeout(() => {
      this.#stallTimer = undefined;
      if (this.#disposed || this.#waitingSince === undefined) return;
      const silent = this.#clock.now() - this.#waitingSince;
      const left = this.#limits.stallMs - silent;
      if (left > 0) this.#armStall(left);
      else
        this.#timeout(
          'stall',
          `stream stalled: no data for ${formatMs(this.#limits.stallMs)} (stall timeout)`,
        );
    }, ms);
  }

  /** Ends the exchange with `reason` (destroying the upstream request) unless already ended. */
  abort(reason: FleetError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.dispose();
    this.onAbort?.(reason);
  }

  /** Stops every timer and stops following the caller's signal. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clock.clearTimeout(this.#totalTimer);
    this.#clock.clearTimeout(this.#firstTimer);
    this.#clock.clearTimeout(this.#stallTimer);
    this.#totalTimer = this.#firstTimer = this.#stallTimer = undefined;
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
  }

  #timeout(phase: TimeoutPhase, words: string): void {
    this.abort(
      new FleetError('FLEET_UPSTREAM_TIMEOUT', `${this.#worker}: ${words}`, { worker: this.#worker, phase }),
    );
  }

  readonly #onCallerAbort = (): void => {
    const cause: unknown = this.#caller?.reason;
    this.abort(
      new FleetError('FLEET_ABORTED', `${this.#worker}: request aborted by the caller`, {
        worker: this.#worker,
        cause,
      }),
    );
  };
}
