import { isRecord } from '../core/objects.ts';
import { parseEmbedding, parseOllamaChat, parseOllamaGenerate } from './calls.ts';
import type { Routes, SimCore } from './context.ts';
import { ollamaChatFormat, ollamaEmbedFormat, ollamaGenerateFormat } from './formats-ollama.ts';
import { readBody, send, sendJson } from './http.ts';
import { guarded, inference } from './routes-common.ts';

export const OLLAMA_VERSION = '0.12.6';

/**
 * Ollama: `GET /` says it is running, /api/version, /api/tags (models on disk), /api/ps (models in
 * memory, empty while loading), /api/show (details and capabilities), and the native NDJSON /api/chat, /api/generate, /api/embed.
 */
export function ollamaRoutes(core: SimCore, routes: Routes): void {
  const o = core.o;
  const details = {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '7B',
    quantization_level: 'Q4_K_M',
  };
  const running = (_req: unknown, res: Parameters<typeof send>[0]) =>
    send(res, 200, 'text/plain; charset=utf-8', 'Ollama is running');
  routes.set('GET /', running);
  routes.set('HEAD /', running);
  routes.set('GET /api/version', (_req, res) => sendJson(res, 200, { version: OLLAMA_VERSION }));
  routes.set(
    'GET /api/tags',
    guarded(core, (_req, res) => {
      const modified = new Date(core.clock.wallNow()).toISOString();
      sendJson(res, 200, {
        models: o.models.map((name) => ({
          name,
          model: name,
          modified_at: modified,
          size: 4_000_000_000,
          digest: 'sha256:' + '0'.repeat(64),
          details,
        })),
      });
    }),
  );
  routes.set(
    'GET /api/ps',
    guarded(core, (_req, res) => {
      const expires = new Date(core.clock.wallNow() + 5 * 60_000).toISOString();
      const models = core.loading()
        ? []
        : o.models.map((name) => ({
            name,
            model: name,
            size: 5_000_000_000,
            digest: 'sha256:' + '0'.repeat(64),
            details,
            expires_at: expires,
            size_vram: 5_000_000_000,
            context_length: o.contextLength,
          }));
      sendJson(res, 200, { models });
    }),
  );
  // What the model can do: the simulator calls functions (sim/calls.ts), and thinks when
  // reasoningTokens > 0. Unknown models get Ollama's 404.
  routes.set(
    'POST /api/show',
    guarded(core, (req, res) => {
      readBody(req, (text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const name = isRecord(body) ? (body['model'] ?? body['name']) : undefined;
        if (typeof name !== 'string' || !o.models.includes(name)) {
          sendJson(res, 404, { error: `model '${String(name)}' not found` });
          return;
        }
        sendJson(res, 200, {
          modelfile: `FROM ${name}\n`,
          parameters: 'stop "<|eot_id|>"',
          template: '{{ .Prompt }}',
          details,
          model_info: {
            'general.architecture': 'llama',
            'general.parameter_count': 7_000_000_000,
            'llama.context_length': o.contextLength,
            'tokenizer.ggml.tokens': null,
          },
          capabilities: o.reasoningTokens > 0 ? ['completion', 'tools', 'thinking'] : ['completion', 'tools'],
          modified_at: new Date(core.clock.wallNow()).toISOString(),
        });
      });
    }),
  );
  routes.set(
    'GET /v1/models',
    guarded(core, (_req, res) => {
      const created = Math.floor(core.clock.wallNow() / 1000);
      sendJson(res, 200, {
        object: 'list',
        data: o.models.map((id) => ({ id, object: 'model', created, owned_by: 'library' })),
      });
    }),
  );
  routes.set(
    'POST /api/chat',
    inference(core, {
      api: 'native',
      requireModel: true,
      path: '/api/chat',
      parse: parseOllamaChat,
      format: ollamaChatFormat(),
      idPrefix: '',
    }),
  );
  routes.set(
    'POST /api/generate',
    inference(core, {
      api: 'native',
      requireModel: true,
      path: '/api/generate',
      parse: parseOllamaGenerate,
      format: ollamaGenerateFormat(),
      idPrefix: '',
    }),
  );
  routes.set(
    'POST /api/embed',
    inference(core, {
      api: 'native',
      requireModel: true,
      path: '/api/embed',
      parse: parseEmbedding,
      format: ollamaEmbedFormat(),
      idPrefix: '',
    }),
  );
}
