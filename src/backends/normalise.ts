import { base64ToFloats } from '../core/float32.ts';
import { isRecord, finiteNumber as num } from '../core/objects.ts';
import { FleetError } from '../core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatDelta,
  Completion,
  EmbeddingResponse,
  ModelInfo,
  Usage,
} from '../core/openai.ts';

/**
 * What servers send, reshaped into core/openai.ts types: one chunk type, reasoning under one
 * name, usage and llama.cpp timings kept. A body without the fields the protocol promises is
 * FLEET_UPSTREAM_MALFORMED (retryable: another worker may answer properly).
 */

export interface NormaliseContext {
  workerId: string;
  /** The model asked for, used when the server names none. */
  model: string;
  /** Seconds since the epoch, used when the server gives no `created`. */
  nowSec: number;
  /** Makes an id when the server gives none. */
  newId: () => string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function malformed(ctx: Pick<NormaliseContext, 'workerId'>, what: string, status = 200): FleetError {
  return new FleetError('FLEET_UPSTREAM_MALFORMED', `${ctx.workerId}: ${what}`, {
    worker: ctx.workerId,
    status,
  });
}

/** Reasoning text, whatever the server named it: reasoning_content (llama.cpp, DeepSeek), reasoning (vLLM, Ollama /v1, MLX, LM Studio gpt-oss), thinking (Ollama native). */
export function pickReasoning(o: Record<string, unknown>): string | undefined {
  for (const k of ['reasoning_content', 'reasoning', 'thinking']) {
    const v = o[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

export function normaliseUsage(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  const prompt = num(raw['prompt_tokens']);
  const completion = num(raw['completion_tokens']);
  if (prompt === undefined && completion === undefined) return undefined;
  const usage: Usage = {
    prompt_tokens: prompt ?? 0,
    completion_tokens: completion ?? 0,
    total_tokens: num(raw['total_tokens']) ?? (prompt ?? 0) + (completion ?? 0),
  };
  const details = raw['prompt_tokens_details'];
  const cached = isRecord(details) ? num(details['cached_tokens']) : undefined;
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  const out = raw['completion_tokens_details'];
  const reasoning = isRecord(out) ? num(out['reasoning_tokens']) : undefined;
  if (reasoning !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

function normaliseTimings(raw: unknown): Record<string, number> | undefined {
  if (!isRecord(raw)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'number') out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

function normaliseDelta(raw: unknown): ChatDelta {
  const d: ChatDelta = {};
  if (!isRecord(raw)) return d;
  if (raw['role'] === 'assistant') d.role = 'assistant';
  const content = raw['content'];
  if (typeof content === 'string' || content === null) d.content = content;
  const reasoning = pickReasoning(raw);
  if (reasoning !== undefined) d.reasoning = reasoning;
  if (Array.isArray(raw['tool_calls'])) d.tool_calls = raw['tool_calls'] as unknown[];
  return d;
}

function finishReason(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * A chat chunk in OpenAI's shape, as one literal: every chunk the backends build comes from here, so
 * all share one hidden class (not `{ ...base, choices }`: see src/core/objects.ts).
 */
export function chatChunk(
  id: string,
  created: number,
  model: string,
  choices: ChatChunk['choices'],
): ChatChunk {
  return { id, object: 'chat.completion.chunk', created, model, choices };
}

/** One streamed chunk. A chunk with no `choices` is allowed (a usage-only chunk) when it is an object. */
export function normaliseChunk(raw: unknown, ctx: NormaliseContext): ChatChunk {
  if (!isRecord(raw))
    throw malformed(ctx, `stream chunk is not a JSON object: ${JSON.stringify(raw).slice(0, 200)}`);
  const rawChoices = raw['choices'] ?? [];
  if (!Array.isArray(rawChoices)) throw malformed(ctx, 'stream chunk has a `choices` that is not a list');
  const chunk = chatChunk(
    str(raw['id']) ?? ctx.newId(),
    num(raw['created']) ?? ctx.nowSec,
    str(raw['model']) ?? ctx.model,
    rawChoices.map((c: unknown, i) => {
      const o = isRecord(c) ? c : {};
      const choice: ChatChunk['choices'][number] = {
        index: num(o['index']) ?? i,
        delta: normaliseDelta(o['delta']),
        finish_reason: finishReason(o['finish_reason']),
      };
      if (o['logprobs'] != null) choice.logprobs = o['logprobs'];
      return choice;
    }),
  );
  const usage = normaliseUsage(raw['usage']);
  if (usage) chunk.usage = usage;
  const timings = normaliseTimings(raw['timings']);
  if (timings) chunk.timings = timings;
  return chunk;
}

/** A non-streamed chat completion: an object with a `choices` list of `message`s. */
export function normaliseCompletion(raw: unknown, ctx: NormaliseContext): ChatCompletion {
  if (!isRecord(raw) || !Array.isArray(raw['choices'])) {
    throw malformed(ctx, `chat completion without a \`choices\` list: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const out: ChatCompletion = {
    id: str(raw['id']) ?? ctx.newId(),
    object: 'chat.completion',
    created: num(raw['created']) ?? ctx.nowSec,
    model: str(raw['model']) ?? ctx.model,
    choices: (raw['choices'] as unknown[]).map((c, i) => {
      const o = isRecord(c) ? c : {};
      const m = isRecord(o['message']) ? o['message'] : {};
      const message: ChatCompletion['choices'][number]['message'] = {
        role: 'assistant',
        content: typeof m['content'] === 'string' ? m['content'] : null,
      };
      const reasoning = pickReasoning(m);
      if (reasoning !== undefined) message.reasoning = reasoning;
      if (Array.isArray(m['tool_calls'])) message.tool_calls = m['tool_calls'] as unknown[];
      const choice: ChatCompletion['choices'][number] = {
        index: num(o['index']) ?? i,
        message,
        finish_reason: finishReason(o['finish_reason']),
      };
      if (o['logprobs'] != null) choice.logprobs = o['logprobs'];
      return choice;
    }),
  };
  const usage = normaliseUsage(raw['usage']);
  if (usage) out.usage = usage;
  const timings = normaliseTimings(raw['timings']);
  if (timings) out.timings = timings;
  return out;
}

/** A legacy `/v1/completions` answer. */
export function normaliseTextCompletion(raw: unknown, ctx: NormaliseContext): Completion {
  if (!isRecord(raw) || !Array.isArray(raw['choices'])) {
    throw malformed(ctx, `completion without a \`choices\` list: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const out: Completion = {
    id: str(raw['id']) ?? ctx.newId(),
    object: 'text_completion',
    created: num(raw['created']) ?? ctx.nowSec,
    model: str(raw['model']) ?? ctx.model,
    choices: (raw['choices'] as unknown[]).map((c, i) => {
      const o = isRecord(c) ? c : {};
      const choice: Completion['choices'][number] = {
        index: num(o['index']) ?? i,
        text: str(o['text']) ?? '',
        finish_reason: finishReason(o['finish_reason']),
      };
      if (o['logprobs'] != null) choice.logprobs = o['logprobs'];
      return choice;
    }),
  };
  const usage = normaliseUsage(raw['usage']);
  if (usage) out.usage = usage;
  return out;
}

export function normaliseEmbedding(raw: unknown, ctx: NormaliseContext): EmbeddingResponse {
  if (!isRecord(raw) || !Array.isArray(raw['data'])) {
    throw malformed(ctx, `embedding response without a \`data\` list: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const data = (raw['data'] as unknown[]).map((d, i) => {
    const o = isRecord(d) ? d : {};
    // A server that sends base64 even unasked: float32 bytes, decoded.
    const e = typeof o['embedding'] === 'string' ? base64ToFloats(o['embedding']) : o['embedding'];
    if (!Array.isArray(e) || !e.every((x) => typeof x === 'number')) {
      throw malformed(ctx, `embedding ${i} is not a list of numbers (nor base64 float32 values)`);
    }
    return { object: 'embedding' as const, index: num(o['index']) ?? i, embedding: e };
  });
  const out: EmbeddingResponse = { object: 'list', model: str(raw['model']) ?? ctx.model, data };
  const u = isRecord(raw['usage']) ? raw['usage'] : undefined;
  const prompt = num(u?.['prompt_tokens']);
  if (prompt !== undefined)
    out.usage = { prompt_tokens: prompt, total_tokens: num(u?.['total_tokens']) ?? prompt };
  return out;
}

/**
 * The `data[]` of a `/v1/models` answer (llama.cpp also sends an Ollama-style `models[]`, used
 * when `data` is missing). Context length comes from vLLM's `max_model_len` or llama.cpp's `meta.n_ctx`.
 */
export function normaliseModelList(raw: unknown, ctx: Pick<NormaliseContext, 'workerId'>): ModelInfo[] {
  if (!isRecord(raw)) throw malformed(ctx, 'model list is not a JSON object');
  const data = raw['data'];
  if (Array.isArray(data)) {
    return data.flatMap((d): ModelInfo[] => {
      if (!isRecord(d) || typeof d['id'] !== 'string') return [];
      const m: ModelInfo = { id: d['id'], object: 'model' };
      const created = num(d['created']);
      if (created !== undefined) m.created = created;
      const owner = str(d['owned_by']);
      if (owner !== undefined) m.owned_by = owner;
      const meta = isRecord(d['meta']) ? d['meta'] : undefined;
      const ctxLen = num(d['max_model_len']) ?? num(meta?.['n_ctx']) ?? num(d['context_length']);
      if (ctxLen !== undefined) m.context_length = ctxLen;
      return [m];
    });
  }
  const models = raw['models'];
  if (Array.isArray(models)) {
    return models.flatMap((d): ModelInfo[] => {
      const id = isRecord(d) ? (str(d['model']) ?? str(d['name'])) : undefined;
      return id === undefined ? [] : [{ id, object: 'model' }];
    });
  }
  throw malformed(ctx, 'model list has neither `data` nor `models`');
}
