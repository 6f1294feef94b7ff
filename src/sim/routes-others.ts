import type { Routes, SimCore } from './context.ts';
import { send, sendJson } from './http.ts';
import { chatSpec, guarded, inference } from './routes-common.ts';

/** vLLM: /health (200 empty, 503 while loading), /metrics gauges, its own /v1/models fields. */
export function vllmRoutes(core: SimCore, routes: Routes): void {
  const o = core.o;
  const health = (_req: unknown, res: Parameters<typeof send>[0]) =>
    send(res, core.loading() ? 503 : 200, 'text/plain', '', 'vllm');
  routes.set('GET /health', health);
  routes.set('GET /ping', health);
  routes.set('GET /version', (_req, res) => sendJson(res, 200, { version: '0.11.0' }, 'vllm'));
  routes.set(
    'GET /v1/models',
    guarded(core, (_req, res) => {
      const created = Math.floor(core.clock.wallNow() / 1000);
      sendJson(
        res,
        200,
        {
          object: 'list',
          data: o.models.map((id) => ({
            id,
            object: 'model',
            created,
            owned_by: 'vllm',
            root: id,
            parent: null,
            max_model_len: o.contextLength,
            permission: [],
          })),
        },
        'vllm',
      );
    }),
  );
  routes.set('GET /metrics', (_req, res) => {
    const c = core.engine.counters;
    const labels = `{engine="0",model_name="${o.models[0] ?? ''}"}`;
    const lines: string[] = [];
    const metric = (name: string, kind: string, help: string, value: number) => {
      lines.push(
        `# HELP vllm:${name} ${help}`,
        `# TYPE vllm:${name} ${kind}`,
        `vllm:${name}${labels} ${value}`,
      );
    };
    metric(
      'num_requests_running',
      'gauge',
      'Number of requests in model execution batches.',
      core.engine.running,
    );
    metric(
      'num_requests_waiting',
      'gauge',
      'Number of requests waiting to be processed.',
      core.engine.queued,
    );
    metric(
      'kv_cache_usage_perc',
      'gauge',
      'KV-cache usage. 1 means 100 percent usage.',
      core.engine.running / o.slots,
    );
    metric(
      'prompt_tokens_total',
      'counter',
      'Number of prefill tokens processed.',
      c.prefillTokens + c.cacheHitTokens,
    );
    metric('generation_tokens_total', 'counter', 'Number of generation tokens processed.', c.decodeTokens);
    metric(
      'prefix_cache_hits_total',
      'counter',
      'Prefix cache hits, in terms of number of cached tokens.',
      c.cacheHitTokens,
    );
    send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', `${lines.join('\n')}\n`, 'vllm');
  });
}

/** MLX-LM: /health is 200 even while the model loads; /v1/models lists ids only. */
export function mlxRoutes(core: SimCore, routes: Routes): void {
  routes.set('GET /health', (_req, res) => sendJson(res, 200, '{"status": "ok"}', 'mlx'));
  routes.set('POST /chat/completions', inference(core, chatSpec(core, '/chat/completions')));
  routes.set('GET /v1/models', (_req, res) => {
    const created = Math.floor(core.clock.wallNow() / 1000);
    sendJson(
      res,
      200,
      { object: 'list', data: core.o.models.map((id) => ({ id, object: 'model', created })) },
      'mlx',
    );
  });
}

/** exo: its ChatGPT-compatible API also answers without the /v1 prefix and has /healthcheck. */
export function exoRoutes(core: SimCore, routes: Routes): void {
  routes.set('GET /healthcheck', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  routes.set('POST /chat/completions', inference(core, chatSpec(core, '/chat/completions')));
  const models = routes.get('GET /v1/models');
  if (models !== undefined) routes.set('GET /models', models);
}
