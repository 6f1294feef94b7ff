/**
 * The OpenAI-compatible wire types every layer speaks. Backends normalise what their server
 * sends into these shapes; the gateway serialises them back out unchanged.
 */

export type ContentPart = { type: 'text'; text: string } | { type: string; [key: string]: unknown };

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | ContentPart[]; name?: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | {
      role: 'assistant';
      content: string | ContentPart[] | null;
      name?: string;
      tool_calls?: unknown[];
      reasoning?: string;
    }
  | { role: 'tool'; content: string | ContentPart[]; tool_call_id: string };

export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  seed?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  /** Any other field is passed through to the server untouched. */
  [extra: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  /** Of the completion tokens, those spent thinking, when the server says (vLLM, OpenAI-style servers). */
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; reasoning?: string; tool_calls?: unknown[] };
    finish_reason: string | null;
    /** Token log probabilities, when the request asked (`logprobs: true`) and the server gives them. */
    logprobs?: unknown;
  }>;
  usage?: Usage;
  /** llama.cpp's per-request timings, kept when present. */
  timings?: Record<string, number>;
}

export interface ChatDelta {
  role?: 'assistant';
  content?: string | null;
  /** Reasoning text, whatever the server called it (reasoning_content, reasoning, thinking). */
  reasoning?: string;
  tool_calls?: unknown[];
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: ChatDelta; finish_reason: string | null; logprobs?: unknown }>;
  usage?: Usage;
  timings?: Record<string, number>;
}

export interface CompletionRequest {
  model?: string;
  prompt: string | string[];
  max_tokens?: number;
  temperature?: number;
  stop?: string | string[];
  stream?: boolean;
  [extra: string]: unknown;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ index: number; text: string; finish_reason: string | null; logprobs?: unknown }>;
  usage?: Usage;
}

export interface EmbeddingRequest {
  model?: string;
  input: string | string[];
  [extra: string]: unknown;
}

export interface EmbeddingResponse {
  object: 'list';
  model: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  usage?: { prompt_tokens: number; total_tokens: number };
}

export interface ModelInfo {
  id: string;
  object: 'model';
  created?: number;
  owned_by?: string;
  /** Loaded in memory right now, when the server says (LM Studio, Ollama /api/ps). */
  loaded?: boolean;
  context_length?: number;
}

/** The text of a message's content (parts concatenated). */
export function messageText(content: string | ContentPart[] | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  let out = '';
  for (const p of content) if (p.type === 'text' && typeof p['text'] === 'string') out += p['text'];
  return out;
}
