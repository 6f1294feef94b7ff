import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import type { FleetConfig } from '../../src/config/types.ts';
import { startSimFleet, type SimFleet, type SimWorkerOptions } from '../../src/sim/index.ts';

export const sims: SimFleet[] = [];

export async function closeSims(): Promise<void> {
  await Promise.all(sims.splice(0).map((s) => s.close()));
}

/** Starts simulated workers on port 0 and returns them with the parsed fleet config. */
export async function simFleet(specs: SimWorkerOptions[]): Promise<{ sim: SimFleet; config: FleetConfig }> {
  const sim = await startSimFleet(specs);
  sims.push(sim);
  const config = parseConfig({ ...sim.workerConfig(), settings: { max_retries: 1 } }, { file: 'test' });
  return { sim, config };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fleet-bench-'));
}

/** Starts simulated workers and writes their config into a temp dir; returns the dir and file. */
export async function simConfigFile(
  specs: SimWorkerOptions[],
): Promise<{ sim: SimFleet; dir: string; file: string }> {
  const sim = await startSimFleet(specs);
  sims.push(sim);
  const dir = tempDir();
  const file = join(dir, 'workers.json');
  writeFileSync(file, JSON.stringify(sim.workerConfig(), null, 2));
  return { sim, dir, file };
}
