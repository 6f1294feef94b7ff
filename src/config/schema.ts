import * as z from 'zod';
import { CAPABILITIES } from '../core/capabilities.ts';
import { DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_PORTS, WORKER_TYPES } from './types.ts';
import { checkBaseUrl, isValidHost } from './url.ts';

/**
 * The file format (snake_case, the user's guide's `workers[]`), as zod schemas. Every check
 * carries its own `error` text: it is the "expected ..." half of the message the user sees,
 * so zod's generic wording never reaches them. Cross-field rules (model or models, unique ids,
 * base_url vs host, api only for ollama, env vars) live in `checks.ts`.
 */

const E = {
  id: 'a non-empty name without leading or trailing spaces, e.g. "mac-studio-1"',
  type: `one of ${WORKER_TYPES.join(', ')}`,
  host: 'a host name or IP address without scheme, port or path, e.g. "192.168.1.105" (put URLs in base_url)',
  port: 'an integer 1-65535',
  baseUrl:
    'an http:// or https:// URL such as "http://192.168.1.105:1234" (no query, fragment or user:password)',
  model: 'a non-empty model name, e.g. "mistral-7b-instruct-v0.2"',
  models: 'a non-empty list of model names',
  cap: 'an integer of 1 or more',
  weight: 'a number greater than 0',
  contextLength: 'an integer of 1 or more (tokens)',
  capabilities: `a list of capabilities, each one of ${CAPABILITIES.join(', ')}, e.g. ["completion", "tools"]`,
  apiKey: 'a non-empty string',
  apiKeyEnv: 'the name of an environment variable (letters, digits, underscores), e.g. "FLEET_API_KEY"',
  api: 'one of openai, native',
  seconds: 'a number of seconds greater than 0',
  count: 'an integer of 1 or more',
  retries: 'an integer of 0 or more',
  worker: 'a worker object such as { "id": "w1", "type": "lm_studio", "model": "..." }',
  workers: 'a list of workers: [ { "id": ..., "type": ..., "model": ... }, ... ]',
  workersNonEmpty: 'at least one worker',
  settings: 'an object of settings, e.g. { "request_timeout": 300 }',
  apiKeys: 'a list of keys, e.g. ["k1", "k2"]',
  origin: 'an origin such as "http://localhost:3000", or "*"',
  origins: 'a list of origins, e.g. ["http://localhost:3000"]',
  gateway: 'an object such as { "api_keys_env": "FLEET_API_KEY", "cors_origins": ["http://localhost:3000"] }',
} as const;

const nonEmpty = (expected: string) => z.string({ error: expected }).min(1, { error: expected });
const intAtLeast = (min: number, expected: string) =>
  z.int({ error: expected }).min(min, { error: expected });
const positive = (expected: string) => z.number({ error: expected }).gt(0, { error: expected });
const seconds = (description: string, def?: number) =>
  positive(E.seconds)
    .optional()
    .meta(def === undefined ? { description } : { description, default: def });

const defaultPorts = Object.entries(DEFAULT_PORTS)
  .map(([t, p]) => `${t} ${p}`)
  .join(', ');

export const workerFileSchema = z
  .strictObject(
    {
      id: z
        .string({ error: E.id })
        .regex(/^\S(.*\S)?$/, { error: E.id })
        .meta({ description: 'Unique name of the worker, shown in stats and logs.' }),
      type: z
        .enum(WORKER_TYPES, { error: E.type })
        .meta({ description: 'Which LLM server runs there; decides the API paths and health checks.' }),
      host: z.string({ error: E.host }).refine(isValidHost, { error: E.host }).optional().meta({
        description: 'Host name or IP address. Not needed with base_url (if given, it must match it).',
        default: '127.0.0.1',
      }),
      port: intAtLeast(1, E.port)
        .max(65535, { error: E.port })
        .optional()
        .meta({ description: `Port. Default by type: ${defaultPorts}. Not needed with base_url.` }),
      base_url: z
        .string({ error: E.baseUrl })
        .refine((s) => checkBaseUrl(s) === undefined, { error: E.baseUrl })
        .optional()
        .meta({
          description:
            'Full URL instead of host/port, for https or a path prefix (a trailing /v1 is dropped; adapters add their paths).',
          examples: ['https://gpu-box.lan:8443/llm', 'http://10.0.0.5:8000/v1'],
        }),
      model: nonEmpty(E.model).optional().meta({ description: 'The model requests go to by default.' }),
      models: z
        .array(nonEmpty(E.model), { error: E.models })
        .min(1, { error: E.models })
        .optional()
        .meta({ description: 'Every model this worker serves (with or instead of model).' }),
      max_concurrent_requests: intAtLeast(1, E.cap).optional().meta({
        description:
          'Most requests in flight on this worker at once. Mac guide: Air 2, MacBook Pro 3-5, iMac 3-4, Studio 5-8, Mac Pro 8-12.',
        default: DEFAULT_MAX_CONCURRENT_REQUESTS,
      }),
      weight: positive(E.weight)
        .optional()
        .meta({ description: 'Relative speed hint used before any response is measured.', default: 1 }),
      context_length: intAtLeast(1, E.contextLength)
        .optional()
        .meta({ description: 'Context window in tokens.' }),
      capabilities: z
        .array(z.enum(CAPABILITIES, { error: E.capabilities }), { error: E.capabilities })
        .optional()
        .meta({
          description:
            "What this worker's models can do, for clients that ask (Ollama's /api/show): completion, tools, vision, thinking, embedding, insert. Default: what the server says (Ollama, LM Studio 0.4+), else completion.",
          examples: [['completion', 'tools']],
        }),
      api_key: nonEmpty(E.apiKey).optional().meta({
        description: 'Bearer token sent to the server. Prefer api_key_env to keep it out of files.',
      }),
      api_key_env: z
        .string({ error: E.apiKeyEnv })
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: E.apiKeyEnv })
        .optional()
        .meta({ description: 'Name of the environment variable holding the bearer token.' }),
      api: z.enum(['openai', 'native'], { error: E.api }).optional().meta({
        description: 'ollama only: its OpenAI-compatible /v1 API, or the native /api/chat (NDJSON).',
        default: 'openai',
      }),
      connect_timeout: seconds('Seconds to connect. Default: settings.connect_timeout.'),
      first_token_timeout: seconds(
        'Seconds from send to the first token. Default: settings.first_token_timeout.',
      ),
      stall_timeout: seconds(
        'Longest silence between stream chunks, seconds. Default: settings.stall_timeout.',
      ),
      request_timeout: seconds('Seconds for a whole request. Default: settings.request_timeout.'),
    },
    { error: E.worker },
  )
  .meta({ description: 'One machine running an LLM server. Needs model or models.' });

export const settingsFileSchema = z
  .strictObject(
    {
      health_check_interval: seconds('Seconds between active health probes.', 30),
      request_timeout: seconds('Seconds for one whole request.', 300),
      connect_timeout: seconds('Seconds to establish a connection.', 10),
      first_token_timeout: seconds('Seconds from send to the first token. Default: request_timeout.'),
      stall_timeout: seconds('Seconds of silence allowed between stream chunks.', 60),
      max_retries: intAtLeast(0, E.retries)
        .optional()
        .meta({ description: 'Retries on another worker after a retryable failure.', default: 3 }),
      max_queue_size: intAtLeast(1, E.count).optional().meta({
        description: 'Requests waiting in the central queue before new ones are refused.',
        default: 10000,
      }),
      queue_timeout: seconds('Seconds a request may wait in the queue.', 300),
      circuit_breaker_threshold: intAtLeast(1, E.count)
        .optional()
        .meta({ description: "Consecutive failures that open a worker's circuit.", default: 3 }),
      circuit_breaker_cooldown: seconds('Seconds before an open circuit lets one trial request through.', 10),
      max_concurrent_batch: intAtLeast(1, E.count)
        .optional()
        .meta({ description: 'Batch: tasks in flight at once.', default: 50 }),
      connection_pool_size: intAtLeast(1, E.count)
        .optional()
        .meta({ description: 'Upper bound on pooled connections per worker.', default: 100 }),
    },
    { error: E.settings },
  )
  .meta({ description: 'Fleet-wide settings; a separate file given with -s/--settings overrides these.' });

export const gatewayFileSchema = z
  .strictObject(
    {
      api_keys: z.array(nonEmpty(E.apiKey), { error: E.apiKeys }).optional().meta({
        description:
          'Keys clients must send to `fleet serve` (Bearer or x-api-key). Prefer api_keys_env to keep them out of files.',
      }),
      api_keys_env: z
        .string({ error: E.apiKeyEnv })
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: E.apiKeyEnv })
        .optional()
        .meta({ description: 'Environment variable holding the keys clients must send, comma-separated.' }),
      cors_origins: z.array(nonEmpty(E.origin), { error: E.origins }).optional().meta({
        description: 'Origins whose browser pages may call the API (CORS): "*" or scheme://host[:port].',
      }),
    },
    { error: E.gateway },
  )
  .meta({ description: '`fleet serve` only: client API keys and CORS origins. Its flags add to these.' });

export const configFileSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema URL or path, for editors; ignored.' }),
    workers: z
      .array(workerFileSchema, { error: E.workers })
      .min(1, { error: E.workersNonEmpty })
      .meta({ description: 'The machines of the fleet.' }),
    settings: settingsFileSchema.optional(),
    gateway: gatewayFileSchema.optional(),
  })
  .meta({
    title: 'llm-fleet worker configuration',
    description: 'Workers and settings for the `fleet` tool.',
  });

/** The separate settings file may wrap its settings in `{ "settings": {...} }`. */
export const wrappedSettingsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  settings: settingsFileSchema,
});

export type WorkerFile = z.output<typeof workerFileSchema>;
export type SettingsFile = z.output<typeof settingsFileSchema>;
export type ConfigFile = z.output<typeof configFileSchema>;
export type GatewayFile = z.output<typeof gatewayFileSchema>;

export const WORKER_KEYS = Object.keys(workerFileSchema.shape);
export const SETTINGS_KEYS = Object.keys(settingsFileSchema.shape);
export const GATEWAY_KEYS = Object.keys(gatewayFileSchema.shape);
