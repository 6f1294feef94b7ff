import { embedText } from './text.ts';
import { splitRange, timingsOf, usageOf, type Reply, type WireFormat } from './reply.ts';
import type { SimType } from './types.ts';
import { floatsToBase64 } from '../core/float32.ts';
import { copyWith } from '../core/objects.ts';

/**
 * The OpenAI-compatible formats every type serves under /v1 (Ollama's included), with each type's
 * differences: llama.cpp's `content: null` role chunk, `timings` and `system_fingerprint`; the
 * name of the reasoning field.
 */

const SSE = 'text/event-stream';
const DONE = 'data: [DONE]\n\n';

/** Where each type puts reasoning text. */
export function reasoningField(type: SimType): 'reasoning_content' | 'reasoning' {
  return type === 'ollama' || type === 'vllm' || type === 'mlx' ? 'reasoning' : 'reasoning_content';
}

function sse(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * A payload's common fields, then `choices`, then `extra`'s. Filled in place, not built as
 * `{ ...head, choices }`: an object literal that starts with a spread gets a new hidden class
 * for every object in Node 20's V8 (src/core/objects.ts), and this runs for every chunk.
 */
function payload(
  r: Reply,
  object: string,
  choices: unknown[],
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  const h: Record<string, unknown> = { id: r.id, object, created: r.created, model: r.model };
  if (r.type === 'llama_cpp') h['system_fingerprint'] = 'b0-unknown';
  h['choices'] = choices;
  if (extra) Object.assign(h, extra);
  return h;
}

export function chatFormat(type: SimType): WireFormat {
  const field = reasoningField(type);
  const llama = type === 'llama_cpp';
  const chunk = (r: Reply, choices: unknown[], extra?: Record<string, unknown>) =>
    sse(payload(r, 'chat.completion.chunk', choices, extra));
  return {
    streamType: SSE,
    body(r) {
      const { reasoning, content } = splitRange(r, 0, r.tokens.length);
      const message: Record<string, unknown> = { role: 'assistant', content };
      if (r.reasoning > 0) message[field] = reasoning;
      if (r.tool) {
        message['content'] = null;
        message['tool_calls'] = [
          { id: r.tool.id, type: 'function', function: { name: r.tool.name, arguments: content } },
        ];
      }
      const out = payload(r, 'chat.completion', [
        { index: 0, message, logprobs: null, finish_reason: r.finishReason },
      ]);
      out['usage'] = usageOf(r);
      if (llama) out['timings'] = timingsOf(r);
      return JSON.stringify(out);
    },
    open: () => '',
    prefillTick: () => '',
    tokens(r, from, to, first) {
      if (r.tool) return toolDeltas(r, from, to, first, chunk);
      let out = '';
      if (first) {
        const delta = llama ? { role: 'assistant', content: null } : { role: 'assistant', content: '' };
        out += chunk(r, [{ index: 0, delta, logprobs: null, finish_reason: null }]);
      }
      const { reasoning, content } = splitRange(r, from, to);
      const delta: Record<string, unknown> = {};
      if (reasoning !== '') delta[field] = reasoning;
      if (content !== '') delta['content'] = content;
      if (reasoning !== '' || content !== '') {
        out += chunk(r, [{ index: 0, delta, logprobs: null, finish_reason: null }]);
      }
      return out;
    },
    close(r) {
      const timings = llama ? { timings: timingsOf(r) } : undefined;
      let out = chunk(r, [{ index: 0, delta: {}, logprobs: null, finish_reason: r.finishReason }], timings);
      if (r.includeUsage) out += chunk(r, [], { usage: usageOf(r), ...timings });
      return out + DONE;
    },
    malformed: (r) =>
      `data: {"id":"${r.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\n\n`,
  };
}

/**
 * A function call streamed as OpenAI-compatible servers do: the first delta opens the call (index,
 * id, name, empty arguments), later ones add to its arguments.
 */
function toolDeltas(
  r: Reply,
  from: number,
  to: number,
  first: boolean,
  chunk: (r: Reply, choices: unknown[]) => string,
): string {
  const tool = r.tool!;
  const delta = (d: Record<string, unknown>) =>
    chunk(r, [{ index: 0, delta: d, logprobs: null, finish_reason: null }]);
  let out = '';
  if (first) {
    const call = { index: 0, id: tool.id, type: 'function', function: { name: tool.name, arguments: '' } };
    out += delta({ role: 'assistant', content: null, tool_calls: [call] });
  }
  if (to > from) {
    const args = r.tokens.slice(from, to).join('');
    out += delta({ tool_calls: [{ index: 0, function: { arguments: args } }] });
  }
  return out;
}

export function completionFormat(type: SimType): WireFormat {
  const llama = type === 'llama_cpp';
  const chunk = (r: Reply, choices: unknown[], extra?: Record<string, unknown>) =>
    sse(payload(r, 'text_completion', choices, extra));
  return {
    streamType: SSE,
    body(r) {
      const out = payload(r, 'text_completion', [
        { index: 0, text: r.tokens.join(''), logprobs: null, finish_reason: r.finishReason },
      ]);
      out['usage'] = usageOf(r);
      if (llama) out['timings'] = timingsOf(r);
      return JSON.stringify(out);
    },
    open: () => '',
    prefillTick: () => '',
    tokens(r, from, to) {
      if (to <= from) return '';
      const text = r.tokens.slice(from, to).join('');
      return chunk(r, [{ index: 0, text, logprobs: null, finish_reason: null }]);
    },
    close(r) {
      let out = chunk(r, [{ index: 0, text: '', logprobs: null, finish_reason: r.finishReason }]);
      if (r.includeUsage) out += chunk(r, [], { usage: usageOf(r) });
      return out + DONE;
    },
    malformed: (r) => `data: {"id":"${r.id}","object":"text_completion","choices":[{"text":\n\n`,
  };
}

/** MLX: `: keepalive N/M` comments while the prompt is processed. */
export function withKeepalive(format: WireFormat): WireFormat {
  return copyWith(format, {
    prefillTick: (r: Reply, processed: number) => `: keepalive ${processed}/${r.promptTokens}\n\n`,
    open: (r: Reply) => `: keepalive ${r.cachedTokens}/${r.promptTokens}\n\n`,
  });
}

export function embeddingFormat(): WireFormat {
  return {
    streamType: 'application/json',
    body(r) {
      return JSON.stringify({
        object: 'list',
        data: r.inputs.map((text, index) => {
          const embedding = embedText(text, r.dimensions);
          return { object: 'embedding', index, embedding: r.base64 ? floatsToBase64(embedding) : embedding };
        }),
        model: r.model,
        usage: { prompt_tokens: r.promptTokens, total_tokens: r.promptTokens },
      });
    },
    open: () => '',
    prefillTick: () => '',
    tokens: () => '',
    close: () => '',
    malformed: () => '{"object":"list","data":[{"object":"embedding","embedding":[0.1,',
  };
}
