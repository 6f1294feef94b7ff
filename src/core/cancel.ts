/**
 * The part of AbortSignal that the fleet and the backends use. A real AbortSignal is one; so is
 * Cancel, which costs far less: Node builds an AbortSignal as a full EventTarget (~8 us, and
 * more garbage), once per request on the hot path.
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A drop-in for AbortController inside the library: `signal` is the Cancel itself, `abort()`
 * calls each listener once. Hand `toAbortSignal()` to code that needs a real AbortSignal.
 */
export class Cancel implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> | undefined;
  #real: AbortController | undefined;

  get signal(): this {
    return this;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const l of listeners) l();
    this.#real?.abort(this.reason);
  }

  /** Like AbortSignal's: a listener added after the abort is not called. */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    // A literal of one: `[]` then push() reserves 17 slots, and most Cancels get one or two.
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const ls = this.#listeners;
    if (ls === undefined) return;
    const i = ls.indexOf(listener);
    if (i >= 0) ls.splice(i, 1);
  }

  /** A real AbortSignal that follows this one (made on first use). */
  toAbortSignal(): AbortSignal {
    if (this.#real === undefined) {
      this.#real = new AbortController();
      if (this.aborted) this.#real.abort(this.reason);
    }
    return this.#real.signal;
  }
}
