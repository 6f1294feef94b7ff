import { copyWith } from '../core/objects.ts';
import type { ChatMessage } from '../core/openai.ts';
import { functionOf, toChatToolCall, toOllamaToolCall } from '../core/tool-calls.ts';

/*
 * Function calling in Ollama's words and in chat's. Ollama's calls carry no id and their
 * arguments as an object; a tool's result names the function (`tool_name`), not the call. Chat
 * completions want an id on every call, the id on each result, and the arguments as JSON text.
 */

type Json = Record<string, unknown>;

/**
 * Ollama chat messages as chat messages: each assistant call gets an id (`call_<message>_<call>`),
 * and each tool result the id of the earliest call it answers that has no result yet (the one
 * with its `tool_name` when given, else the next in order). Messages without calls pass as they are.
 */
export function chatMessagesOf(messages: readonly Json[]): ChatMessage[] {
  if (!messages.some((m) => m['role'] === 'tool' || Array.isArray(m['tool_calls'])))
    return messages as unknown as ChatMessage[];
  const out: ChatMessage[] = [];
  let open: Array<{ id: string; name: unknown }> = [];
  messages.forEach((m, i) => {
    const calls = m['tool_calls'];
    if (m['role'] === 'assistant' && Array.isArray(calls)) {
      const toolCalls = calls.map((tc: unknown, k) => toChatToolCall(tc, `call_${i}_${k}`));
      open = toolCalls.map((tc) => ({ id: tc['id'] as string, name: functionOf(tc)['name'] }));
      const content = (m['content'] as string | undefined) ?? '';
      out.push(copyWith(m, { role: 'assistant' as const, content, tool_calls: toolCalls }));
    } else if (m['role'] === 'tool') {
      const name = m['tool_name'] ?? m['name'];
      const k = open.findIndex((c) => name === undefined || c.name === name);
      const id = k >= 0 ? open.splice(k, 1)[0]!.id : `call_${i}`;
      out.push({ role: 'tool', tool_call_id: id, content: (m['content'] as string | undefined) ?? '' });
    } else out.push(m as unknown as ChatMessage);
  });
  return out;
}

/**
 * A streamed chat's tool calls, put back together from their deltas (a call's first delta has its
 * index, id and name; later ones add to its arguments), for Ollama's one line with the calls whole.
 */
export class ToolCallAccumulator {
  readonly #calls: Array<{ name: string; args: string }> = [];

  add(deltas: readonly unknown[]): void {
    for (const d of deltas) {
      const at = (d as { index?: unknown } | null)?.index;
      const index = typeof at === 'number' ? at : this.#calls.length;
      const fn = functionOf(d);
      const call = (this.#calls[index] ??= { name: '', args: '' });
      if (typeof fn['name'] === 'string' && fn['name'] !== '') call.name = fn['name'];
      const args = fn['arguments'];
      if (typeof args === 'string') call.args += args;
      else if (args !== undefined) call.args += JSON.stringify(args);
    }
  }

  get size(): number {
    return this.#calls.length;
  }

  /** The calls in Ollama's shape. */
  ollama(): Array<ReturnType<typeof toOllamaToolCall>> {
    return this.#calls
      .filter(Boolean)
      .map((c) => toOllamaToolCall({ function: { name: c.name, arguments: c.args } }));
  }
}
