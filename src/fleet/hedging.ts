import { Cancel } from '../core/cancel.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { FleetError } from '../core/errors.ts';
import { pickHedge, type HedgeCandidate } from './pick.ts';
import type { WorkerRuntime } from './worker.ts';

/** A running attempt open to a hedge (Lease.offerHedge). */
export interface HedgeOffer extends HedgeCandidate {
  /** Called once, when `worker` takes the offer (its slot is not taken yet). */
  take(worker: WorkerRuntime, running: RunningHedge): void;
}

/** A running hedge, preemptible by queued work. */
export interface RunningHedge {
  readonly worker: WorkerRuntime;
  readonly ac: Cancel;
}

/** What the hedge book needs from the scheduler. */
export interface HedgeHost {
  /** Hands queued work to `worker` if it can use any; true when it did (the slot is not idle). */
  serveQueued(worker: WorkerRuntime): boolean;
}

/**
 * The scheduler's tail-hedge bookkeeping (Scheduler, "tail hedges"): the running attempts open to a
 * hedge, the running hedges, and which workers have had a slot free for how long. One timer serves
 * all workers, so the common case (a freed slot is taken again at once) costs a map write, not a
 * timer per request.
 */
export class HedgeBook {
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #host: HedgeHost;
  readonly #offers = new Set<HedgeOffer>();
  readonly #running = new Set<RunningHedge>();
  /** Workers with a slot left free since the given time. */
  readonly #idleSince = new Map<WorkerRuntime, number>();
  #timer: TimerHandle | undefined;
  /** Hedges started. */
  started = 0;

  constructor(clock: Clock, delayMs: number, host: HedgeHost) {
    this.#clock = clock;
    this.#delayMs = delayMs;
    this.#host = host;
  }

  offer(o: HedgeOffer): void {
    this.#offers.add(o);
  }

  withdraw(o: HedgeOffer): void {
    this.#offers.delete(o);
  }

  /** The hedge's slot was released. */
  ended(h: RunningHedge): void {
    this.#running.delete(h);
  }

  /** A slot of `worker` freed and nothing queued took it: consider a hedge once it stays free. */
  slotFreed(worker: WorkerRuntime): void {
    if (this.#offers.size === 0) return;
    const now = this.#clock.now();
    if (worker.freeSlots(now) <= 0) return;
    this.#idleSince.set(worker, now);
    if (this.#timer === undefined) this.#armAt(now + this.#delayMs);
  }

  /** A request had to queue: cancel one hedge it could use instead (it frees after the settle time). */
  preemptFor(eligible: readonly WorkerRuntime[], exclude: ReadonlySet<string> | undefined): void {
    if (this.#running.size === 0) return;
    for (const h of this.#running) {
      if (exclude?.has(h.worker.id) || !eligible.includes(h.worker)) continue;
      this.#running.delete(h);
      h.ac.abort(
        new FleetError('FLEET_ABORTED', `hedge on ${h.worker.id} preempted: queued work needs the slot`),
      );
      return;
    }
  }

  #armAt(at: number): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#check();
      },
      Math.max(0, at - this.#clock.now()),
    );
  }

  /** Workers whose slots have stayed free long enough hedge; the others are checked again later. */
  #check(): void {
    const now = this.#clock.now();
    let next = Infinity;
    for (const [worker, since] of this.#idleSince) {
      if (this.#offers.size === 0 || worker.freeSlots(now) <= 0) {
        this.#idleSince.delete(worker);
      } else if (now - since >= this.#delayMs) {
        this.#idleSince.delete(worker);
        this.#fill(worker, now);
      } else next = Math.min(next, since + this.#delayMs);
    }
    // (A hedge released at once may have armed the timer again meanwhile.)
    if (next < Infinity && this.#timer === undefined) this.#armAt(next);
  }

  /** Fills `worker`'s idle slots with hedges of attempts it would finish clearly sooner. */
  #fill(worker: WorkerRuntime, now: number): void {
    while (this.#offers.size > 0 && worker.freeSlots(now) > 0) {
      // Real work first: a slot that queued work can use is not idle.
      if (this.#host.serveQueued(worker)) return;
      const offer = pickHedge(worker, this.#offers, now);
      if (!offer) return;
      this.#offers.delete(offer);
      const running: RunningHedge = { worker, ac: new Cancel() };
      this.#running.add(running);
      this.started++;
      offer.take(worker, running);
    }
  }
}
