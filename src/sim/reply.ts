import type { SimType } from './types.ts';

/** Everything a wire format needs to render one request's answer. */
export interface Reply {
  type: SimType;
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  /** Generated tokens (the text of token i is tokens[i]). */
  tokens: string[];
  /** The first `reasoning` tokens are reasoning, rendered in the type's reasoning field. */
  reasoning: number;
  /** A function call: then the tokens are its arguments (JSON text), not content. */
  tool: { id: string; name: string } | undefined;
  promptTokens: number;
  cachedTokens: number;
  finishReason: 'stop' | 'length' | 'tool_calls';
  includeUsage: boolean;
  /** Embedding inputs. */
  inputs: string[];
  /** Embeddings as base64 float32 bytes, as OpenAI-compatible servers send them when asked. */
  base64: boolean;
  /** Embedding length asked for; undefined: the model's own. */
  dimensions: number | undefined;
  /** Real ms (engine clock): arrival, slot, end of prefill, last token. */
  arrivedAt: number;
  startedAt: number;
  prefillEndAt: number;
  doneAt: number;
  /** Wall clock ms, for ISO timestamps (Ollama's created_at). */
  wallNow(): number;
}

/**
 * One wire format: how a non-streaming body and each piece of a stream look. Stream methods
 * return the exact bytes to write (SSE events or NDJSON lines).
 */
export interface WireFormat {
  /** Content type of a stream. */
  readonly streamType: string;
  body(r: Reply): string;
  /** Written once the request has a slot (before any token). */
  open(r: Reply): string;
  /** Written on ticks during prefill (MLX's keepalive comments); '' for none. */
  prefillTick(r: Reply, processed: number): string;
  /** Tokens [from, to); `first` on the first call. */
  tokens(r: Reply, from: number, to: number, first: boolean): string;
  /** Finish (and usage) then the terminator. */
  close(r: Reply): string;
  /** A line that is not valid for the format (the malformed fault). */
  malformed(r: Reply): string;
}

export function usageOf(r: Reply) {
  const completion = r.tokens.length;
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: completion,
    total_tokens: r.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
  };
}

/** llama.cpp's `timings` object, from the real elapsed times. */
export function timingsOf(r: Reply) {
  const promptN = r.promptTokens - r.cachedTokens;
  const promptMs = Math.max(r.prefillEndAt - r.startedAt, 0.001);
  const predictedN = r.tokens.length;
  const predictedMs = Math.max(r.doneAt - r.prefillEndAt, 0.001);
  return {
    cache_n: r.cachedTokens,
    prompt_n: promptN,
    prompt_ms: round3(promptMs),
    prompt_per_token_ms: round3(promptMs / Math.max(promptN, 1)),
    prompt_per_second: round3((promptN * 1000) / promptMs),
    predicted_n: predictedN,
    predicted_ms: round3(predictedMs),
    predicted_per_token_ms: round3(predictedMs / Math.max(predictedN, 1)),
    predicted_per_second: round3((predictedN * 1000) / predictedMs),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Splits [from, to) into its reasoning part and its content part. */
export function splitRange(r: Reply, from: number, to: number): { reasoning: string; content: string } {
  const cut = Math.min(Math.max(r.reasoning, from), to);
  let reasoning = '';
  let content = '';
  for (let i = from; i < cut; i++) reasoning += r.tokens[i];
  for (let i = cut; i < to; i++) content += r.tokens[i];
  return { reasoning, content };
}
