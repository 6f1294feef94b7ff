import type { Handler, Routes, SimCore } from './context.ts';
import { errorResponse } from './errors.ts';
import { send, sendError, sendJson } from './http.ts';
import { chatSpec, completionSpec, embeddingSpec, guarded, inference } from './routes-common.ts';

/**
 * llama.cpp's llama-server (shapes from reference/captures/llama-server): /health 503 while
 * loading, /props, /slots (with ?fail_on_no_slot=1), /metrics, /v1/models with both `models[]`
 * and `data[]`, and 503 "Loading model" on everything but /health while loading.
 */
export function llamaRoutes(core: SimCore, routes: Routes): void {
  const o = core.o;
  const loaded = (h: Handler): Handler => {
    const g = guarded(core, h);
    return (req, res, q) => {
      if (core.loading()) return sendError(res, errorResponse('llama_cpp', { kind: 'loading' }), 'llama_cpp');
      g(req, res, q);
    };
  };
  const publicLoaded =
    (h: Handler): Handler =>
    (req, res, q) => {
      if (core.loading()) return sendError(res, errorResponse('llama_cpp', { kind: 'loading' }), 'llama_cpp');
      h(req, res, q);
    };

  const health: Handler = (_req, res) => {
    if (core.loading()) return sendError(res, errorResponse('llama_cpp', { kind: 'loading' }), 'llama_cpp');
    sendJson(res, 200, '{"status":"ok"}', 'llama_cpp');
  };
  routes.set('GET /health', health);
  routes.set('GET /v1/health', health);

  routes.set('POST /chat/completions', inference(core, chatSpec(core, '/chat/completions')));
  routes.set('POST /completions', inference(core, completionSpec(core, '/completions')));
  routes.set('POST /embeddings', inference(core, embeddingSpec('/embeddings')));

  const models: Handler = (_req, res) => {
    const created = Math.floor(core.clock.wallNow() / 1000);
    sendJson(
      res,
      200,
      {
        models: o.models.map((name) => ({
          name,
          model: name,
          modified_at: '',
          size: '',
          digest: '',
          type: 'model',
          description: '',
          tags: [''],
          capabilities: ['completion'],
          parameters: '',
          details: {
            parent_model: '',
            format: 'gguf',
            family: '',
            families: [''],
            parameter_size: '',
            quantization_level: '',
          },
        })),
        object: 'list',
        data: o.models.map((id) => ({
          id,
          aliases: [id],
          tags: [],
          object: 'model',
          created,
          owned_by: 'llamacpp',
          meta: {
            vocab_type: 1,
            n_vocab: 32000,
            n_ctx: o.contextLength,
            n_ctx_train: o.contextLength,
            n_embd: 4096,
          },
        })),
      },
      'llama_cpp',
    );
  };
  routes.set('GET /v1/models', publicLoaded(models));
  routes.set('GET /models', publicLoaded(models));

  routes.set(
    'GET /props',
    loaded((_req, res) => {
      sendJson(
        res,
        200,
        {
          default_generation_settings: {
            params: { n_predict: -1, temperature: 0.8, top_k: 40, top_p: 0.95 },
            n_ctx: o.contextLength,
          },
          total_slots: o.slots,
          model_alias: o.models[0],
          model_path: `models/${o.models[0]}.gguf`,
          endpoint_slots: true,
          endpoint_props: false,
          endpoint_metrics: true,
          build_info: 'b0-sim',
          is_sleeping: false,
        },
        'llama_cpp',
      );
    }),
  );

  routes.set(
    'GET /slots',
    loaded((_req, res, query) => {
      const busy = core.engine.runningSequences;
      if (/(^|&)fail_on_no_slot=(1|true)(&|$)/.test(query) && busy.length >= o.slots) {
        const e = errorResponse('llama_cpp', { kind: 'server', status: 503, message: 'no slot available' });
        return sendError(res, e, 'llama_cpp');
      }
      const slots = [];
      for (let id = 0; id < o.slots; id++) {
        const seq = busy[id];
        const n = seq === undefined ? 0 : core.engine.tokensOf(seq);
        const total = seq?.job.outputTokens ?? 0;
        slots.push({
          id,
          n_ctx: o.contextLength,
          speculative: false,
          is_processing: seq !== undefined,
          n_prompt_tokens: seq?.job.promptTokens ?? 0,
          n_prompt_tokens_cache: seq?.cachedTokens ?? 0,
          next_token: [
            { has_next_token: seq !== undefined, has_new_line: false, n_remain: total - n, n_decoded: n },
          ],
        });
      }
      sendJson(res, 200, slots, 'llama_cpp');
    }),
  );

  routes.set(
    'GET /metrics',
    loaded((_req, res) => {
      const c = core.engine.counters;
      const lines: string[] = [];
      const metric = (name: string, kind: string, help: string, value: number) => {
        lines.push(
          `# HELP llamacpp:${name} ${help}`,
          `# TYPE llamacpp:${name} ${kind}`,
          `llamacpp:${name} ${value}`,
        );
      };
      metric(
        'prompt_tokens_total',
        'counter',
        'Number of prompt tokens processed, excluding cached tokens',
        c.prefillTokens,
      );
      metric(
        'prompt_tokens_cached_total',
        'counter',
        'Number of prompt tokens reused from the cache',
        c.cacheHitTokens,
      );
      metric('tokens_predicted_total', 'counter', 'Number of generation tokens processed', c.decodeTokens);
      metric('requests_processing', 'gauge', 'Number of requests processing', core.engine.running);
      metric('requests_deferred', 'gauge', 'Number of requests deferred', core.engine.queued);
      send(res, 200, 'text/plain; version=0.0.4', `${lines.join('\n')}\n`, 'llama_cpp');
    }),
  );
}
