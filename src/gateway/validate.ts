import { z } from 'zod';
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '../core/openai.ts';
import { pathOf, preview, valueAt } from '../core/json-path.ts';
import { copyWith, isRecord } from '../core/objects.ts';
import { badRequest } from './errors.ts';

/*
 * Request bodies are checked only as far as routing needs (and as far as a mistake is better
 * reported here than as a worker's 400): every other field passes through untouched.
 */

const content = z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()], {
  error: 'expected a string, a list of parts with a "type", or null',
});
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: content.optional(),
});
const common = {
  model: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stream: z.boolean().optional(),
  stop: z
    .union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' })
    .nullable()
    .optional(),
};

/** The chat body's schema; `parseChat` checks the common shapes by hand first (see plainChat). */
export const chatSchema = z.looseObject(copyWith(common, { messages: z.array(message).min(1) }));
const completionSchema = z.looseObject(
  copyWith(common, {
    prompt: z.union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' }),
  }),
);
/**
 * Text to embed: a string or a list of them. Token ids (OpenAI's other form, which LangChain's
 * OpenAIEmbeddings sends by default) are refused with a word on why: they come from the client's
 * tokenizer, not the worker model's, so they would embed the wrong text.
 */
const embeddingInput = z.union([z.string(), z.array(z.string()).min(1)], {
  error: (iss) => {
    const v: unknown = iss.input;
    const tokens = Array.isArray(v) && v.length > 0 && (typeof v[0] === 'number' || Array.isArray(v[0]));
    return tokens
      ? "expected text: token ids are not taken (they are the client's tokenizer's, not the worker model's; LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False) sends text)"
      : 'expected a string or a non-empty list of strings';
  },
});
const embeddingSchema = z.looseObject({
  model: z.string().optional(),
  input: embeddingInput,
  encoding_format: z.enum(['float', 'base64']).optional(),
});

const ollamaOptions = z
  .looseObject({
    num_predict: z.number().int().optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string()).optional(),
    top_k: z.number().int().optional(),
    min_p: z.number().optional(),
    presence_penalty: z.number().optional(),
    frequency_penalty: z.number().optional(),
    repeat_penalty: z.number().optional(),
    num_ctx: z.number().int().positive().optional(),
  })
  .optional();
/** Ollama's `format`: "json", or a JSON schema ("" is none). */
const ollamaFormat = z
  .union([z.literal('json'), z.literal(''), z.looseObject({})], { error: 'expected "json" or a JSON schema' })
  .optional();
/** Ollama's images: bare base64, one string each. */
const ollamaImages = z.array(z.string()).optional();
const ollamaChatSchema = z.looseObject({
  model: z.string().optional(),
  // Empty or absent: a load request. Content may be left out (Ollama reads it as "").
  messages: z
    .array(z.looseObject({ role: z.string(), content: z.string().optional(), images: ollamaImages }), {
      error: 'expected a list of messages such as [{"role": "user", "content": "Hi"}]',
    })
    .optional(),
  format: ollamaFormat,
  tools: z
    .array(z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }))
    .optional(),
  stream: z.boolean().optional(),
  options: ollamaOptions,
});
const ollamaGenerateSchema = z.looseObject({
  model: z.string().optional(),
  prompt: z.string().optional(), // empty or absent, and no images: a load request
  suffix: z.string().optional(),
  raw: z.boolean().optional(),
  system: z.string().optional(),
  images: ollamaImages,
  format: ollamaFormat,
  stream: z.boolean().optional(),
  options: ollamaOptions,
});

const ollamaEmbedSchema = z.looseObject({
  model: z.string().optional(),
  input: embeddingInput,
  truncate: z.boolean().optional(),
});
const ollamaLegacyEmbedSchema = z.looseObject({ model: z.string().optional(), prompt: z.string() });
/** `/api/show`: `model`, or `name` in older clients; one of them is needed. */
const ollamaShowSchema = z
  .looseObject({ model: z.string().min(1).optional(), name: z.string().min(1).optional() })
  .refine((b) => b.model !== undefined || b.name !== undefined, {
    message: 'expected a model name in "model"',
    path: ['model'],
  });

export type OllamaChatBody = z.infer<typeof ollamaChatSchema>;
export type OllamaGenerateBody = z.infer<typeof ollamaGenerateSchema>;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  if (!isRecord(body)) throw badRequest(`${what}: the body must be a JSON object`);
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = pathOf(issue.path);
  // Of the wrong type: "required" when it is missing, else what came.
  let message = issue.message;
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const value = valueAt(body, issue.path);
    message = value === undefined ? 'required' : `${message}, got ${preview(value)}`;
  }
  throw badRequest(`${what}: ${field || 'body'}: ${message}`, field || null);
}

const ROLES: ReadonlySet<unknown> = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const posInt = (x: unknown) => x === undefined || (Number.isSafeInteger(x) && (x as number) > 0);
const num = (x: unknown, min: number, max: number) =>
  x === undefined || (typeof x === 'number' && x >= min && x <= max);

/**
 * Whether a chat body is one that `chatSchema` accepts, checked by hand for the shape nearly every
 * request has (text or null content, the common fields well typed). It never accepts what the
 * schema refuses; what it is unsure of (array content, a wrong field) goes to the schema, which
 * also words the error. Why: at 1,000 req/s every request runs cold (the process sleeps between
 * them), and zod's walk over the body then takes ~7 us of the ~80 us the gateway's own code adds
 * to a request's path (0.3 us when warm); this takes well under 1 us. The body is kept as it came
 * (the schema's answer is a copy).
 */
function plainChat(b: Record<string, unknown>): boolean {
  const msgs = b['messages'];
  if (!Array.isArray(msgs) || msgs.length === 0) return false;
  for (const m of msgs as unknown[]) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
    const { role, content } = m as Record<string, unknown>;
    if (!ROLES.has(role)) return false;
    if (content !== undefined && content !== null && typeof content !== 'string') return false;
  }
  const { model, stream, stop } = b;
  return (
    (model === undefined || typeof model === 'string') &&
    (stream === undefined || typeof stream === 'boolean') &&
    posInt(b['max_tokens']) &&
    posInt(b['max_completion_tokens']) &&
    num(b['temperature'], 0, Number.MAX_VALUE) &&
    num(b['top_p'], 0, 1) &&
    (stop === undefined ||
      stop === null ||
      typeof stop === 'string' ||
      (Array.isArray(stop) && stop.every((x) => typeof x === 'string')))
  );
}

export function parseChat(b: unknown): ChatRequest {
  if (isRecord(b) && plainChat(b)) return b as ChatRequest;
  return parse(chatSchema, b, 'chat request') as ChatRequest;
}
export const parseCompletion = (b: unknown) =>
  parse(completionSchema, b, 'completion request') as CompletionRequest;
export const parseEmbedding = (b: unknown) =>
  parse(embeddingSchema, b, 'embedding request') as EmbeddingRequest;
export const parseOllamaChat = (b: unknown) => parse(ollamaChatSchema, b, 'chat request');
export const parseOllamaGenerate = (b: unknown) => parse(ollamaGenerateSchema, b, 'generate request');
export const parseOllamaEmbed = (b: unknown) => parse(ollamaEmbedSchema, b, 'embed request');
export const parseOllamaLegacyEmbed = (b: unknown) => parse(ollamaLegacyEmbedSchema, b, 'embeddings request');
export const parseOllamaShow = (b: unknown) => parse(ollamaShowSchema, b, 'show request');
