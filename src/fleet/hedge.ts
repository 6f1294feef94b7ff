import { Cancel } from '../core/cancel.ts';
import { FleetError } from '../core/errors.ts';
import type { Attempt, Fleet, RequestPlan } from './fleet.ts';
import { endEvent, reasonOr } from './fleet.ts';
import type { HedgeLease } from './lease.ts';

/** The attempt whose answer the caller gets, and when that attempt was dispatched. */
export interface Won<T> {
  response: T;
  attempt: Attempt;
  startedAt: number;
}

/**
 * Runs one non-streamed attempt and lets the scheduler add a tail hedge to it (Scheduler, "tail
 * hedges"): a copy on a worker that is idle and expected to finish clearly sooner. The first answer
 * wins and the other attempt is cancelled (its slot waits the fleet's settle time, like any request
 * the fleet cuts short). A hedge never decides the request's fate on its own: when the primary
 * fails while the hedge runs, the hedge's answer is used if it comes; if the hedge fails too, the
 * primary's error goes back to the caller's retry loop as if there had been no hedge.
 *
 * `request` is the request's own controller: it is aborted (cancelling the primary upstream) only
 * once the hedge has answered, when nothing else uses it any more.
 */
export async function callHedged<T>(
  fleet: Fleet,
  plan: RequestPlan,
  a: Attempt,
  call: (a: Attempt) => Promise<T>,
  request: Cancel,
): Promise<Won<T>> {
  const startedAt = fleet.clock.now();
  if (!fleet.scheduler.hedging) return { response: await call(a), attempt: a, startedAt };
  // Nothing is allocated for the race unless a hedge actually starts (rare: the end of a batch).
  let hedge: HedgeRace<T> | undefined;
  a.lease.offerHedge((lease) => {
    if (a.signal.aborted) return lease.release();
    hedge = new HedgeRace(fleet, plan, a, call, lease, request, startedAt);
  });
  try {
    const response = await call(a);
    if (hedge?.won) return hedge.won; // both answered in the same turn: the hedge's is already taken
    hedge?.cancel(`cancelled: ${a.worker.id} answered before the tail hedge`);
    return { response, attempt: a, startedAt };
  } catch (e) {
    if (hedge === undefined) throw e;
    if (hedge.won) return hedge.won; // the hedge answered and cancelled this attempt
    if (a.signal.aborted) throw e; // the caller left (the hedge is cancelled with the same signal)
    // The primary failed while its hedge runs: free its slot now, let the hedge answer.
    const err = reasonOr(a.signal, e).withWorker(a.worker.id);
    fleet.releaseAfter(a.lease, err);
    hedge.primaryFailed = true;
    const won = await hedge.outcome;
    if (won === undefined) throw err;
    fleet.failed(a, plan, err, fleet.clock.now() - startedAt, false);
    return won;
  } finally {
    a.lease.withdrawHedge();
  }
}

/** One hedge attempt racing the primary. */
class HedgeRace<T> {
  /** Set when the hedge answered first. */
  won: Won<T> | undefined;
  /** Resolves with the hedge's answer, or undefined when it failed or was cancelled. */
  readonly outcome: Promise<Won<T> | undefined>;
  /** The primary failed while this runs (callHedged then waits for this answer). */
  primaryFailed = false;
  readonly #ac = new Cancel();
  #settled = false;
  #cancelled = false;

  constructor(
    fleet: Fleet,
    plan: RequestPlan,
    primary: Attempt,
    call: (a: Attempt) => Promise<T>,
    lease: HedgeLease,
    request: Cancel,
    primaryStartedAt: number,
  ) {
    const ac = this.#ac;
    const onRequest = () => ac.abort(primary.signal.reason);
    const onPreempt = () => ac.abort(lease.preempted.reason);
    primary.signal.addEventListener('abort', onRequest, { once: true });
    lease.preempted.addEventListener('abort', onPreempt, { once: true });
    const h: Attempt = {
      worker: lease.worker,
      lease,
      signal: ac.signal,
      attempt: primary.attempt,
      hedge: true,
    };
    lease.worker.started++;
    lease.worker.hedges++;
    fleet.started(h, plan, false);
    const t0 = fleet.clock.now();
    const done = () => {
      this.#settled = true;
      primary.signal.removeEventListener('abort', onRequest);
      lease.preempted.removeEventListener('abort', onPreempt);
    };
    this.outcome = call(h).then(
      (response) => {
        done();
        lease.release();
        if (this.#cancelled || primary.signal.aborted) return undefined; // the primary answered first
        this.won = { response, attempt: h, startedAt: t0 };
        lease.worker.hedgeWins++;
        if (!this.primaryFailed) {
          // Cut the primary short; its slot waits the settle time.
          const lost = new FleetError(
            'FLEET_ABORTED',
            `cancelled: a tail hedge on ${lease.worker.id} answered first`,
          );
          fleet.releaseAfter(primary.lease, lost);
          cancelled(fleet, plan, primary, lost.code, fleet.clock.now() - primaryStartedAt);
          request.abort(lost);
        }
        return this.won;
      },
      (e: unknown) => {
        done();
        const err = reasonOr(ac.signal, e).withWorker(lease.worker.id);
        fleet.releaseAfter(lease, err);
        // Cancelled (the primary won, preempted, caller gone): not the worker's failure.
        if (err.code === 'FLEET_ABORTED' || err.code === 'FLEET_CLOSED')
          cancelled(fleet, plan, h, err.code, fleet.clock.now() - t0);
        else fleet.failed(h, plan, err, fleet.clock.now() - t0, false);
        return undefined;
      },
    );
  }

  cancel(why: string): void {
    this.#cancelled = true;
    if (!this.#settled) this.#ac.abort(new FleetError('FLEET_ABORTED', why));
  }
}

/** Records an attempt the fleet cancelled (a lost or preempted hedge race): counted apart, not a failure. */
function cancelled(fleet: Fleet, plan: RequestPlan, a: Attempt, code: string, latencyMs: number): void {
  a.worker.cancelled++;
  if (fleet.listenerCount('request:end') === 0) return;
  const e = endEvent(plan, a, false, latencyMs);
  e.error = code;
  e.retrying = false;
  e.cancelled = true;
  fleet.emit('request:end', e);
}
