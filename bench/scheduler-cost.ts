import type { Backend } from '../src/backends/types.ts';
import { systemClock } from '../src/core/clock.ts';
import { createRandom } from '../src/core/random.ts';
import type { WorkerConfig } from '../src/config/types.ts';
import { Scheduler, type Lease, type TicketSpec } from '../src/fleet/scheduler.ts';
import { WorkerRuntime } from '../src/fleet/worker.ts';

const WORKERS = 100;
const QUEUED = 10_000;

function runtime(i: number): WorkerRuntime {
  const cfg: WorkerConfig = {
    id: `w${i}`,
    type: 'openai',
    host: '127.0.0.1',
    port: 1,
    baseUrl: 'http://127.0.0.1:1',
    model: 'm',
    models: ['m'],
    maxConcurrentRequests: 1,
    capSource: 'config',
    weight: 1,
    api: 'openai',
    timeouts: { connectMs: 1, firstTokenMs: 1, stallMs: 1, totalMs: 1 },
  };
  return new WorkerRuntime(cfg, {} as Backend, systemClock);
}

const spec: TicketSpec = {
  model: undefined,
  priority: 'batch',
  promptTokens: 100,
  outputTokens: 50,
  queueTimeoutMs: 0,
};

/** Dispatch decisions per second: slots freeing onto a 10,000-deep queue, and picks among 100 free workers. */
export async function dispatchCost(runs: number): Promise<{ queued: number; direct: number }> {
  const queued: number[] = [];
  const direct: number[] = [];
  for (let r = 0; r < runs; r++) {
    const workers = Array.from({ length: WORKERS }, (_, i) => runtime(i));
    const s = new Scheduler(workers, {
      clock: systemClock,
      random: createRandom(r + 1),
      maxQueueSize: QUEUED + 1,
    });
    const first = await Promise.all(workers.map(() => s.acquire(spec)));
    let left = QUEUED;
    let finish!: () => void;
    const all = new Promise<void>((res) => (finish = res));
    const onLease = (l: Lease) => {
      if (--left === 0) finish();
      l.release();
    };
    for (let i = 0; i < QUEUED; i++) void s.acquire(spec).then(onLease);
    const t0 = performance.now();
    for (const l of first) l.release();
    await all;
    queued.push(QUEUED / ((performance.now() - t0) / 1000));

    // Direct picks: every worker free, each request scored against all 100.
    const t1 = performance.now();
    for (let i = 0; i < QUEUED; i++) (await s.acquire(spec)).release();
    direct.push(QUEUED / ((performance.now() - t1) / 1000));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { queued: med(queued), direct: med(direct) };
}
