import { FleetError } from '../core/errors.ts';
import type { TextResponse } from './http.ts';
import { normaliseModelList } from './normalise.ts';
import { OpenAICompatBackend } from './openai-compat.ts';
import { hasModel, type ProbeInfo, type Prober } from './probe.ts';

/**
 * MLX-LM `mlx_lm.server`. `/health` is always 200 (the process is alive, not necessarily the
 * model: it loads in a background thread), and `/v1/models` lists the Hugging Face cache rather
 * than the loaded model; so a probe is `ready` when both answer, with a note saying so. Errors
 * are `{"error":"..."}`; a 404 with such a body comes from a failed model load (the route
 * exists; an unknown route gets plain text instead).
 */
export class MlxBackend extends OpenAICompatBackend {
  protected override readonly serverName = 'MLX server';

  protected override async probeWith(p: Prober): Promise<ProbeInfo> {
    const health = await p.get('/health');
    if (health.status < 200 || health.status >= 300)
      throw this.mapError(health.status, health.text, health.headers);
    const ids = normaliseModelList(await p.json('/v1/models'), { workerId: this.id }).map((m) => m.id);
    const listed = hasModel(ids, this.worker.model);
    return {
      state: 'ready',
      models: ids,
      note: listed
        ? 'MLX reports liveness only: the model may still be loading; the first request may be slow'
        : `model ${this.worker.model} is not in the MLX model list: the first request will try to load it`,
    };
  }

  protected override readonly mapError = (
    status: number,
    text: string,
    headers: TextResponse['headers'],
  ): FleetError => {
    const err = this.http.mapError(status, text, headers);
    if (status !== 404 || err.code === 'FLEET_MODEL_NOT_FOUND' || !/^\s*\{/.test(text)) return err;
    return new FleetError(
      'FLEET_MODEL_NOT_FOUND',
      err.message.replace(/ \(endpoint not found[^)]*\)$/, ' (model load failed)'),
      {
        worker: this.id,
        status,
      },
    );
  };
}
