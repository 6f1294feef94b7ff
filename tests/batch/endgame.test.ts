import { describe, expect, it } from 'vitest';
import { findPreset, planTasks, runTasks, type Task, type TaskRecord } from '../../src/batch/index.ts';
import { documentInfo } from '../../src/batch/plan.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { Fleet, RequestOptions } from '../../src/fleet/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { paper } from './helpers.ts';
import { useSimFleet } from '../fleet/sim-fleet.ts';

// The end of a batch job over real simulated workers (port 0): which worker each request goes to,
// and how the last documents are spread so that the workers finish together.

const SCALE = 0.5;
const TOKENS = 3000; // per document: 3 s of prefill at 1,000 tokens/s
const OUTPUT = 40; // per answer: 1 s at 40 tokens/s alone, 1.05 s beside another

const startFleet = useSimFleet();

async function start(workers: number): Promise<{ sim: SimFleet; fleet: Fleet }> {
  return startFleet(
    Array.from({ length: workers }, (_, i) => ({
      id: `w${i + 1}`,
      slots: 2,
      prefillTps: 1000,
      decodeTps: 40,
      outputTokens: OUTPUT,
      cacheTokens: 131072,
      contextLength: 8192,
      timeScale: SCALE,
    })),
    { settings: { health_check_interval: 3600 } },
  );
}

/** The research preset (5 prompts) over `docs` papers, document by document. */
function tasks(docs: number, tokens = TOKENS): Task[] {
  const preset = findPreset('research');
  const prompts = preset.prompts.map((p, index) => ({
    index,
    name: p.name,
    template: p.template,
    maxTokens: OUTPUT,
  }));
  const infos = Array.from({ length: docs }, (_, i) =>
    documentInfo(`p${i + 1}.txt`, `/papers/p${i + 1}.txt`, paper(i + 1, tokens), `Paper ${i + 1}`),
  );
  return planTasks('job', infos, prompts, (d) => ({ parts: [d.text], truncated: false }));
}

/** Runs the tasks, recording the worker each request named and the one that served it. */
async function run(f: Fleet, list: Task[], affinity: boolean) {
  const named: Array<{ asked: string | undefined; stream: { worker: string | undefined } }> = [];
  const chatStream = f.chatStream.bind(f);
  f.chatStream = (req, opts: RequestOptions = {}) => {
    const stream = chatStream(req, opts);
    named.push({ asked: opts.preferWorker, stream });
    return stream;
  };
  const records: TaskRecord[] = [];
  const outcome = await runTasks({
    fleet: f,
    clock: systemClock,
    tasks: list,
    maxConcurrent: 50,
    affinity,
    sharedSystem: findPreset('research').system,
    model: undefined,
    onTask: (r) => records.push(r),
  });
  return { outcome, records, named };
}

describe('batch: the end of the job', () => {
  it('names the worker of every request, and splits the one document too many so the workers finish together', async () => {
    // 7 documents on 3 workers: one worker would get a third document while the others have two.
    const { sim, fleet } = await start(3);
    const list = tasks(7);
    const { outcome, records, named } = await run(fleet, list, true);
    expect(outcome).toMatchObject({ succeeded: 35, failed: 0, interrupted: 0 });
    expect(new Set(records.map((r) => r.taskId)).size).toBe(35);

    // Every request named a worker, and ran there: the batch's picture of each worker's load is
    // where the work really was.
    expect(named).toHaveLength(35);
    expect(named.every((n) => n.asked !== undefined && n.asked === n.stream.worker)).toBe(true);

    // The extra document's prompts ran on more than one worker, at the price of a few prefills:
    // every other prompt was served from the prefix cache.
    const logs = sim.workers.map((w) => w.stats().log);
    const prefills = logs.flat().filter((l) => l.cachedTokens < l.promptTokens / 2).length;
    expect(prefills).toBeGreaterThanOrEqual(7);
    expect(prefills).toBeLessThanOrEqual(7 + 3);
    const workersOf = new Map<string, Set<string>>();
    for (const r of records) {
      const set = workersOf.get(r.file) ?? new Set<string>();
      set.add(r.worker!);
      workersOf.set(r.file, set);
    }
    expect([...workersOf.values()].some((s) => s.size > 1)).toBe(true);

    // The workers finished within about an answer of one another (model time). Left to one
    // worker, the third document would keep it busy about four answers after the others.
    const ends = logs.map((log) => Math.max(...log.map((l) => l.finishedAt ?? 0)) / SCALE);
    const answerMs = (OUTPUT / 40) * 1.05 * 1000;
    expect(Math.max(...ends) - Math.min(...ends)).toBeLessThan(2 * answerMs);
  });

  it('without affinity names no worker: the fleet chooses', async () => {
    const { fleet } = await start(2);
    const { outcome, named } = await run(fleet, tasks(2, 300), false);
    expect(outcome).toMatchObject({ succeeded: 10, failed: 0 });
    expect(named.every((n) => n.asked === undefined && n.stream.worker !== undefined)).toBe(true);
  });
});
