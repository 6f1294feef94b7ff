import { isRecord } from '../core/objects.ts';
import { normaliseModelList } from './normalise.ts';
import { OpenAICompatBackend } from './openai-compat.ts';
import { hasModel, modelMissing, type ProbeInfo, type Prober } from './probe.ts';
import { metricSum, parsePrometheus } from './prometheus.ts';

/**
 * vLLM. `/health` is 200 with an empty body, or 503 once the engine has died; the served models
 * and `max_model_len` come from `/v1/models`; load from the `/metrics` gauges
 * `vllm:num_requests_running` and `vllm:num_requests_waiting` (summed over their labels). vLLM
 * exposes no slot count (max_num_seqs), so capacity has `busy` and `waiting` only.
 */
export class VllmBackend extends OpenAICompatBackend {
  protected override readonly serverName = 'vLLM server';

  protected override async probeWith(p: Prober): Promise<ProbeInfo> {
    const health = await p.get('/health');
    if (health.status === 503) {
      return {
        state: 'down',
        code: 'FLEET_UPSTREAM_SERVER',
        reason: 'HTTP 503 from /health: the engine is dead or still starting (check the vLLM log)',
        models: [],
      };
    }
    if (health.status < 200 || health.status >= 300)
      throw this.mapError(health.status, health.text, health.headers);
    const [modelsRaw, metricsText, versionRaw] = await Promise.all([
      p.json('/v1/models'),
      p.optionalText('/metrics'),
      p.optionalJson('/version'),
    ]);
    const models = normaliseModelList(modelsRaw, { workerId: this.id });
    const ids = models.map((m) => m.id);
    if (!hasModel(ids, this.worker.model)) return modelMissing(this.worker.model, ids, this.serverName);
    const info: ProbeInfo = { state: 'ready', models: ids, loadedModels: [...ids] };
    const ctx = models.find((m) => hasModel([m.id], this.worker.model))?.context_length;
    if (ctx !== undefined) info.contextLength = ctx;
    if (metricsText !== undefined) {
      const samples = parsePrometheus(metricsText);
      const busy = metricSum(samples, 'vllm:num_requests_running');
      const waiting = metricSum(samples, 'vllm:num_requests_waiting');
      const capacity: NonNullable<ProbeInfo['capacity']> = {};
      if (busy !== undefined) capacity.busy = busy;
      if (waiting !== undefined) capacity.waiting = waiting;
      if (busy !== undefined || waiting !== undefined) info.capacity = capacity;
    }
    if (isRecord(versionRaw) && typeof versionRaw['version'] === 'string')
      info.version = versionRaw['version'];
    return info;
  }
}
