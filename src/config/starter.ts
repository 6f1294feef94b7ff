import { settingsFileSchema } from './schema.ts';
import { defaultSettings, SETTINGS_NAMES } from './settings.ts';
import { DEFAULT_PORTS, WORKER_TYPES } from './types.ts';

/**
 * The file `fleet init` writes. YAML (default) explains every field in comments; JSON is the
 * user's guide's own format (JSON has no comments). Both pass `fleet config check` as written.
 * @param format @default 'yaml'
 */
export function starterConfig(format: 'yaml' | 'json' = 'yaml'): string {
  return format === 'json' ? starterJson() : starterYaml();
}

function starterJson(): string {
  const config = {
    workers: [
      {
        id: 'local-lm-studio',
        host: '127.0.0.1',
        port: 1234,
        type: 'lm_studio',
        model: 'mistral-7b-instruct-v0.2',
        max_concurrent_requests: 5,
      },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function starterYaml(): string {
  const ports = Object.entries(DEFAULT_PORTS)
    .map(([t, p]) => `${t} ${p}`)
    .join(', ');
  return `# llm-fleet worker configuration, written by \`fleet init\`.
# Check it:        fleet config check <this file>
# Field reference: docs/config.md   JSON Schema: fleet config schema
#
# One entry per machine running an LLM server. Required: id, type, and model (or models).
# Unknown keys are errors, so a typo never passes silently.
workers:
  # Unique name, shown in stats and logs.
  - id: local-lm-studio
    # Server type: ${WORKER_TYPES.join(', ')}.
    type: lm_studio
    # Address: host (default 127.0.0.1) and port (default by type:
    # ${ports}).
    # Or, instead of host/port, base_url: https://gpu-box.lan:8443/llm (http or https, may carry
    # a path prefix; a trailing /v1 is dropped because each server type adds its own paths).
    host: 127.0.0.1
    port: 1234
    # The model requests go to by default. A worker serving several: models: [model-a, model-b]
    model: mistral-7b-instruct-v0.2
    # Most requests in flight on this machine at once (default 5). The guide suggests:
    # MacBook Air 2, MacBook Pro 3-5, iMac 3-4, Mac Studio 5-8, Mac Pro 8-12.
    max_concurrent_requests: 5
    # Optional fields:
    # weight: 1                    # relative speed hint until responses are measured (default 1)
    # context_length: 8192         # context window in tokens
    # capabilities: [completion, tools]  # what its models can do, for clients that ask (tools,
    #                              #   vision, thinking, embedding; default: asked of Ollama and LM Studio)
    # api_key_env: FLEET_API_KEY   # environment variable holding a bearer token
    # api_key: sk-...              # the token itself (prefer api_key_env: keeps secrets out of files)
    # api: openai                  # ollama only: openai (/v1, default) or native (/api/chat, NDJSON)
    # connect_timeout: 10          # per-worker timeouts in seconds; each defaults to the setting
    # first_token_timeout: 300     #   of the same name below
    # stall_timeout: 60
    # request_timeout: 300

  # A second machine: uncomment and edit.
  # - id: studio-2
  #   type: ollama
  #   host: 192.168.1.106
  #   model: llama3.1:8b
  #   max_concurrent_requests: 4

# Fleet-wide settings. All optional; the values shown are the defaults. Uncomment to change.
# A separate file given with -s/--settings overrides these key by key.
# settings:
${settingsLines()}
`;
}

function settingsLines(): string {
  const defaults = defaultSettings();
  const entries = Object.entries(SETTINGS_NAMES) as [keyof typeof SETTINGS_NAMES, keyof typeof defaults][];
  const width = Math.max(...entries.map(([key, name]) => `${key}: ${defaults[name]}`.length));
  return entries
    .map(([key, name]) => {
      const described = settingsFileSchema.shape[key].meta()?.description ?? '';
      const setting = `${key}: ${defaults[name]}`.padEnd(width);
      return `#   ${setting}  # ${described}`;
    })
    .join('\n');
}
