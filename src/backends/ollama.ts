import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  Completion,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  ModelInfo,
} from '../core/openai.ts';
import { copyWith, isRecord, nonEmptyString as str, finiteNumber as num } from '../core/objects.ts';
import {
  fromNativeChat,
  fromNativeEmbed,
  fromNativeGenerate,
  readNdjsonChat,
  toNativeChat,
  toNativeGenerate,
} from './ollama-native.ts';
import { detailsOf, type ModelDetails } from '../core/capabilities.ts';
import { OpenAICompatBackend } from './openai-compat.ts';
import { hasModel, type ProbeInfo, type Prober } from './probe.ts';
import type { CallOptions } from './types.ts';

/**
 * An `/api/show` answer as ModelDetails. Of `model_info` only plain values are kept (a verbose
 * answer carries the whole vocabulary as arrays).
 */
export function detailsFromShow(raw: unknown): ModelDetails | undefined {
  if (!isRecord(raw)) return undefined;
  const caps = raw['capabilities'];
  const d = isRecord(raw['details']) ? raw['details'] : {};
  let modelInfo: Record<string, unknown> | undefined;
  let contextLength: number | undefined;
  if (isRecord(raw['model_info'])) {
    modelInfo = {};
    for (const [k, v] of Object.entries(raw['model_info']))
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') modelInfo[k] = v;
    const arch = modelInfo['general.architecture'];
    if (typeof arch === 'string') contextLength = num(modelInfo[`${arch}.context_length`]);
  }
  return detailsOf({
    capabilities: Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : undefined,
    family: str(d['family']),
    parameterSize: str(d['parameter_size']),
    quantization: str(d['quantization_level']),
    format: str(d['format']),
    contextLength,
    template: str(raw['template']),
    parameters: str(raw['parameters']),
    modelInfo,
  });
}

interface OllamaModel {
  name: string;
  contextLength?: number;
}

/** `/api/tags` or `/api/ps` entries (`name`, or `model`; ps adds `context_length`). */
function parseModels(raw: unknown): OllamaModel[] | undefined {
  if (!isRecord(raw) || !Array.isArray(raw['models'])) return undefined;
  return raw['models'].flatMap((m): OllamaModel[] => {
    if (!isRecord(m)) return [];
    const name =
      typeof m['name'] === 'string' ? m['name'] : typeof m['model'] === 'string' ? m['model'] : undefined;
    if (name === undefined) return [];
    const out: OllamaModel = { name };
    const ctx = num(m['context_length']);
    if (ctx !== undefined) out.contextLength = ctx;
    return [out];
  });
}

/**
 * Ollama. Requests go to its OpenAI-compatible `/v1` routes (worker `api: openai`, the
 * default) or to the native NDJSON `/api/chat`, `/api/generate`, `/api/embed` (`api: native`),
 * converted to and from OpenAI shapes. Probe: `/api/version` (alive, version), `/api/ps` (loaded
 * models and their context length), `/api/tags` (pulled models). Ollama loads a pulled model on
 * demand, so a model that is pulled but not loaded is still `ready` (with a cold-start note).
 * It exposes no slot or queue counters.
 */
export class OllamaBackend extends OpenAICompatBackend {
  protected override readonly serverName = 'Ollama';

  get native(): boolean {
    return this.worker.api === 'native';
  }

  override async chat(req: ChatRequest, opts: CallOptions = {}): Promise<ChatCompletion> {
    if (!this.native) return super.chat(req, opts);
    const ctx = this.context(req.model);
    return fromNativeChat(await this.postJson('/api/chat', toNativeChat(req, ctx.model, false), opts), ctx);
  }

  override chatStream(req: ChatRequest, opts: CallOptions = {}): AsyncIterable<ChatChunk> {
    if (!this.native) return super.chatStream(req, opts);
    const ctx = this.context(req.model);
    return this.stream('/api/chat', toNativeChat(req, ctx.model, true), opts, ctx, readNdjsonChat);
  }

  override async complete(req: CompletionRequest, opts: CallOptions = {}): Promise<Completion> {
    if (!this.native) return super.complete(req, opts);
    const ctx = this.context(req.model);
    return fromNativeGenerate(
      await this.postJson('/api/generate', toNativeGenerate(req, ctx.model, this.id), opts),
      ctx,
    );
  }

  override async embed(req: EmbeddingRequest, opts: CallOptions = {}): Promise<EmbeddingResponse> {
    if (!this.native) return super.embed(req, opts);
    const ctx = this.context(req.model);
    const body: Record<string, unknown> = { model: ctx.model, input: req.input };
    for (const k of ['truncate', 'keep_alive', 'options', 'dimensions'] as const)
      if (req[k] !== undefined) body[k] = req[k];
    return fromNativeEmbed(await this.postJson('/api/embed', body, opts), ctx);
  }

  /** Pulled models from `/api/tags`, marked loaded (with context length) from `/api/ps`. */
  override async listModels(opts: CallOptions = {}): Promise<ModelInfo[]> {
    const [tagsRaw, psRaw] = await Promise.all([
      this.getJson('/api/tags', opts),
      this.getJson('/api/ps', opts).catch(() => undefined),
    ]);
    const tags = parseModels(tagsRaw);
    if (tags === undefined) return super.listModels(opts);
    const ps = parseModels(psRaw) ?? [];
    return tags.map((t) => {
      const loaded = ps.find((p) => p.name === t.name);
      const info: ModelInfo = {
        id: t.name,
        object: 'model',
        owned_by: 'ollama',
        loaded: loaded !== undefined,
      };
      if (loaded?.contextLength !== undefined) info.context_length = loaded.contextLength;
      return info;
    });
  }

  /** Ollama's own `/api/show` (either API mode: the native routes are always there). */
  override async describe(model: string, opts: CallOptions = {}): Promise<ModelDetails | undefined> {
    return detailsFromShow(await this.postJson('/api/show', { model }, opts));
  }

  protected override async probeWith(p: Prober): Promise<ProbeInfo> {
    const version = await p.json('/api/version');
    const [tagsRaw, psRaw] = await Promise.all([p.json('/api/tags'), p.optionalJson('/api/ps')]);
    const tags = parseModels(tagsRaw) ?? [];
    const ps = parseModels(psRaw) ?? [];
    const loadedModels = ps.map((m) => m.name);
    const models = [...loadedModels, ...tags.map((t) => t.name).filter((n) => !loadedModels.includes(n))];
    const model = this.worker.model;
    const info: ProbeInfo = { state: 'ready', models, loadedModels };
    if (isRecord(version) && typeof version['version'] === 'string') info.version = version['version'];
    if (!hasModel(models, model)) {
      return copyWith(info, {
        state: 'down' as const,
        code: 'FLEET_MODEL_NOT_FOUND' as const,
        reason: `model "${model}" not found on this Ollama (run \`ollama pull ${model}\`)`,
      });
    }
    const running = ps.find((m) => hasModel([m.name], model));
    if (running?.contextLength !== undefined) info.contextLength = running.contextLength;
    if (!running) info.note = `model ${model} is not loaded: the first request loads it (cold start)`;
    return info;
  }
}
