import type { IncomingMessage } from 'node:http';
import type { StatsRecorder } from './stats.ts';

/** An inference request the worker is handling, from arrival to its last byte. */
export interface Tracked {
  readonly req: IncomingMessage;
  /** The client has gone: free whatever the request holds and end it. */
  gone(): void;
  /** The server died under it: end it as dropped and cut its connection. */
  crashed(): void;
}

/**
 * Keeps the ground truth honest about clients that leave.
 *
 * Node reports a closed connection in three steps: the FIN or RST is read in the poll phase, the
 * socket is marked ended or destroyed at once, but its 'close' event (which ends the response)
 * only comes in the close-callbacks phase, after setImmediate. A client that aborts one request
 * and at once sends another would otherwise be seen with both in flight, and the new one queued
 * behind a request nobody waits for. So once per event-loop turn in which requests arrived, this
 * first ends every request whose client is gone, then samples the in-flight peak, then admits the
 * turn's new requests to the engine in arrival order.
 */
export class Admission {
  readonly #recorder: StatsRecorder;
  readonly #active = new Set<Tracked>();
  #pending: Array<() => void> = [];
  #scheduled = false;

  constructor(recorder: StatsRecorder) {
    this.#recorder = recorder;
  }

  track(t: Tracked): void {
    this.#active.add(t);
    this.#recorder.arrive();
    this.#schedule();
  }

  untrack(t: Tracked): void {
    this.#active.delete(t);
  }

  /** Runs `admit` at the end of this turn, after departed clients are accounted for. */
  defer(admit: () => void): void {
    this.#pending.push(admit);
    this.#schedule();
  }

  /** The server crashed: every request in flight is dropped, nothing pending is admitted. */
  crashAll(): void {
    this.#pending = [];
    for (const t of [...this.#active]) t.crashed();
    this.#active.clear();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    for (const t of this.#active) {
      const s = t.req.socket as IncomingMessage['socket'] | null;
      if (s === null || s.destroyed || s.readableEnded) t.gone();
    }
    this.#recorder.sample();
    const admits = this.#pending;
    this.#pending = [];
    for (const admit of admits) admit();
  }
}
