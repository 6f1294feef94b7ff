import { isRecord, finiteNumber as num } from '../core/objects.ts';
import { normaliseModelList } from './normalise.ts';
import { OpenAICompatBackend } from './openai-compat.ts';
import { probeFailure, type ProbeInfo, type Prober } from './probe.ts';
import { metricSum, parsePrometheus } from './prometheus.ts';

/**
 * llama.cpp `llama-server`. Chat goes through the OpenAI base (its quirks - `content: null`
 * first chunk, usage on the last content chunk, `timings`, the `error:` SSE line - are handled
 * there). The probe reads what the server knows about itself:
 * - `/health`: 503 "Loading model" while the model loads -> state `loading`;
 * - `/props`: `total_slots` (its parallel sequences), `default_generation_settings.n_ctx` (context
 *   per slot), `build_info`, `is_sleeping`, and whether `/slots` and `/metrics` are enabled;
 * - `/slots`: how many slots are processing now; `/metrics` (with `--metrics`): requests deferred.
 * The model name is not checked: llama-server answers whatever `model` a request names.
 */
export class LlamaCppBackend extends OpenAICompatBackend {
  protected override readonly serverName = 'llama-server';

  protected override async probeWith(p: Prober): Promise<ProbeInfo> {
    const health = await p.get('/health');
    if (health.status < 200 || health.status >= 300) {
      return probeFailure(this.mapError(health.status, health.text, health.headers), this.id);
    }
    const [propsRes, modelsRaw, slotsRaw] = await Promise.all([
      p.get('/props'),
      p.optionalJson('/v1/models'),
      p.optionalJson('/slots'),
    ]);
    // /health needs no key but /props does: this is where a wrong api_key shows.
    if (propsRes.status === 401 || propsRes.status === 403) {
      throw this.mapError(propsRes.status, propsRes.text, propsRes.headers);
    }
    let props: Record<string, unknown> = {};
    if (propsRes.status >= 200 && propsRes.status < 300) {
      try {
        const parsed: unknown = JSON.parse(propsRes.text);
        if (isRecord(parsed)) props = parsed;
      } catch {
        // An old build without /props: the other endpoints still tell enough.
      }
    }
    const metricsText = props['endpoint_metrics'] === true ? await p.optionalText('/metrics') : undefined;
    const metrics = metricsText === undefined ? [] : parsePrometheus(metricsText);

    const info: ProbeInfo = { state: 'ready', models: [] };
    if (modelsRaw !== undefined) {
      try {
        info.models = normaliseModelList(modelsRaw, { workerId: this.id }).map((m) => m.id);
      } catch {
        // Unusable list: fall back to the alias below.
      }
    }
    if (info.models.length === 0 && typeof props['model_alias'] === 'string')
      info.models = [props['model_alias']];
    info.loadedModels = [...info.models];

    const slots = Array.isArray(slotsRaw) ? slotsRaw.filter(isRecord) : undefined;
    const capacity: NonNullable<ProbeInfo['capacity']> = {};
    const total = num(props['total_slots']) ?? slots?.length;
    if (total !== undefined) capacity.slots = total;
    const busy = slots
      ? slots.filter((s) => s['is_processing'] === true).length
      : metricSum(metrics, 'llamacpp:requests_processing');
    if (busy !== undefined) capacity.busy = busy;
    const waiting = metricSum(metrics, 'llamacpp:requests_deferred');
    if (waiting !== undefined) capacity.waiting = waiting;
    if (Object.keys(capacity).length > 0) info.capacity = capacity;

    const dgs = isRecord(props['default_generation_settings']) ? props['default_generation_settings'] : {};
    const ctx = num(dgs['n_ctx']) ?? num(slots?.[0]?.['n_ctx']);
    if (ctx !== undefined) info.contextLength = ctx;
    if (typeof props['build_info'] === 'string') info.version = props['build_info'];
    if (props['is_sleeping'] === true)
      info.note = 'model is asleep (--sleep-idle-seconds): the next request reloads it';
    return info;
  }
}
