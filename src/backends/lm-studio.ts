import { detailsOf, type ModelDetails } from '../core/capabilities.ts';
import type { ModelInfo } from '../core/openai.ts';
import type { CallOptions } from './types.ts';
import { copyWith, isRecord, nonEmptyString as text, finiteNumber as num } from '../core/objects.ts';
import { OpenAICompatBackend } from './openai-compat.ts';
import { hasModel, modelMissing, type ProbeInfo, type Prober } from './probe.ts';

interface V0Model {
  id: string;
  loaded: boolean;
  maxContext: number | undefined;
  publisher: string | undefined;
}

/** `/api/v0/models` entries, or undefined when the body is not that list (LM Studio older than 0.3.6). */
function parseV0(raw: unknown): V0Model[] | undefined {
  if (!isRecord(raw) || !Array.isArray(raw['data'])) return undefined;
  const out: V0Model[] = [];
  for (const d of raw['data']) {
    if (!isRecord(d) || typeof d['id'] !== 'string' || typeof d['state'] !== 'string') return undefined;
    out.push({
      id: d['id'],
      loaded: d['state'] === 'loaded',
      maxContext: num(d['loaded_context_length']) ?? num(d['max_context_length']),
      publisher: typeof d['publisher'] === 'string' ? d['publisher'] : undefined,
    });
  }
  return out;
}

/** From `/api/v1/models` (0.4+): the loaded instances of `model` - their summed `parallel` and context. */
function loadedInstances(
  raw: unknown,
  model: string,
): { parallel?: number; context?: number; count: number } {
  const out: { parallel?: number; context?: number; count: number } = { count: 0 };
  if (!isRecord(raw) || !Array.isArray(raw['models'])) return out;
  for (const m of raw['models']) {
    if (!isRecord(m) || !Array.isArray(m['loaded_instances'])) continue;
    for (const inst of m['loaded_instances']) {
      if (!isRecord(inst)) continue;
      const names = [m['key'], inst['id']].filter((x): x is string => typeof x === 'string');
      if (!names.some((n) => hasModel([n], model))) continue;
      out.count++;
      const config = isRecord(inst['config']) ? inst['config'] : {};
      const parallel = num(config['parallel']);
      if (parallel !== undefined) out.parallel = (out.parallel ?? 0) + parallel;
      const context = num(config['context_length']);
      if (out.context === undefined && context !== undefined) out.context = context;
    }
  }
  return out;
}

/**
 * One model of `/api/v1/models` (0.4+) as ModelDetails: `type` (llm, embedding), `capabilities`
 * ({vision, trained_for_tool_use}), `architecture`, `params_string`, `quantization.name`, `format`,
 * `max_context_length`. Undefined when the list is not there or does not have the model.
 */
export function detailsFromV1(raw: unknown, model: string): ModelDetails | undefined {
  if (!isRecord(raw) || !Array.isArray(raw['models'])) return undefined;
  const models: unknown[] = raw['models'];
  const m = models.find((x) => isRecord(x) && typeof x['key'] === 'string' && hasModel([x['key']], model));
  if (!isRecord(m)) return undefined;
  const c = m['capabilities'];
  let capabilities: string[] | undefined;
  if (typeof m['type'] === 'string' && isRecord(c)) {
    capabilities = m['type'] === 'embedding' || m['type'] === 'embeddings' ? ['embedding'] : ['completion'];
    if (c['trained_for_tool_use'] === true) capabilities.push('tools');
    if (c['vision'] === true) capabilities.push('vision');
  }
  return detailsOf({
    capabilities,
    family: text(m['architecture']),
    parameterSize: text(m['params_string']),
    quantization: isRecord(m['quantization']) ? text(m['quantization']['name']) : undefined,
    format: text(m['format']),
    contextLength: num(m['max_context_length']),
  });
}

/**
 * LM Studio. It has no health route and answers 200 on unknown paths, so `/health` would lie:
 * readiness is the model's `state` in `/api/v0/models` (loaded | not-loaded), and capacity is
 * `loaded_instances[].config.parallel` from `/api/v1/models` (0.4+, absent before).
 */
export class LmStudioBackend extends OpenAICompatBackend {
  protected override readonly serverName = 'LM Studio';

  protected override async probeWith(p: Prober): Promise<ProbeInfo> {
    const [v0res, v1raw] = await Promise.all([p.get('/api/v0/models'), p.optionalJson('/api/v1/models')]);
    if (v0res.status < 200 || v0res.status >= 300)
      throw this.mapError(v0res.status, v0res.text, v0res.headers);
    let v0: V0Model[] | undefined;
    try {
      v0 = parseV0(JSON.parse(v0res.text));
    } catch {
      v0 = undefined;
    }
    if (v0 === undefined) {
      const info = await super.probeWith(p);
      return copyWith(info, {
        note: 'no /api/v0/models (LM Studio older than 0.3.6?): loaded state unknown',
      });
    }
    const model = this.worker.model;
    const models = [...v0.filter((m) => m.loaded), ...v0.filter((m) => !m.loaded)].map((m) => m.id);
    const loadedModels = v0.filter((m) => m.loaded).map((m) => m.id);
    const mine = v0.find((m) => hasModel([m.id], model));
    if (!mine) return modelMissing(model, models, this.serverName);
    const inst = loadedInstances(v1raw, model);
    const info: ProbeInfo = { state: 'ready', models, loadedModels };
    const ctx = inst.context ?? mine.maxContext;
    if (ctx !== undefined) info.contextLength = ctx;
    if (!mine.loaded && inst.count === 0) {
      return copyWith(info, {
        state: 'loading' as const,
        code: 'FLEET_MODEL_NOT_FOUND' as const,
        reason: `model ${model} not loaded (load it in LM Studio, or run \`lms load ${model}\`)`,
      });
    }
    if (inst.parallel !== undefined && inst.parallel > 0) info.capacity = { slots: inst.parallel };
    return info;
  }

  /** From `/api/v1/models` (LM Studio 0.4+); older versions cannot say. */
  override async describe(model: string, opts: CallOptions = {}): Promise<ModelDetails | undefined> {
    return detailsFromV1(await this.getJson('/api/v1/models', opts), model);
  }

  override async listModels(opts: CallOptions = {}): Promise<ModelInfo[]> {
    const v0 = parseV0(await this.getJson('/api/v0/models', opts).catch(() => undefined));
    if (v0 === undefined) return super.listModels(opts);
    return v0.map((m) => {
      const info: ModelInfo = { id: m.id, object: 'model', loaded: m.loaded };
      if (m.publisher !== undefined) info.owned_by = m.publisher;
      if (m.maxContext !== undefined) info.context_length = m.maxContext;
      return info;
    });
  }
}
