import { FleetError } from '../core/errors.ts';
import {
  messageText,
  type ChatChunk,
  type ChatCompletion,
  type ChatMessage,
  type ChatRequest,
  type Completion,
  type CompletionRequest,
  type EmbeddingResponse,
  type Usage,
} from '../core/openai.ts';
import { lines } from '../core/sse.ts';
import { functionOf, toChatToolCall, toOllamaToolCall } from '../core/tool-calls.ts';
import { mapStreamError } from './errors.ts';
import type { Exchange } from './http.ts';
import { isRecord, finiteNumber as num } from '../core/objects.ts';
import { chatChunk, malformed, type NormaliseContext } from './normalise.ts';

/**
 * Ollama's native API (`/api/chat`, `/api/generate`, `/api/embed`) to and from OpenAI shapes.
 * Request: max_tokens -> options.num_predict; temperature, top_p, top_k, min_p, stop, seed,
 * penalties -> options; `options`, `keep_alive`, `think` and `format` pass through;
 * response_format json_object/json_schema -> format. Response: message.thinking -> reasoning,
 * done_reason -> finish_reason, prompt_eval_count/eval_count -> usage, durations -> timings (ms).
 */

function nativeOptions(req: ChatRequest | CompletionRequest): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== null) o[k] = v;
  };
  set('num_predict', req.max_tokens ?? req['max_completion_tokens']);
  set('temperature', req.temperature);
  set('top_p', req['top_p']);
  set('top_k', req['top_k']);
  set('min_p', req['min_p']);
  set('seed', req['seed']);
  set('presence_penalty', req['presence_penalty']);
  set('frequency_penalty', req['frequency_penalty']);
  set('repeat_penalty', req['repeat_penalty']);
  set('num_ctx', req['num_ctx']);
  if (req.stop !== undefined) o['stop'] = Array.isArray(req.stop) ? req.stop : [req.stop];
  // An explicit `options` object is the native escape hatch and wins.
  if (isRecord(req['options'])) Object.assign(o, req['options']);
  return o;
}

function passThrough(req: Record<string, unknown>, body: Record<string, unknown>): void {
  for (const k of ['keep_alive', 'think', 'tools', 'truncate'] as const)
    if (req[k] !== undefined) body[k] = req[k];
  const rf = req['response_format'];
  if (isRecord(rf)) {
    if (rf['type'] === 'json_object') body['format'] = 'json';
    else if (rf['type'] === 'json_schema' && isRecord(rf['json_schema']))
      body['format'] = rf['json_schema']['schema'];
  }
  if (req['format'] !== undefined) body['format'] = req['format'];
}

function nativeMessage(m: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    role: m.role === 'developer' ? 'system' : m.role,
    content: messageText(m.content),
  };
  if (Array.isArray(m.content)) {
    // Images as data URLs become Ollama's base64 `images`.
    const images = m.content.flatMap((p) => {
      const iu = (p as Record<string, unknown>)['image_url'];
      const url = isRecord(iu) ? iu['url'] : iu;
      const match = typeof url === 'string' ? /^data:[^;]+;base64,(.*)$/s.exec(url) : null;
      return match?.[1] ? [match[1]] : [];
    });
    if (images.length > 0) out['images'] = images;
  }
  if (m.role === 'assistant') {
    if (m.reasoning) out['thinking'] = m.reasoning;
    if (m.tool_calls) out['tool_calls'] = m.tool_calls.map(toOllamaToolCall);
  }
  return out;
}

/**
 * A tool result names its function (`tool_name`, which Ollama matches results by) as well as its
 * call's id: the name of the call with that id in an earlier assistant message.
 */
function nativeMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  let names: Map<string, unknown> | undefined;
  return messages.map((m) => {
    const out = nativeMessage(m);
    if (m.role === 'assistant' && m.tool_calls)
      for (const tc of m.tool_calls)
        if (isRecord(tc) && typeof tc['id'] === 'string')
          (names ??= new Map()).set(tc['id'], functionOf(tc)['name']);
    if (m.role === 'tool') {
      const name = names?.get(m.tool_call_id);
      if (typeof name === 'string') out['tool_name'] = name;
    }
    return out;
  });
}

export function toNativeChat(req: ChatRequest, model: string, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: nativeMessages(req.messages),
    stream,
    options: nativeOptions(req),
  };
  passThrough(req, body);
  return body;
}

export function toNativeGenerate(
  req: CompletionRequest,
  model: string,
  workerId: string,
): Record<string, unknown> {
  const prompts = Array.isArray(req.prompt) ? req.prompt : [req.prompt];
  if (prompts.length !== 1) {
    throw new FleetError(
      'FLEET_BAD_REQUEST',
      `${workerId}: Ollama's native /api/generate takes one prompt, got ${prompts.length}: send them one by one, or set api: openai`,
      { worker: workerId },
    );
  }
  const body: Record<string, unknown> = {
    model,
    prompt: prompts[0],
    stream: false,
    options: nativeOptions(req),
  };
  for (const k of ['suffix', 'raw', 'system', 'template'] as const)
    if (req[k] !== undefined) body[k] = req[k];
  passThrough(req, body);
  return body;
}

function created(o: Record<string, unknown>, ctx: NormaliseContext): number {
  const t = typeof o['created_at'] === 'string' ? Date.parse(o['created_at']) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : ctx.nowSec;
}

function usageOf(o: Record<string, unknown>): Usage {
  const prompt = num(o['prompt_eval_count']) ?? 0;
  const completion = num(o['eval_count']) ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Ollama's durations (ns) in llama.cpp's `timings` vocabulary (ms), for prefill/decode rates. */
function timingsOf(o: Record<string, unknown>): Record<string, number> | undefined {
  const t: Record<string, number> = {};
  const ms = (k: string) => {
    const v = num(o[k]);
    return v === undefined ? undefined : v / 1e6;
  };
  const put = (k: string, v: number | undefined) => {
    if (v !== undefined) t[k] = v;
  };
  put('prompt_n', num(o['prompt_eval_count']));
  put('prompt_ms', ms('prompt_eval_duration'));
  put('predicted_n', num(o['eval_count']));
  put('predicted_ms', ms('eval_duration'));
  put('load_ms', ms('load_duration'));
  return Object.keys(t).length > 0 ? t : undefined;
}

function finishReason(o: Record<string, unknown>, toolCalls: boolean): string {
  if (toolCalls) return 'tool_calls';
  return o['done_reason'] === 'length' ? 'length' : 'stop';
}

function toolCallsOf(message: Record<string, unknown>): unknown[] | undefined {
  const tcs = message['tool_calls'];
  if (!Array.isArray(tcs) || tcs.length === 0) return undefined;
  return tcs.map((tc: unknown, i) => toChatToolCall(tc, `call_${i}`, i));
}

/** A non-streamed `/api/chat` answer. */
export function fromNativeChat(raw: unknown, ctx: NormaliseContext): ChatCompletion {
  if (!isRecord(raw) || !isRecord(raw['message'])) {
    throw malformed(ctx, `Ollama chat answer without a \`message\`: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const m = raw['message'];
  const tools = toolCallsOf(m);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: typeof m['content'] === 'string' ? m['content'] : null,
  };
  if (typeof m['thinking'] === 'string' && m['thinking'] !== '') message.reasoning = m['thinking'];
  if (tools) message.tool_calls = tools;
  const out: ChatCompletion = {
    id: ctx.newId(),
    object: 'chat.completion',
    created: created(raw, ctx),
    model: typeof raw['model'] === 'string' ? raw['model'] : ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReason(raw, tools !== undefined) }],
    usage: usageOf(raw),
  };
  const timings = timingsOf(raw);
  if (timings) out.timings = timings;
  return out;
}

/** A non-streamed `/api/generate` answer. */
export function fromNativeGenerate(raw: unknown, ctx: NormaliseContext): Completion {
  if (!isRecord(raw) || typeof raw['response'] !== 'string') {
    throw malformed(
      ctx,
      `Ollama generate answer without a \`response\`: ${JSON.stringify(raw).slice(0, 200)}`,
    );
  }
  return {
    id: ctx.newId(),
    object: 'text_completion',
    created: created(raw, ctx),
    model: typeof raw['model'] === 'string' ? raw['model'] : ctx.model,
    choices: [{ index: 0, text: raw['response'], finish_reason: finishReason(raw, false) }],
    usage: usageOf(raw),
  };
}

/** An `/api/embed` answer (`embeddings: number[][]`). */
export function fromNativeEmbed(raw: unknown, ctx: NormaliseContext): EmbeddingResponse {
  const list = isRecord(raw) ? raw['embeddings'] : undefined;
  if (!isRecord(raw) || !Array.isArray(list)) {
    throw malformed(ctx, `Ollama embed answer without \`embeddings\`: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const data = list.map((e: unknown, i) => {
    if (!Array.isArray(e) || !e.every((x) => typeof x === 'number'))
      throw malformed(ctx, `embedding ${i} is not a list of numbers`);
    return { object: 'embedding' as const, index: i, embedding: e };
  });
  const out: EmbeddingResponse = {
    object: 'list',
    model: typeof raw['model'] === 'string' ? raw['model'] : ctx.model,
    data,
  };
  const prompt = num(raw['prompt_eval_count']);
  if (prompt !== undefined) out.usage = { prompt_tokens: prompt, total_tokens: prompt };
  return out;
}

/**
 * Reads `/api/chat`'s NDJSON stream (lines split anywhere across reads) into OpenAI chunks. The
 * `done: true` line gives the finish chunk and then a usage chunk (`choices: []`), as OpenAI
 * servers send them; an `{"error":..}` line is the mapped FleetError; a body that ends before
 * `done: true` is FLEET_UPSTREAM_STREAM_ENDED.
 */
export async function* readNdjsonChat(ex: Exchange, ctx: NormaliseContext): AsyncGenerator<ChatChunk> {
  try {
    const id = ctx.newId();
    let first = true;
    let sawTools = false;
    for await (const line of lines(ex.body())) {
      const text = line.trim();
      if (text === '') continue;
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        throw malformed(ctx, `stream line is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
      }
      if (!isRecord(o)) throw malformed(ctx, `stream line is not a JSON object: ${text.slice(0, 200)}`);
      if (o['error'] !== undefined) throw mapStreamError(o, ctx.workerId);
      const m = isRecord(o['message']) ? o['message'] : {};
      const at = created(o, ctx);
      const model = typeof o['model'] === 'string' ? o['model'] : ctx.model;
      const delta: ChatChunk['choices'][number]['delta'] = {};
      if (first) delta.role = 'assistant';
      if (typeof m['content'] === 'string' && (m['content'] !== '' || first)) delta.content = m['content'];
      if (typeof m['thinking'] === 'string' && m['thinking'] !== '') delta.reasoning = m['thinking'];
      const tools = toolCallsOf(m);
      if (tools) {
        delta.tool_calls = tools;
        sawTools = true;
      }
      if (first) {
        ex.firstToken();
        first = false;
      }
      if (o['done'] !== true) {
        yield chatChunk(id, at, model, [{ index: 0, delta, finish_reason: null }]);
        continue;
      }
      yield chatChunk(id, at, model, [{ index: 0, delta, finish_reason: finishReason(o, sawTools) }]);
      const last = chatChunk(id, at, model, []);
      last.usage = usageOf(o);
      const timings = timingsOf(o);
      if (timings) last.timings = timings;
      ex.release();
      yield last;
      return;
    }
    throw new FleetError(
      'FLEET_UPSTREAM_STREAM_ENDED',
      `${ctx.workerId}: stream ended before completion (no done:true line)`,
      {
        worker: ctx.workerId,
        status: ex.status,
      },
    );
  } finally {
    ex.close(); // however the stream ends: done, failed, or left by its consumer
  }
}
