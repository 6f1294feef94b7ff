import { z } from 'zod';
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '../core/openai.ts';
import { copyWith } from '../core/objects.ts';
import { badRequest } from './errors.ts';

/*
 * Request bodies are checked only as far as routing needs (and as far as a mistake is better
 * reported here than as a worker's 400): every other field passes through untouched.
 */

const content = z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]);
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
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
};

const chatSchema = z.looseObject(copyWith(common, { messages: z.array(message).min(1) }));
const completionSchema = z.looseObject(
  copyWith(common, { prompt: z.union([z.string(), z.array(z.string())]) }),
);
const embeddingSchema = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
});

const ollamaOptions = z
  .looseObject({
    num_predict: z.number().int().optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string()).optional(),
  })
  .optional();
const ollamaChatSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.string() })).min(1),
  stream: z.boolean().optional(),
  options: ollamaOptions,
});
const ollamaGenerateSchema = z.looseObject({
  model: z.string().optional(),
  prompt: z.string(),
  system: z.string().optional(),
  stream: z.boolean().optional(),
  options: ollamaOptions,
});

const ollamaEmbedSchema = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  truncate: z.boolean().optional(),
});
const ollamaLegacyEmbedSchema = z.looseObject({ model: z.string().optional(), prompt: z.string() });

export type OllamaChatBody = z.infer<typeof ollamaChatSchema>;
export type OllamaGenerateBody = z.infer<typeof ollamaGenerateSchema>;

/** `messages[0].role`-style path of a zod issue. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(`${what}: the body must be a JSON object`);
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = pathOf(issue.path);
  // A missing field of a union type (input, prompt) is an invalid_union issue: say "required" too.
  const missing =
    (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined;
  const message = missing ? 'required' : issue.message;
  throw badRequest(`${what}: ${field || 'body'}: ${message}`, field || null);
}

export const parseChat = (b: unknown) => parse(chatSchema, b, 'chat request') as ChatRequest;
export const parseCompletion = (b: unknown) =>
  parse(completionSchema, b, 'completion request') as CompletionRequest;
export const parseEmbedding = (b: unknown) =>
  parse(embeddingSchema, b, 'embedding request') as EmbeddingRequest;
export const parseOllamaChat = (b: unknown) => parse(ollamaChatSchema, b, 'chat request');
export const parseOllamaGenerate = (b: unknown) => parse(ollamaGenerateSchema, b, 'generate request');
export const parseOllamaEmbed = (b: unknown) => parse(ollamaEmbedSchema, b, 'embed request');
export const parseOllamaLegacyEmbed = (b: unknown) => parse(ollamaLegacyEmbedSchema, b, 'embeddings request');
