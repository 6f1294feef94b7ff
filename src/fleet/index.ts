import { createBackend } from '../backends/index.ts';
import type { FleetConfig } from '../config/types.ts';
import { Fleet, type FleetDeps } from './fleet.ts';
import { copyWith } from '../core/objects.ts';

export { Fleet, type FleetDeps } from './fleet.ts';
export { FleetStream } from './stream.ts';
export { noWorkerError } from './scheduler.ts';
export type * from './types.ts';
export type { ReloadResult } from './reload.ts';

/**
 * Creates a fleet from a loaded config (see `loadConfig`). Health probes start at once; await
 * `fleet.ready()` to wait for the first round.
 */
export function createFleet(config: Pick<FleetConfig, 'workers' | 'settings'>, deps: FleetDeps = {}): Fleet {
  return new Fleet(
    config,
    copyWith(deps, {
      createBackend: deps.createBackend ?? ((w) => createBackend(w, deps.clock ? { clock: deps.clock } : {})),
    }),
  );
}
