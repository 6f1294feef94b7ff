import { isRecord } from '../core/objects.ts';
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
  /** Embeddings as base64 float32 bytes (`encoding_format: "base64"`), not numbers. */
  base64: boolean;
  /** Embedding length asked for (`dimensions`, OpenAI's and Ollama's word); undefined: the model's own. */
  dimensions: number | undefined;
  /** Ollama: `truncate: false` asks for an error instead of silent truncation. */
  truncate: boolean;
  /** The function the simulated model calls instead of answering in text (see toolCallOf). */
  tool: ToolCall | undefined;
  /** The answer when the request asked for JSON: a value that fits its schema (see jsonAnswerOf). */
  json: string | undefined;
}

/** A function call the simulated model makes: the tool's name and its arguments as JSON text. */
export interface ToolCall {
  name: string;
  arguments: string;
}

export class BadRequest extends Error {}

type Body = Record<string, unknown>;

function asBody(v: unknown): Body {
  if (!isRecord(v)) throw new BadRequest('request body must be a JSON object');
  return v;
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
    base64: false,
    dimensions: undefined,
    truncate: true,
    tool: undefined,
    json: undefined,
  };
}

/** A value that satisfies a JSON schema's type: the first `enum` value, else a stand-in by type. */
function sampleOf(s: unknown): unknown {
  if (!isRecord(s)) return 'sim';
  if (Array.isArray(s['enum']) && s['enum'].length > 0) return s['enum'][0];
  const type: unknown = Array.isArray(s['type']) ? (s['type'] as unknown[])[0] : s['type'];
  switch (type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return requiredArgs(s);
    case 'null':
      return null;
    default:
      return 'sim';
  }
}

/** An object schema's required properties, each with a sample value. */
function requiredArgs(schema: Body): Body {
  const props = isRecord(schema['properties']) ? schema['properties'] : {};
  const out: Body = {};
  for (const key of Array.isArray(schema['required']) ? (schema['required'] as unknown[]) : []) {
    if (typeof key === 'string') out[key] = sampleOf(props[key]);
  }
  return out;
}

/**
 * The answer to a request for JSON output, as a model that follows it gives: for a JSON schema
 * (OpenAI's `response_format` `json_schema`, or Ollama's `format` schema) a value with every
 * required property (sampled as function arguments are), for plain JSON (`json_object`, Ollama's
 * `format: "json"`) `{"answer": "sim"}`; undefined for text.
 */
export function jsonAnswerOf(b: Body): string | undefined {
  const rf = b['response_format'];
  const format = b['format'];
  let schema: unknown;
  if (isRecord(rf)) {
    if (rf['type'] === 'json_object') return '{"answer":"sim"}';
    if (rf['type'] !== 'json_schema') return undefined;
    const js = rf['json_schema'];
    schema = isRecord(js) ? js['schema'] : undefined;
  } else if (format === 'json') return '{"answer":"sim"}';
  else if (isRecord(format)) schema = format;
  else return undefined;
  return JSON.stringify(sampleOf(schema ?? { type: 'object' }));
}

const TOOL_SHAPE = "Expected each of 'tools' to be {type: 'function', function: {name, parameters}}";

/**
 * The function a chat request's model calls, the way a tool-using model behaves, deterministically:
 * none without `tools` or with `tool_choice: "none"`; the named one for a named `tool_choice`; the
 * first for `"required"`; and for `"auto"` (the default) the first, unless the last message is a
 * tool's result, which the model answers in text. Its arguments hold every required parameter
 * (the first `enum` value, else a stand-in of the parameter's type).
 */
export function toolCallOf(b: Body, messages: unknown): ToolCall | undefined {
  const tools = b['tools'];
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new BadRequest("Expected 'tools' to be an array");
  if (tools.length === 0) return undefined;
  const fns = tools.map((t: unknown) => {
    const fn = isRecord(t) ? t['function'] : undefined;
    if (!isRecord(fn) || typeof fn['name'] !== 'string') throw new BadRequest(TOOL_SHAPE);
    return fn;
  });
  const choice = b['tool_choice'] ?? 'auto';
  let fn: Body | undefined;
  if (choice === 'none') return undefined;
  if (choice === 'required') fn = fns[0];
  else if (choice === 'auto') {
    const last = Array.isArray(messages) ? (messages[messages.length - 1] as Body | undefined) : undefined;
    if (last?.['role'] === 'tool') return undefined;
    fn = fns[0];
  } else {
    const named = isRecord(choice) ? choice['function'] : undefined;
    const name = isRecord(named) ? named['name'] : undefined;
    fn = fns.find((f) => f['name'] === name);
    if (fn === undefined)
      throw new BadRequest(
        `'tool_choice' must be "none", "auto", "required" or {type: 'function', function: {name}} naming one of 'tools'`,
      );
  }
  const params = fn!['parameters'];
  const args = isRecord(params) ? requiredArgs(params) : {};
  return { name: fn!['name'] as string, arguments: JSON.stringify(args) };
}

function streamOptions(b: Body): boolean {
  const so = b['stream_options'];
  return isRecord(so) && so['include_usage'] === true;
}

/** POST /v1/chat/completions */
export function parseChat(body: unknown): Call {
  const b = asBody(body);
  const call = base('chat', b, chatPromptText(b['messages']));
  call.maxTokens = optMaxTokens(b['max_completion_tokens'], b['max_tokens'], b['n_predict']);
  call.stream = b['stream'] === true;
  call.includeUsage = streamOptions(b);
  call.tool = toolCallOf(b, b['messages']);
  if (call.tool === undefined) call.json = jsonAnswerOf(b);
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
  const encoding = b['encoding_format'];
  if (encoding !== undefined && encoding !== null && encoding !== 'float' && encoding !== 'base64')
    throw new BadRequest('\'encoding_format\' must be "float" or "base64"');
  call.base64 = encoding === 'base64';
  const dims = b['dimensions'];
  if (dims !== undefined && dims !== null) {
    if (!Number.isSafeInteger(dims) || (dims as number) < 1)
      throw new BadRequest("'dimensions' must be an integer of 1 or more");
    call.dimensions = dims as number;
  }
  call.truncate = b['truncate'] !== false;
  return call;
}

function ollamaOptions(b: Body): Body {
  const o = b['options'];
  return isRecord(o) ? o : {};
}

/** Ollama's POST /api/chat: streams unless `stream: false`. */
export function parseOllamaChat(body: unknown): Call {
  const b = asBody(body);
  const call = base('chat', b, chatPromptText(b['messages'] ?? []));
  call.maxTokens = optMaxTokens(ollamaOptions(b)['num_predict']);
  call.stream = b['stream'] !== false;
  call.truncate = b['truncate'] !== false;
  call.tool = toolCallOf(b, b['messages']);
  if (call.tool === undefined) call.json = jsonAnswerOf(b);
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
