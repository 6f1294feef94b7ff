/** The gateway: one OpenAI- and Ollama-compatible endpoint for the whole fleet (docs/gateway.md). */
export { startGateway, type GatewayOptions, type RunningGateway } from './server.ts';
export { HttpError, toHttpError } from './errors.ts';
export { KeyChecker, isLoopback } from './auth.ts';
export { affinityKeyOf } from './affinity.ts';
export type { LiveSnapshot, LiveWorker } from './live.ts';
export type { RequestRecord } from './recent.ts';
export { OLLAMA_COMPAT_VERSION } from './ollama-routes.ts';
