/**
 * What a model can do, in Ollama's words: the `capabilities` of its `/api/show`, which clients read
 * before offering tools, images or thinking (Ollama's own apps, Zed, VS Code, AnythingLLM, llm-ollama).
 */
export const CAPABILITIES = ['completion', 'tools', 'vision', 'thinking', 'embedding', 'insert'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * What a worker's server says about one of its models (`Backend.describe`). Whatever the server
 * does not say is absent; `capabilities` absent means it cannot say, not that the model can do nothing.
 */
export interface ModelDetails {
  /** Ollama's names (CAPABILITIES), and any newer ones a server reports, passed on as they are. */
  capabilities?: string[];
  /** Architecture family, e.g. "llama", "qwen3". */
  family?: string;
  /** e.g. "8.0B". */
  parameterSize?: string;
  /** e.g. "Q4_K_M". */
  quantization?: string;
  /** Weights format, e.g. "gguf", "mlx". */
  format?: string;
  contextLength?: number;
  /** Ollama's own `/api/show` fields, from an Ollama worker. */
  template?: string;
  parameters?: string;
  modelInfo?: Record<string, unknown>;
}

/** ModelDetails from what a server gave, leaving out what it did not (undefined). */
export function detailsOf(given: { [K in keyof ModelDetails]?: ModelDetails[K] | undefined }): ModelDetails {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out;
}
