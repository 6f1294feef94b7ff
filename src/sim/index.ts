/** Simulated LLM servers: real HTTP servers speaking each server type's wire format (docs/sim.md). */
export type {
  ResolvedSimOptions,
  SimFaults,
  SimFleet,
  SimOutcome,
  SimRequestLog,
  SimStats,
  SimType,
  SimWorker,
  SimWorkerEntry,
  SimWorkerOptions,
} from './types.ts';
export { SIM_TYPES } from './types.ts';
export { SIM_DEFAULTS, resolveSimOptions, validateFaults } from './options.ts';
export { startSimWorker } from './worker.ts';
export { startSimFleet } from './fleet.ts';
export { PrefixCache } from './prefix-cache.ts';
export { parseSimSpecs } from './spec-file.ts';
