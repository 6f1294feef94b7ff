import { Cancel, type AbortLike } from '../core/cancel.ts';
import type { Clock } from '../core/clock.ts';
import type { HedgeBook, HedgeOffer, RunningHedge } from './hedging.ts';
import type { TicketSpec } from './scheduler.ts';
import type { WorkerRuntime } from './worker.ts';

/** A slot held on a worker. `release()` is idempotent: every path frees the slot exactly once. */
export interface Lease {
  readonly worker: WorkerRuntime;
  readonly seq: number;
  /** ms spent waiting in the queue. */
  readonly queuedMs: number;
  /**
   * Frees the slot, now or after `delayMs` (used after tearing down an upstream request, so the
   * server has seen the disconnect before the slot is offered again). Later calls are no-ops.
   */
  release(delayMs?: number): void;
  /**
   * Makes this attempt open to a tail hedge (see Scheduler): `start` receives a slot on another
   * worker when one is idle and expected to finish the request clearly sooner. `start` is called
   * at most once; the offer ends when it is, when this lease is released, or on withdrawHedge().
   * A no-op when hedging is off or this lease is itself a hedge.
   */
  offerHedge(start: (hedge: HedgeLease) => void): void;
  withdrawHedge(): void;
}

/** A slot taken to duplicate an attempt running elsewhere (a tail hedge). */
export interface HedgeLease extends Lease {
  /** Aborted when a queued request needs the slot: a hedge only ever uses idle capacity. */
  readonly preempted: AbortLike;
}

/** What a lease needs from the scheduler that issued it. */
export interface LeaseOwner {
  readonly clock: Clock;
  readonly hedging: boolean;
  readonly hedges: HedgeBook;
  /** The slot is free again: account for it and hand it on. */
  free(worker: WorkerRuntime): void;
}

/**
 * The scheduler's Lease. A class rather than closures: one is made per request, on the dispatch
 * path the scheduler-cost benchmark measures. It is also its own hedge offer (no extra object).
 */
export class SlotLease implements HedgeLease, HedgeOffer {
  readonly worker: WorkerRuntime;
  readonly seq: number;
  readonly spec: TicketSpec;
  readonly queuedMs: number;
  readonly startedAt: number;
  readonly #owner: LeaseOwner;
  /** Set when this lease is a hedge. */
  readonly #hedge: RunningHedge | undefined;
  #released = false;
  #start: ((hedge: HedgeLease) => void) | undefined;

  constructor(
    owner: LeaseOwner,
    worker: WorkerRuntime,
    seq: number,
    spec: TicketSpec,
    queuedMs: number,
    hedge?: RunningHedge,
  ) {
    this.#owner = owner;
    this.worker = worker;
    this.seq = seq;
    this.spec = spec;
    this.queuedMs = queuedMs;
    this.#hedge = hedge;
    this.startedAt = owner.clock.now();
    worker.account(this.startedAt, 1);
  }

  /** Only meaningful on a hedge; a never-aborted signal otherwise. */
  get preempted(): AbortLike {
    return (this.#hedge ?? NEVER).ac.signal;
  }

  release(delayMs = 0): void {
    if (this.#released) return;
    this.#released = true;
    this.withdrawHedge();
    if (this.#hedge) this.#owner.hedges.ended(this.#hedge);
    if (delayMs > 0) this.#owner.clock.setTimeout(() => this.#owner.free(this.worker), delayMs);
    else this.#owner.free(this.worker);
  }

  offerHedge(start: (hedge: HedgeLease) => void): void {
    if (!this.#owner.hedging || this.#released || this.#hedge || this.#start) return;
    this.#start = start;
    this.#owner.hedges.offer(this);
  }

  withdrawHedge(): void {
    if (this.#start === undefined) return;
    this.#start = undefined;
    this.#owner.hedges.withdraw(this);
  }

  /** HedgeOffer: `to` takes a slot to run a copy of this attempt. */
  take(to: WorkerRuntime, running: RunningHedge): void {
    const start = this.#start;
    this.#start = undefined;
    // Counted in `started` by the hedge itself, once it runs (hedge.ts).
    const lease = new SlotLease(this.#owner, to, this.seq, this.spec, 0, running);
    if (start) start(lease);
    else lease.release();
  }
}

const NEVER = { ac: new Cancel() };
