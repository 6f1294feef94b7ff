import { embedText } from './text.ts';
import { splitRange, type Reply, type WireFormat } from './reply.ts';

/**
 * Ollama's native API: NDJSON streams (one JSON object per line), `done: true` on the last line
 * with the counts and durations in nanoseconds (real elapsed time). Reasoning is
 * `message.thinking`.
 */

const NDJSON = 'application/x-ndjson';

const msToNs = (ms: number) => Math.max(0, Math.round(ms * 1e6));

function createdAt(r: Reply): string {
  return new Date(r.wallNow()).toISOString();
}

function doneFields(r: Reply) {
  return {
    // Ollama ends a function call with "stop".
    done_reason: r.finishReason === 'tool_calls' ? 'stop' : r.finishReason,
    done: true,
    total_duration: msToNs(r.doneAt - r.arrivedAt),
    load_duration: 0,
    prompt_eval_count: r.promptTokens,
    prompt_eval_duration: msToNs(r.prefillEndAt - r.startedAt),
    eval_count: r.tokens.length,
    eval_duration: msToNs(r.doneAt - r.prefillEndAt),
  };
}

function line(payload: unknown): string {
  return `${JSON.stringify(payload)}\n`;
}

function message(reasoning: string, content: string) {
  const m: Record<string, unknown> = { role: 'assistant', content };
  if (reasoning !== '') m['thinking'] = reasoning;
  return m;
}

/**
 * Ollama's function call: whole, with its arguments as an object (never streamed in pieces), in
 * a message with empty content. Arguments cut short by `num_predict` are sent as `{}`.
 */
function toolMessage(r: Reply) {
  let args: unknown = {};
  try {
    args = JSON.parse(r.tokens.join(''));
  } catch {
    // cut short: nothing parseable
  }
  return {
    role: 'assistant',
    content: '',
    tool_calls: [{ function: { name: r.tool!.name, arguments: args } }],
  };
}

export function ollamaChatFormat(): WireFormat {
  return {
    streamType: NDJSON,
    body(r) {
      const { reasoning, content } = splitRange(r, 0, r.tokens.length);
      return JSON.stringify({
        model: r.model,
        created_at: createdAt(r),
        message: r.tool ? toolMessage(r) : message(reasoning, content),
        ...doneFields(r),
      });
    },
    open: () => '',
    prefillTick: () => '',
    tokens(r, from, to) {
      // A function call goes out whole, on the line before the last (see close).
      if (to <= from || r.tool) return '';
      const { reasoning, content } = splitRange(r, from, to);
      return line({
        model: r.model,
        created_at: createdAt(r),
        message: message(reasoning, content),
        done: false,
      });
    },
    close: (r) =>
      (r.tool
        ? line({ model: r.model, created_at: createdAt(r), message: toolMessage(r), done: false })
        : '') +
      line({ model: r.model, created_at: createdAt(r), message: message('', ''), ...doneFields(r) }),
    malformed: (r) => `{"model":"${r.model}","message":{"role":"assistant","content":\n`,
  };
}

export function ollamaGenerateFormat(): WireFormat {
  return {
    streamType: NDJSON,
    body(r) {
      const { reasoning, content } = splitRange(r, 0, r.tokens.length);
      const out: Record<string, unknown> = { model: r.model, created_at: createdAt(r), response: content };
      if (reasoning !== '') out['thinking'] = reasoning;
      return JSON.stringify(Object.assign(out, doneFields(r)));
    },
    open: () => '',
    prefillTick: () => '',
    tokens(r, from, to) {
      if (to <= from) return '';
      const { reasoning, content } = splitRange(r, from, to);
      const out: Record<string, unknown> = { model: r.model, created_at: createdAt(r), response: content };
      if (reasoning !== '') out['thinking'] = reasoning;
      out['done'] = false;
      return line(out);
    },
    close: (r) => line({ model: r.model, created_at: createdAt(r), response: '', ...doneFields(r) }),
    malformed: (r) => `{"model":"${r.model}","response":\n`,
  };
}

export function ollamaEmbedFormat(): WireFormat {
  return {
    streamType: 'application/json',
    body(r) {
      return JSON.stringify({
        model: r.model,
        embeddings: r.inputs.map((t) => embedText(t, r.dimensions)),
        total_duration: msToNs(r.doneAt - r.arrivedAt),
        load_duration: 0,
        prompt_eval_count: r.promptTokens,
      });
    },
    open: () => '',
    prefillTick: () => '',
    tokens: () => '',
    close: () => '',
    malformed: (r) => `{"model":"${r.model}","embeddings":[[0.1,`,
  };
}
