/** The library: `import { createFleet, loadConfig } from 'llm-fleet'`. */
export { createFleet, Fleet, FleetStream, type FleetDeps } from './fleet/index.ts';
export type * from './fleet/types.ts';
export {
  loadConfig,
  parseConfig,
  ConfigError,
  configJsonSchema,
  defaultSettings,
  type ConfigProblem,
} from './config/index.ts';
export type { FleetConfig, WorkerConfig, Settings, WorkerType } from './config/types.ts';
export { createBackend } from './backends/index.ts';
export type { Backend, ProbeResult } from './backends/types.ts';
export { FleetError, isFleetError, type FleetErrorCode } from './core/errors.ts';
export type * from './core/openai.ts';
