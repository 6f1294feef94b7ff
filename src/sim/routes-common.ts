import { isFleetError } from '../core/errors.ts';
import { parseChat, parseCompletion, parseEmbedding } from './calls.ts';
import type { Handler, Routes, SimCore } from './context.ts';
import { errorResponse } from './errors.ts';
import { chatFormat, completionFormat, embeddingFormat, withKeepalive } from './formats-openai.ts';
import { bearerToken, readBody, sendError, sendJson } from './http.ts';
import { validateFaults } from './options.ts';
import { serveInference, type InferenceSpec } from './pipeline.ts';
import type { SimFaults, SimStats } from './types.ts';

/** What the /sim/* endpoints control. */
export interface SimControl {
  stats(): SimStats;
  resetStats(): void;
  setFaults(f: SimFaults): void;
}

/** Answers the type's 401 unless the request carries the worker's key (when it has one). */
export function guarded(core: SimCore, handler: Handler): Handler {
  return (req, res, query) => {
    if (core.o.apiKey !== undefined && bearerToken(req) !== core.o.apiKey) {
      sendError(res, errorResponse(core.o.type, { kind: 'unauthorized' }), core.o.type);
      return;
    }
    handler(req, res, query);
  };
}

export function inference(core: SimCore, spec: InferenceSpec): Handler {
  return (req, res) => serveInference(core, req, res, spec);
}

export function chatSpec(core: SimCore, path: string): InferenceSpec {
  const format = chatFormat(core.o.type);
  return {
    path,
    api: 'openai',
    parse: parseChat,
    format: core.o.type === 'mlx' ? withKeepalive(format) : format,
    idPrefix: 'chatcmpl-',
  };
}

export function completionSpec(core: SimCore, path: string): InferenceSpec {
  const format = completionFormat(core.o.type);
  return {
    path,
    api: 'openai',
    parse: parseCompletion,
    format: core.o.type === 'mlx' ? withKeepalive(format) : format,
    idPrefix: 'cmpl-',
  };
}

export function embeddingSpec(path: string): InferenceSpec {
  return { path, api: 'openai', parse: parseEmbedding, format: embeddingFormat(), idPrefix: 'embd-' };
}

/** The OpenAI-style model list most types share (types with their own shape replace it). */
function openAiModels(core: SimCore): Handler {
  const ownedBy = core.o.type === 'exo' ? 'exo' : core.o.type === 'lm_studio' ? 'organization_owner' : 'sim';
  return (_req, res) => {
    const created = Math.floor(core.clock.wallNow() / 1000);
    sendJson(res, 200, {
      object: 'list',
      data: core.o.models.map((id) => ({ id, object: 'model', created, owned_by: ownedBy })),
    });
  };
}

/** OpenAI-compatible routes and the simulator's own /sim/* routes, on every type. */
export function commonRoutes(core: SimCore, control: SimControl, routes: Routes): void {
  routes.set('POST /v1/chat/completions', inference(core, chatSpec(core, '/v1/chat/completions')));
  routes.set('POST /v1/completions', inference(core, completionSpec(core, '/v1/completions')));
  routes.set('POST /v1/embeddings', inference(core, embeddingSpec('/v1/embeddings')));
  routes.set('GET /v1/models', guarded(core, openAiModels(core)));

  routes.set('GET /sim/stats', (_req, res) => sendJson(res, 200, control.stats()));
  routes.set('POST /sim/reset', (req, res) => {
    readBody(req, () => {
      control.resetStats();
      sendJson(res, 200, { ok: true });
    });
  });
  routes.set('POST /sim/faults', (req, res) => {
    readBody(req, (text) => {
      try {
        const faults = validateFaults(JSON.parse(text === '' ? '{}' : text) as SimFaults);
        control.setFaults(faults);
        sendJson(res, 200, { ok: true, faults });
      } catch (err) {
        const message = isFleetError(err) || err instanceof Error ? err.message : String(err);
        sendJson(res, 400, { error: message });
      }
    });
  });
}
