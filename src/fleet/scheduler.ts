import type { AbortLike } from '../core/cancel.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { FleetError } from '../core/errors.ts';
import { LatencyHistogram } from '../core/histogram.ts';
import type { Random } from '../core/random.ts';
import { ClassQueue, type NodeList, type Priority, type QueueNode } from './queue.ts';
import { HedgeBook } from './hedging.ts';
import { SlotLease, type Lease, type LeaseOwner } from './lease.ts';
import { pickWorker } from './pick.ts';
import type { WorkerRuntime } from './worker.ts';

/** What a request tells the scheduler about itself. */
export interface TicketSpec {
  /** Requested model; undefined = any worker, each with its default model. */
  model: string | undefined;
  priority: Priority;
  /** Requests with the same key prefer the worker that served the key last (its prefix cache). */
  affinityKey?: string | undefined;
  /** Id of the worker the caller chose (RequestOptions.preferWorker); wins over affinityKey. */
  preferWorker?: string | undefined;
  /** Estimated prompt tokens and expected output tokens: the inputs of expected completion time. */
  promptTokens: number;
  outputTokens: number;
  /** Workers to avoid (those that already failed this request), while any other could serve it. */
  exclude?: ReadonlySet<string> | undefined;
  /** Keeps a retried request's place in line. */
  seq?: number | undefined;
  /** ms a request may wait in the queue; 0 or Infinity = no limit. */
  queueTimeoutMs: number;
  signal?: AbortLike | undefined;
}

interface Ticket extends QueueNode {
  spec: TicketSpec;
  key: string;
  exclude: ReadonlySet<string> | undefined;
  enqueuedAt: number;
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
  resolve: (lease: Lease) => void;
  reject: (err: FleetError) => void;
}

export interface SchedulerOptions {
  clock: Clock;
  random: Random;
  /** Most requests waiting at once; more are refused with FLEET_QUEUE_FULL. */
  maxQueueSize: number;
  /** How far down the queue a free worker looks for a request bound to it (or to nobody). @default 64 */
  affinityWindow?: number;
  /** Most affinity keys remembered (least recently used go first). @default 100000 */
  affinityKeys?: number;
  /** Tail hedges of non-streamed requests (see Scheduler). @default true */
  hedge?: boolean;
  /** ms a worker's slot must stay free, with nothing queued for it, before it may hedge. @default 10 */
  hedgeDelayMs?: number;
}

export type { HedgeLease, Lease } from './lease.ts';

const ANY = '*';

/**
 * The error for a model no worker serves (`known`: the models served, which callers list), or,
 * without a model, for a fleet with no workers.
 */
export function noWorkerError(model: string | undefined, known: string[]): FleetError {
  return new FleetError(
    'FLEET_NO_WORKER',
    model === undefined
      ? 'the fleet has no workers: add some to the config'
      : `no worker serves model "${model}"; models served: ${known.length ? known.join(', ') : '(none)'}`,
    { details: { model, known } },
  );
}

/**
 * Late binding with one central queue (DESIGN.md "The scheduler"): a request is handed to a worker
 * only when that worker has a free slot; otherwise it waits here. When a slot frees, that worker
 * takes the oldest request it can serve, preferring one whose affinity key is bound to it.
 *
 * Tail hedges: a request already running on a slow worker cannot move when a faster one frees
 * (the end of a batch: the last requests land on whichever worker is free, and the job waits for
 * the slowest). So when a worker's slot stays free for `hedgeDelayMs` with nothing queued for it,
 * it may start a copy of the running attempt (that offered one, see Lease.offerHedge) that it is
 * expected to finish clearly sooner (pickHedge); the caller keeps whichever answer comes first and
 * cancels the other. Hedges use only idle slots: a request that has to queue preempts one.
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #random: Random;
  /** Most requests waiting at once (settings.max_queue_size). */
  maxQueueSize: number;
  readonly #window: number;
  readonly #maxKeys: number;
  #workers: WorkerRuntime[] = [];
  #byModel = new Map<string, WorkerRuntime[]>();
  readonly #queues = new Map<string, ClassQueue>();
  readonly #affinity = new Map<string, WorkerRuntime>();
  #queued = 0;
  #seq = 0;
  #timers = new Map<WorkerRuntime, TimerHandle>();
  /** Whether requests may be hedged (SchedulerOptions.hedge). */
  readonly hedging: boolean;
  readonly #owner: LeaseOwner;
  readonly queueWait = new LatencyHistogram();
  maxQueued = 0;
  dispatched = 0;

  constructor(workers: WorkerRuntime[], options: SchedulerOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.maxQueueSize = options.maxQueueSize;
    this.#window = options.affinityWindow ?? 64;
    this.#maxKeys = options.affinityKeys ?? 100_000;
    this.hedging = options.hedge ?? true;
    const hedges = new HedgeBook(this.#clock, options.hedgeDelayMs ?? 10, {
      serveQueued: (w) => {
        if (this.#queued === 0 || !this.#takeFor(w)) return false;
        this.pump(w);
        return true;
      },
    });
    this.#owner = {
      clock: this.#clock,
      hedging: this.hedging,
      hedges,
      free: (w) => {
        w.account(this.#clock.now(), -1);
        this.pump(w);
        hedges.slotFreed(w);
      },
    };
    this.setWorkers(workers);
  }

  get workers(): readonly WorkerRuntime[] {
    return this.#workers;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Replaces the worker set (config reload). Queued requests are re-examined at once. */
  setWorkers(workers: WorkerRuntime[]): void {
    this.#workers = workers;
    this.#byModel = new Map();
    for (const w of workers) {
      for (const m of w.models) {
        let list = this.#byModel.get(m);
        if (!list) this.#byModel.set(m, (list = []));
        list.push(w);
      }
    }
    for (const [key, w] of this.#affinity) if (!workers.includes(w)) this.#affinity.delete(key);
    this.#failOrphans();
    for (const w of workers) this.pump(w);
  }

  /** Every model some worker serves, sorted. */
  knownModels(): string[] {
    return [...this.#byModel.keys()].sort();
  }

  eligible(model: string | undefined): readonly WorkerRuntime[] {
    return model === undefined ? this.#workers : (this.#byModel.get(model) ?? []);
  }

  /** Waits for a slot. Rejects with FLEET_NO_WORKER, FLEET_QUEUE_FULL, FLEET_QUEUE_TIMEOUT or FLEET_ABORTED. */
  acquire(spec: TicketSpec): Promise<Lease> {
    const signal = spec.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const eligible = this.eligible(spec.model);
    if (eligible.length === 0) return Promise.reject(this.#noWorkerError(spec.model));
    if (!eligible.some(isAlive)) return Promise.reject(this.#allDownError(spec.model, eligible));
    // Exclusions only hold while someone else alive could take the request.
    const ex = spec.exclude;
    const exclude = ex && ex.size > 0 && eligible.some((w) => isAlive(w) && !ex.has(w.id)) ? ex : undefined;
    const now = this.#clock.now();
    const seq = spec.seq ?? ++this.#seq;

    const direct = pickWorker(eligible, spec, exclude, this.#preferred(spec), now, this.#random);
    if (direct) return Promise.resolve(this.#assign(direct, seq, spec, 0));

    if (spec.seq === undefined && this.#queued >= this.maxQueueSize) {
      return Promise.reject(
        new FleetError(
          'FLEET_QUEUE_FULL',
          `queue full: ${this.#queued} requests already waiting (max_queue_size ${this.maxQueueSize}); retry later or raise max_queue_size`,
          { retryAfterMs: 1000 },
        ),
      );
    }
    return new Promise<Lease>((resolve, reject) => {
      const ticket: Ticket = {
        seq,
        priority: spec.priority,
        prev: undefined,
        next: undefined,
        list: undefined,
        spec,
        key: spec.model ?? ANY,
        exclude,
        enqueuedAt: now,
        timer: undefined,
        onAbort: undefined,
        resolve,
        reject,
      };
      this.#enqueue(ticket);
      this.#owner.hedges.preemptFor(eligible, exclude);
      if (spec.queueTimeoutMs > 0 && Number.isFinite(spec.queueTimeoutMs)) {
        ticket.timer = this.#clock.setTimeout(() => {
          this.#dequeue(ticket);
          reject(
            new FleetError(
              'FLEET_QUEUE_TIMEOUT',
              `waited ${Math.round(spec.queueTimeoutMs)} ms in the queue without a free worker (queue_timeout); the fleet is saturated`,
              { retryAfterMs: 1000 },
            ),
          );
        }, spec.queueTimeoutMs);
      }
      if (signal) {
        ticket.onAbort = () => {
          this.#dequeue(ticket);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', ticket.onAbort, { once: true });
      }
    });
  }

  /** Hands queued requests to `worker` while it has free slots. Call when its slots, state or cap change. */
  pump(worker: WorkerRuntime): void {
    if (this.#queued === 0) return;
    const now = this.#clock.now();
    if (worker.busyUntil > now) {
      this.#wakeAt(worker, worker.busyUntil);
      return;
    }
    while (worker.freeSlots(now) > 0) {
      const ticket = this.#takeFor(worker);
      if (!ticket) return;
      this.#dequeue(ticket);
      ticket.resolve(this.#assign(worker, ticket.seq, ticket.spec, now - ticket.enqueuedAt));
    }
  }

  pumpAll(): void {
    for (const w of this.#workers) this.pump(w);
    this.#failOrphans();
  }

  /** Rejects every queued request (close). */
  rejectAll(err: FleetError): void {
    for (const q of this.#queues.values()) {
      for (const list of [q.interactive, q.batch]) {
        while (list.head) {
          const t = list.head as Ticket;
          this.#dequeue(t);
          t.reject(err);
        }
      }
    }
  }

  #assign(worker: WorkerRuntime, seq: number, spec: TicketSpec, queuedMs: number): Lease {
    worker.started++;
    this.dispatched++;
    this.queueWait.record(queuedMs);
    if (spec.affinityKey !== undefined) this.#bind(spec.affinityKey, worker);
    return new SlotLease(this.#owner, worker, seq, spec, queuedMs);
  }

  /** The oldest queued request `worker` can serve, preferring one bound to it or to nobody. */
  #takeFor(worker: WorkerRuntime): Ticket | undefined {
    for (const priority of ['interactive', 'batch'] as const) {
      const list = this.#oldestList(worker, priority);
      if (!list) continue;
      let spill: Ticket | undefined;
      let scanned = 0;
      for (
        let n = list.head as Ticket | undefined;
        n && scanned < this.#window;
        n = n.next as Ticket | undefined
      ) {
        scanned++;
        if (n.exclude?.has(worker.id)) continue;
        const bound = this.#preferred(n.spec);
        if (bound === undefined || bound === worker || !isAlive(bound)) return n;
        spill ??= n;
      }
      if (spill) return spill;
    }
    return undefined;
  }

  /** Among the queues this worker can serve, the list of `priority` whose head arrived first. */
  #oldestList(worker: WorkerRuntime, priority: Priority): NodeList | undefined {
    let best: NodeList | undefined;
    const consider = (q: ClassQueue | undefined) => {
      const list = q?.listFor(priority);
      if (list?.head && (!best || list.head.seq < best.head!.seq)) best = list;
    };
    consider(this.#queues.get(ANY));
    for (const m of worker.models) consider(this.#queues.get(m));
    return best;
  }

  /** The worker a request is bound to: the caller's choice when it is alive, else its affinity key's. */
  #preferred(spec: TicketSpec): WorkerRuntime | undefined {
    if (spec.preferWorker !== undefined) {
      const w = this.#workers.find((x) => x.id === spec.preferWorker);
      if (w && isAlive(w)) return w;
    }
    const key = spec.affinityKey;
    return key === undefined ? undefined : this.#affinity.get(key);
  }

  #bind(key: string, worker: WorkerRuntime): void {
    const had = this.#affinity.get(key);
    if (had === worker) return;
    if (had !== undefined) this.#affinity.delete(key);
    this.#affinity.set(key, worker);
    if (this.#affinity.size > this.#maxKeys) {
      const oldest = this.#affinity.keys().next();
      if (!oldest.done) this.#affinity.delete(oldest.value);
    }
  }

  #enqueue(ticket: Ticket): void {
    let q = this.#queues.get(ticket.key);
    if (!q) this.#queues.set(ticket.key, (q = new ClassQueue()));
    const list = q.listFor(ticket.priority);
    if (ticket.spec.seq !== undefined) list.insertBySeq(ticket);
    else list.push(ticket);
    this.#queued++;
    if (this.#queued > this.maxQueued) this.maxQueued = this.#queued;
  }

  #dequeue(ticket: Ticket): void {
    if (!ticket.list) return;
    ticket.list.remove(ticket);
    this.#queued--;
    this.#clock.clearTimeout(ticket.timer);
    if (ticket.onAbort) ticket.spec.signal?.removeEventListener('abort', ticket.onAbort);
  }

  #wakeAt(worker: WorkerRuntime, at: number): void {
    if (this.#timers.has(worker)) return;
    const delay = Math.max(0, at - this.#clock.now());
    this.#timers.set(
      worker,
      this.#clock.setTimeout(() => {
        this.#timers.delete(worker);
        this.pump(worker);
      }, delay),
    );
  }

  /** Queued requests that no live worker could ever take fail now instead of waiting out their timeout. */
  #failOrphans(): void {
    if (this.#queued === 0) return;
    for (const [key, q] of this.#queues) {
      if (q.size === 0) continue;
      const model = key === ANY ? undefined : key;
      const eligible = this.eligible(model);
      if (eligible.some(isAlive)) continue;
      const err = eligible.length === 0 ? this.#noWorkerError(model) : this.#allDownError(model, eligible);
      for (const list of [q.interactive, q.batch]) {
        while (list.head) {
          const t = list.head as Ticket;
          this.#dequeue(t);
          t.reject(err);
        }
      }
    }
  }

  #noWorkerError(model: string | undefined): FleetError {
    return noWorkerError(model, this.knownModels());
  }

  #allDownError(model: string | undefined, eligible: readonly WorkerRuntime[]): FleetError {
    const why = eligible.map((w) => `${w.id}: ${w.state}${w.reason ? ` (${w.reason})` : ''}`).join('; ');
    return new FleetError(
      'FLEET_NO_WORKER',
      `no healthy worker${model === undefined ? '' : ` for model "${model}"`}: ${why}`,
      { retryAfterMs: 5000 },
    );
  }
}

function isAlive(w: WorkerRuntime): boolean {
  return w.state === 'healthy' || w.state === 'degraded';
}

function abortError(signal: AbortLike): FleetError {
  return new FleetError('FLEET_ABORTED', 'request aborted by the caller', { cause: signal.reason });
}
