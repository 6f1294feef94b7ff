import { messageText, type ContentPart } from '../core/openai.ts';
import { estimateTokens } from '../core/tokens.ts';

/**
 * Request bodies of every supported endpoint, reduced to what the performance model needs.
 * Prompt tokens = estimateTokens of the messages joined as `role: content\n` (role markers
 * count, as a chat template's do).
 */
export type CallKind = 'chat' | 'completion' | 'embedding';

export interface Call {
  kind: CallKind;
  /** Requested model, when the body named one. */
  model: string | undefined;
  promptText: string;
  promptTokens: number;
  /** The request's cap on output tokens, when it set one. */
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
  /** Embedding inputs. */
  inputs: string[];
  /** Ollama: `truncate: false` asks for an error instead of silent truncation. */
  truncate: boolean;
}

export class BadRequest extends Error {}

type Body = Record<string, unknown>;

function asBody(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BadRequest('request body must be a JSON object');
  return v as Body;
}

function optModel(b: Body): string | undefined {
  const m = b['model'];
  if (m === undefined || m === null || m === '') return undefined;
  if (typeof m !== 'string') throw new BadRequest("'model' must be a string");
  return m;
}

function optMaxTokens(...values: unknown[]): number | undefined {
  for (const v of values) {
    // llama.cpp treats -1 as "no limit"; 0 and negatives impose none here either.
    if (typeof v === 'number' && Number.isFinite(v) && v >= 1) return Math.floor(v);
  }
  return undefined;
}

/** `role: content\n` per message, the text whose tokens the prefix cache sees. */
export function chatPromptText(messages: unknown): string {
  if (messages === undefined) throw new BadRequest("'messages' is required");
  if (!Array.isArray(messages)) throw new BadRequest("Expected 'messages' to be an array");
  let text = '';
  for (const m of messages as unknown[]) {
    if (typeof m !== 'object' || m === null)
      throw new BadRequest("Expected each of 'messages' to be an object");
    const msg = m as Body;
    const role = msg['role'];
    if (typeof role !== 'string') throw new BadRequest("Expected each message to have a string 'role'");
    const content = msg['content'];
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw new BadRequest("Expected 'content' to be a string or an array of parts");
    }
    text += `${role}: ${messageText(content as string | ContentPart[] | null | undefined)}\n`;
  }
  return text;
}

function base(kind: CallKind, b: Body, promptText: string): Call {
  return {
    kind,
    model: optModel(b),
    promptText,
    promptTokens: estimateTokens(promptText),
    maxTokens: undefined,
    stream: false,
    includeUsage: false,
    inputs: [],
    truncate: true,
  };
}

function streamOptions(b: Body): boolean {
  const so = b['stream_options'];
  return typeof so === 'object' && so !== null && (so as Body)['include_usage'] === true;
}

/** POST /v1/chat/completions */
export function parseChat(body: unknown): Call {
  const b = asBody(body);
  const call = base('chat', b, chatPromptText(b['messages']));
  call.maxTokens = optMaxTokens(b['max_completion_tokens'], b['max_tokens'], b['n_predict']);
  call.stream = b['stream'] === true;
  call.includeUsage = streamOptions(b);
  return call;
}

/** POST /v1/completions */
export function parseCompletion(body: unknown): Call {
  const b = asBody(body);
  const prompt = b['prompt'];
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  else if (Array.isArray(prompt) && prompt.every((p) => typeof p === 'string')) text = prompt.join('');
  else throw new BadRequest("'prompt' must be a string or an array of strings");
  const call = base('completion', b, text);
  call.maxTokens = optMaxTokens(b['max_tokens'], b['n_predict']);
  call.stream = b['stream'] === true;
  call.includeUsage = streamOptions(b);
  return call;
}

function inputs(v: unknown, field: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string')) return v;
  throw new BadRequest(`'${field}' must be a string or a non-empty array of strings`);
}

/** POST /v1/embeddings and Ollama's /api/embed (field `input`). */
export function parseEmbedding(body: unknown): Call {
  const b = asBody(body);
  const list = inputs(b['input'], 'input');
  const call = base('embedding', b, '');
  call.inputs = list;
  call.promptTokens = list.reduce((sum, s) => sum + estimateTokens(s), 0);
  call.truncate = b['truncate'] !== false;
  return call;
}

function ollamaOptions(b: Body): Body {
  const o = b['options'];
  return typeof o === 'object' && o !== null ? (o as Body) : {};
}

/** Ollama's POST /api/chat: streams unless `stream: false`. */
export function parseOllamaChat(body: unknown): Call {
  const b = asBody(body);
  const call = base('chat', b, chatPromptText(b['messages'] ?? []));
  call.maxTokens = optMaxTokens(ollamaOptions(b)['num_predict']);
  call.stream = b['stream'] !== false;
  call.truncate = b['truncate'] !== false;
  return call;
}

/** Ollama's POST /api/generate. */
export function parseOllamaGenerate(body: unknown): Call {
  const b = asBody(body);
  const prompt = b['prompt'] ?? '';
  if (typeof prompt !== 'string') throw new BadRequest("'prompt' must be a string");
  const system = typeof b['system'] === 'string' ? `system: ${b['system']}\n` : '';
  const call = base('completion', b, system + prompt);
  call.maxTokens = optMaxTokens(ollamaOptions(b)['num_predict']);
  call.stream = b['stream'] !== false;
  call.truncate = b['truncate'] !== false;
  return call;
}
