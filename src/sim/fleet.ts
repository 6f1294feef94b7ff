import { FleetError } from '../core/errors.ts';
import type { SimFleet, SimWorker, SimWorkerEntry, SimWorkerOptions } from './types.ts';
import { startSimWorker } from './worker.ts';
import { copyWith } from '../core/objects.ts';

/**
 * Starts one simulated worker per spec. A spec without an id gets `sim-N` (1-based) and one without
 * a seed gets N, so the workers of a fleet draw different text and faults. If any worker fails to
 * start, the others are closed and the first error is thrown.
 */
export async function startSimFleet(specs: SimWorkerOptions[]): Promise<SimFleet> {
  const full = specs.map((spec, i) =>
    copyWith(spec, { id: spec.id ?? `sim-${i + 1}`, seed: spec.seed ?? i + 1 }),
  );
  const seen = new Set<string>();
  for (const [i, s] of full.entries()) {
    if (seen.has(s.id)) {
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `sim fleet: workers[${i}].id: "${s.id}" is used twice; ids must be unique`,
      );
    }
    seen.add(s.id);
  }
  const settled = await Promise.allSettled(full.map((spec) => startSimWorker(spec)));
  const workers: SimWorker[] = [];
  let failure: Error | undefined;
  for (const s of settled) {
    if (s.status === 'fulfilled') workers.push(s.value);
    else failure ??= s.reason instanceof Error ? s.reason : new Error(String(s.reason));
  }
  if (failure !== undefined) {
    await Promise.all(workers.map((w) => w.close()));
    throw failure;
  }
  return {
    workers,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
    workerConfig: () => ({ workers: workers.map(toEntry) }),
  };
}

function toEntry(w: SimWorker): SimWorkerEntry {
  return {
    id: w.id,
    host: w.options.host,
    port: w.port,
    type: w.type,
    model: w.options.models[0] ?? 'sim-model',
    max_concurrent_requests: w.options.slots,
  };
}
