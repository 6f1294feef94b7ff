import type { WorkerConfig } from '../config/types.ts';
import { LlamaCppBackend } from './llama-cpp.ts';
import { LmStudioBackend } from './lm-studio.ts';
import { MlxBackend } from './mlx.ts';
import { OllamaBackend } from './ollama.ts';
import { OpenAICompatBackend, type BackendDeps } from './openai-compat.ts';
import type { Backend } from './types.ts';
import { VllmBackend } from './vllm.ts';

export type { Backend, CallOptions, ProbeResult } from './types.ts';
export { OpenAICompatBackend, type BackendDeps } from './openai-compat.ts';
export { LmStudioBackend } from './lm-studio.ts';
export { LlamaCppBackend } from './llama-cpp.ts';
export { VllmBackend } from './vllm.ts';
export { MlxBackend } from './mlx.ts';
export { OllamaBackend } from './ollama.ts';
export {
  mapHttpError,
  mapStreamError,
  mapTransportError,
  parseErrorBody,
  type HeadersLike,
} from './errors.ts';

/**
 * The adapter for a worker's `type`: `openai` and `exo` use the OpenAI-compatible base as is;
 * `lm_studio`, `llama_cpp`, `vllm`, `mlx` and `ollama` override what their server does differently.
 */
export function createBackend(worker: WorkerConfig, deps: BackendDeps = {}): Backend {
  switch (worker.type) {
    case 'lm_studio':
      return new LmStudioBackend(worker, deps);
    case 'llama_cpp':
      return new LlamaCppBackend(worker, deps);
    case 'vllm':
      return new VllmBackend(worker, deps);
    case 'mlx':
      return new MlxBackend(worker, deps);
    case 'ollama':
      return new OllamaBackend(worker, deps);
    case 'openai':
    case 'exo':
      return new OpenAICompatBackend(worker, deps);
  }
}
