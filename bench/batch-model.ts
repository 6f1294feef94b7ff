/**
 * A virtual-time model of `npm run bench:batch`, for tuning the batch's dispatch rules: the real
 * `runTasks` (src/batch: board, dispatch, execute unchanged) over a model fleet whose workers
 * follow the simulator's performance model (docs/sim.md: slots, prefill, decode slowdown with
 * concurrency, LRU prefix cache by shared prefix), driven by a virtual clock. One 500-task job
 * takes about a second and is deterministic for a given seed, where a real run takes 80 s with
 * +-1-2 s of noise. It reproduced the real bench within 0.5 s (docs/performance.md "Batch"); it
 * is a model, not a measurement: confirm with `npm run bench:batch`.
 *
 * `node --import tsx bench/batch-model.ts [flags]`: --papers N (100), --workers N (3),
 * --slots N (5), --tokens N (6000 per paper), --output-tokens N (120), --speeds 1,1,0.5 (each
 * worker's speed; 1), --overhead MS (10: model ms of HTTP and fleet per request), --seeds N (8:
 * runs with the overhead jittered 0.25-1.75x by seeds 1..N; 0 = one run without jitter),
 * --no-affinity.
 */
import { findPreset, planTasks, runTasks } from '../src/batch/index.ts';
import { documentInfo } from '../src/batch/plan.ts';
import type { Clock, TimerHandle } from '../src/core/clock.ts';
import type { ChatChunk, ChatRequest } from '../src/core/openai.ts';
import type { Fleet, RequestMeta, RequestOptions } from '../src/fleet/index.ts';
import { listFlag, numberFlag } from './args.ts';
import { paper } from './papers.ts';

const PAPERS = numberFlag('papers', 100);
const WORKERS = numberFlag('workers', 3);
const SLOTS = numberFlag('slots', 5);
const TOKENS = numberFlag('tokens', 6000);
const OUTPUT = numberFlag('output-tokens', 120);
const OVERHEAD = numberFlag('overhead', 10);
const SEEDS = numberFlag('seeds', 8);
const SPEEDS = (listFlag('speeds') ?? []).map(Number);
const AFFINITY = !process.argv.includes('--no-affinity');
// As bench/batch.ts.
const PREFILL_TPS = 1000;
const DECODE_TPS = 40;
const SLOWDOWN = 0.05;
const CACHE_TOKENS = 131072;

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  dead: boolean;
}

/** Time moves only when every callback and promise due now has run: then to the next timer. */
class VirtualClock implements Clock {
  t = 0;
  #timers: Timer[] = [];
  #seq = 0;
  now = () => this.t;
  wallNow = () => this.t;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const timer = { at: this.t + Math.max(0, ms), seq: ++this.#seq, fn, dead: false };
    this.#timers.push(timer);
    return timer as unknown as TimerHandle;
  };
  clearTimeout = (h: TimerHandle | undefined) => {
    if (h !== undefined) (h as unknown as Timer).dead = true;
  };
  sleep = (ms: number) => new Promise<void>((resolve) => this.setTimeout(resolve, ms));

  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    void p.finally(() => (settled = true));
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return p;
      this.#timers = this.#timers.filter((x) => !x.dead);
      let next: Timer | undefined;
      for (const x of this.#timers)
        if (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq)) next = x;
      if (!next) throw new Error(`nothing left to happen at ${this.t} ms, and the job has not ended`);
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.t = next.at;
      next.fn();
    }
  }
}

interface Seq {
  prompt: string;
  prefillEnd: number;
  /** Tokens left to decode. */
  left: number;
  decoding: boolean;
  firstSent: boolean;
  onFirst: () => void;
  onDone: () => void;
}

/** One worker of the simulator's performance model, without HTTP. */
class ModelWorker {
  readonly state = 'healthy';
  readonly cap = SLOTS;
  inFlight = 0;
  prefills = 0;
  requests = 0;
  endedAt = 0;
  #seqs: Seq[] = [];
  #cache: string[] = [];
  #cacheTokens = 0;
  #last = 0;
  #timer: TimerHandle | undefined;

  constructor(
    readonly id: string,
    readonly speed: number,
    readonly clock: VirtualClock,
  ) {}

  freeSlots(): number {
    return this.cap - this.inFlight;
  }

  start(prompt: string, onFirst: () => void, onDone: () => void): void {
    this.#advance();
    const tokens = Math.ceil(prompt.length / 4);
    const cached = this.#lookup(prompt);
    if (cached < tokens / 2) this.prefills++;
    this.requests++;
    const prefillMs = ((tokens - cached) / (PREFILL_TPS * this.speed)) * 1000;
    this.#seqs.push({
      prompt,
      prefillEnd: this.clock.t + prefillMs,
      left: OUTPUT,
      decoding: false,
      firstSent: false,
      onFirst,
      onDone,
    });
    this.#step();
  }

  /** Decode tokens per ms of each sequence, with `n` decoding. */
  #rate(): number {
    const n = this.#seqs.filter((s) => s.decoding).length;
    return (DECODE_TPS * this.speed) / (1 + SLOWDOWN * Math.max(0, n - 1)) / 1000;
  }

  #advance(): void {
    const dt = this.clock.t - this.#last;
    this.#last = this.clock.t;
    const r = this.#rate();
    if (dt > 0) for (const s of this.#seqs) if (s.decoding) s.left -= r * dt;
  }

  #lookup(prompt: string): number {
    let best = 0;
    for (const c of this.#cache) {
      let i = 0;
      const m = Math.min(c.length, prompt.length);
      while (i < m && c.charCodeAt(i) === prompt.charCodeAt(i)) i++;
      best = Math.max(best, i);
    }
    return Math.min(Math.floor(best / 4), Math.ceil(prompt.length / 4) - 1);
  }

  #insert(prompt: string): void {
    this.#cache.push(prompt);
    this.#cacheTokens += Math.ceil(prompt.length / 4);
    while (this.#cacheTokens > CACHE_TOKENS) this.#cacheTokens -= Math.ceil(this.#cache.shift()!.length / 4);
  }

  /** Applies what is due now, then arms one timer for the next event. */
  #step(): void {
    this.#advance();
    const eps = 1e-9;
    for (let changed = true; changed;) {
      changed = false;
      for (const s of [...this.#seqs]) {
        if (!s.decoding && s.prefillEnd <= this.clock.t + eps) {
          s.decoding = true;
          this.#insert(s.prompt);
          changed = true;
        }
        if (s.decoding && !s.firstSent && s.left <= OUTPUT - 1 + eps) {
          s.firstSent = true;
          s.onFirst();
        }
        if (s.decoding && s.left <= eps) {
          this.#seqs.splice(this.#seqs.indexOf(s), 1);
          this.endedAt = this.clock.t;
          s.onDone();
          changed = true;
        }
      }
    }
    const r = this.#rate();
    let next = Infinity;
    for (const s of this.#seqs) {
      if (!s.decoding) next = Math.min(next, s.prefillEnd);
      else {
        if (!s.firstSent) next = Math.min(next, this.clock.t + (s.left - (OUTPUT - 1)) / r);
        next = Math.min(next, this.clock.t + s.left / r);
      }
    }
    this.clock.clearTimeout(this.#timer);
    this.#timer =
      next === Infinity ? undefined : this.clock.setTimeout(() => this.#step(), next - this.clock.t);
  }
}

/** Just what runTasks uses of a Fleet: `workers` and `chatStream`, placing requests as the scheduler does. */
function modelFleet(clock: VirtualClock, seed: number): { fleet: Fleet; workers: ModelWorker[] } {
  const workers = Array.from(
    { length: WORKERS },
    (_, i) => new ModelWorker(`w${i + 1}`, SPEEDS[i] ?? 1, clock),
  );
  const bound = new Map<string, ModelWorker>();
  const waiting: Array<() => boolean> = [];
  let x = seed;
  const overhead = () => {
    if (seed === 0) return OVERHEAD;
    x = (x * 1103515245 + 12345) % 2147483648;
    return OVERHEAD * (0.25 + 1.5 * (x / 2147483648));
  };
  const chatStream = (req: ChatRequest, opts: RequestOptions = {}) => {
    const text = (c: unknown) => (typeof c === 'string' ? c : JSON.stringify(c));
    const prompt = req.messages.map((m) => `${m.role}: ${text(m.content)}\n`).join('');
    let settle!: (m: RequestMeta) => void;
    const stream = {
      worker: undefined as string | undefined,
      meta: new Promise<RequestMeta>((resolve) => (settle = resolve)),
      async *[Symbol.asyncIterator](): AsyncGenerator<ChatChunk> {
        const t0 = clock.t;
        const events: Array<'first' | 'done'> = [];
        let wake: (() => void) | undefined;
        const emit = (e: 'first' | 'done') => {
          events.push(e);
          wake?.();
        };
        const tryStart = (): boolean => {
          const named = workers.find((w) => w.id === opts.preferWorker);
          const key = opts.affinityKey === undefined ? undefined : bound.get(opts.affinityKey);
          // As the scheduler: the named worker, else the key's, when free; else the least busy free one.
          let w = [named, key].find((c) => c !== undefined && c.freeSlots() > 0);
          if (!w)
            for (const c of workers)
              if (c.freeSlots() > 0 && (!w || c.inFlight / c.cap < w.inFlight / w.cap)) w = c;
          if (!w) return false;
          const worker = w;
          worker.inFlight++;
          if (opts.affinityKey !== undefined) bound.set(opts.affinityKey, worker);
          const half = overhead() / 2;
          clock.setTimeout(() => {
            worker.start(
              prompt,
              () => {
                stream.worker = worker.id;
                emit('first');
              },
              () =>
                clock.setTimeout(() => {
                  worker.inFlight--;
                  emit('done');
                  for (let i = 0; i < waiting.length;)
                    if (waiting[i]!()) waiting.splice(i, 1);
                    else i++;
                }, half),
            );
          }, half);
          return true;
        };
        if (!tryStart()) waiting.push(tryStart);
        let ttftMs: number | undefined;
        for (;;) {
          while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          const e = events.shift()!;
          if (e === 'first') {
            ttftMs = clock.t - t0;
            yield chunk({ content: 'x' });
          } else {
            yield {
              ...chunk({}),
              usage: {
                prompt_tokens: Math.ceil(prompt.length / 4),
                completion_tokens: OUTPUT,
                total_tokens: 0,
              },
            };
            settle({
              worker: stream.worker!,
              attempts: 1,
              queuedMs: 0,
              latencyMs: clock.t - t0,
              ...(ttftMs === undefined ? {} : { ttftMs }),
            });
            return;
          }
        }
      },
    };
    return stream;
  };
  return { fleet: { workers, chatStream } as unknown as Fleet, workers };
}

function chunk(delta: ChatChunk['choices'][number]['delta']): ChatChunk {
  return {
    id: 'm',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null }],
  };
}

async function once(seed: number): Promise<{ s: number; workers: ModelWorker[] }> {
  const clock = new VirtualClock();
  const { fleet, workers } = modelFleet(clock, seed);
  const preset = findPreset('research');
  const prompts = preset.prompts.map((p, index) => ({
    index,
    name: p.name,
    template: p.template,
    maxTokens: OUTPUT,
  }));
  const docs = Array.from({ length: PAPERS }, (_, i) => {
    const file = `papers/paper${String(i + 1).padStart(3, '0')}.txt`;
    return documentInfo(file, `/${file}`, paper(i + 1, TOKENS), `Paper ${i + 1}`);
  });
  const tasks = planTasks('model', docs, prompts, (d) => ({ parts: [d.text], truncated: false }));
  const out = await clock.run(
    runTasks({
      fleet,
      clock,
      tasks,
      maxConcurrent: 50,
      affinity: AFFINITY,
      sharedSystem: preset.system,
      model: undefined,
      onTask: () => undefined,
    }),
  );
  if (out.succeeded !== tasks.length) throw new Error(`${out.succeeded}/${tasks.length} tasks succeeded`);
  return { s: out.elapsedMs / 1000, workers };
}

const totals: number[] = [];
for (const seed of SEEDS === 0 ? [0] : Array.from({ length: SEEDS }, (_, i) => i + 1)) {
  const { s, workers } = await once(seed);
  totals.push(s);
  console.log(
    `seed ${seed}: ${s.toFixed(2)} s; workers ended at ${workers.map((w) => (w.endedAt / 1000).toFixed(1)).join(' / ')} s; ` +
      `prefills ${workers.map((w) => w.prefills).join(' / ')}; requests ${workers.map((w) => w.requests).join(' / ')}`,
  );
}
const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
console.log(
  `${PAPERS} papers, ${WORKERS} workers x ${SLOTS} slots: mean ${mean.toFixed(2)} s, max ${Math.max(...totals).toFixed(2)} s (model time)`,
);
