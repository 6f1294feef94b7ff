import type { Routes, SimCore } from './context.ts';
import { sendJson } from './http.ts';
import { chatSpec, completionSpec, embeddingSpec, guarded, inference } from './routes-common.ts';

/**
 * LM Studio: no health route (unknown paths answer 200, see errors.ts), readiness through
 * `/api/v0/models` state and `/api/v1/models` loaded_instances (whose config.parallel = slots).
 * While the model loads it is `not-loaded` and inference gets the 404 "No models loaded".
 */
export function lmStudioRoutes(core: SimCore, routes: Routes): void {
  const o = core.o;
  routes.set(
    'GET /api/v0/models',
    guarded(core, (_req, res) => {
      const state = core.loading() ? 'not-loaded' : 'loaded';
      sendJson(res, 200, {
        object: 'list',
        data: o.models.map((id) => ({
          id,
          object: 'model',
          type: 'llm',
          publisher: 'sim',
          arch: 'llama',
          compatibility_type: 'gguf',
          quantization: 'Q4_K_M',
          state,
          max_context_length: o.contextLength,
        })),
      });
    }),
  );
  routes.set(
    'GET /api/v1/models',
    guarded(core, (_req, res) => {
      const loading = core.loading();
      sendJson(res, 200, {
        models: o.models.map((key) => ({
          type: 'llm',
          publisher: 'sim',
          key,
          display_name: key,
          architecture: 'llama',
          quantization: { name: 'Q4_K_M', bits_per_weight: 4 },
          size_bytes: 4_000_000_000,
          params_string: '7B',
          loaded_instances: loading
            ? []
            : [
                {
                  id: key,
                  config: {
                    context_length: o.contextLength,
                    eval_batch_size: 512,
                    flash_attention: false,
                    offload_kv_cache_to_gpu: true,
                    parallel: o.slots,
                  },
                },
              ],
          max_context_length: o.contextLength,
          format: 'gguf',
          capabilities: { vision: false, trained_for_tool_use: true }, // the simulator calls functions
        })),
      });
    }),
  );
  routes.set('GET /lmstudio-greeting', (_req, res) => sendJson(res, 200, '{"lmstudio":true}'));
  routes.set('POST /api/v0/chat/completions', inference(core, chatSpec(core, '/api/v0/chat/completions')));
  routes.set('POST /api/v0/completions', inference(core, completionSpec(core, '/api/v0/completions')));
  routes.set('POST /api/v0/embeddings', inference(core, embeddingSpec('/api/v0/embeddings')));
}
