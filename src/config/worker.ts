import type { Env } from './checks.ts';
import type { WorkerFile } from './schema.ts';
import { DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_PORTS, type Settings, type WorkerConfig } from './types.ts';
import { addressFromBaseUrl, addressFromHostPort } from './url.ts';

const DEFAULT_HOST = '127.0.0.1';

/**
 * One validated worker entry -> the resolved WorkerConfig, every default applied. Runs only
 * after validation passed (checks.ts guarantees a model, a set api_key_env, agreeing addresses).
 */
export function resolveWorker(
  w: WorkerFile,
  settings: Settings,
  firstTokenExplicit: boolean,
  env: Env,
): WorkerConfig {
  const address =
    w.base_url !== undefined
      ? addressFromBaseUrl(w.base_url)
      : addressFromHostPort(w.host ?? DEFAULT_HOST, w.port ?? DEFAULT_PORTS[w.type]);

  const models = [...new Set([...(w.model === undefined ? [] : [w.model]), ...(w.models ?? [])])];
  const model = models[0];
  if (model === undefined) throw new Error(`worker ${w.id}: no model survived validation`);

  const totalS = w.request_timeout ?? settings.requestTimeout;
  // A worker given a longer request_timeout (a slow machine) should not keep the fleet's
  // first-token limit when that limit is only the default that follows request_timeout.
  const firstTokenS = w.first_token_timeout ?? (firstTokenExplicit ? settings.firstTokenTimeout : totalS);

  const worker: WorkerConfig = {
    id: w.id,
    type: w.type,
    host: address.host,
    port: address.port,
    baseUrl: address.baseUrl,
    model,
    models,
    maxConcurrentRequests: w.max_concurrent_requests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
    capSource: w.max_concurrent_requests === undefined ? 'default' : 'config',
    weight: w.weight ?? 1,
    api: w.api ?? 'openai',
    timeouts: {
      connectMs: toMs(w.connect_timeout ?? settings.connectTimeout),
      firstTokenMs: toMs(firstTokenS),
      stallMs: toMs(w.stall_timeout ?? settings.stallTimeout),
      totalMs: toMs(totalS),
    },
  };
  if (w.context_length !== undefined) worker.contextLength = w.context_length;
  if (w.capabilities !== undefined) worker.capabilities = [...new Set(w.capabilities)];
  const apiKey = w.api_key ?? (w.api_key_env === undefined ? undefined : env[w.api_key_env]);
  if (apiKey !== undefined && apiKey !== '') worker.apiKey = apiKey;
  return worker;
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}
