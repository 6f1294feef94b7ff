import { isDeepStrictEqual } from 'node:util';
import type { WorkerConfig } from '../config/types.ts';
import type { WorkerRuntime } from './worker.ts';

export interface ReloadPlan {
  /** Runtimes kept as they are (same id, same config). */
  kept: WorkerRuntime[];
  /** New configs to start (new ids, or changed configs of existing ids). */
  start: WorkerConfig[];
  /** Runtimes to drain: removed from the config, or replaced by a changed config. */
  drain: WorkerRuntime[];
}

/** What a config reload changes: workers are matched by id; any change of a worker's config replaces it. */
export function planReload(current: readonly WorkerRuntime[], next: readonly WorkerConfig[]): ReloadPlan {
  const byId = new Map(current.map((w) => [w.id, w]));
  const plan: ReloadPlan = { kept: [], start: [], drain: [] };
  for (const cfg of next) {
    const old = byId.get(cfg.id);
    byId.delete(cfg.id);
    if (old && isDeepStrictEqual(old.config, cfg)) plan.kept.push(old);
    else {
      if (old) plan.drain.push(old);
      plan.start.push(cfg);
    }
  }
  plan.drain.push(...byId.values());
  return plan;
}

export interface ReloadResult {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}
