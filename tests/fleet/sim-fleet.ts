import { afterEach } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { createRandom } from '../../src/core/random.ts';
import { createFleet, type Fleet } from '../../src/fleet/index.ts';
import { startSimFleet, type SimFleet, type SimWorkerOptions } from '../../src/sim/index.ts';

export interface SimFleetOptions {
  /** The config's `settings` block. */
  settings?: Record<string, unknown>;
  /** Merged into every worker's config entry. */
  worker?: Record<string, unknown>;
  /** Seed of the fleet's random source. @default 1 */
  seed?: number;
}

/**
 * For a test file: a function that starts real simulated workers (port 0) and a fleet over them
 * (no background probes), both closed after each test.
 */
export function useSimFleet(): (
  specs: SimWorkerOptions[],
  opts?: SimFleetOptions,
) => Promise<{ sim: SimFleet; fleet: Fleet }> {
  let sim: SimFleet | undefined;
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    await sim?.close();
    fleet = undefined;
    sim = undefined;
  });
  return async (specs, opts = {}) => {
    sim = await startSimFleet(specs);
    const config = parseConfig(
      {
        workers: sim.workerConfig().workers.map((w) => ({ ...w, ...opts.worker })),
        settings: opts.settings ?? {},
      },
      { file: 'test' },
    );
    fleet = createFleet(config, { probe: false, random: createRandom(opts.seed ?? 1) });
    return { sim, fleet };
  };
}
