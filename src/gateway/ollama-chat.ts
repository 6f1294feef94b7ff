import { copyWith } from '../core/objects.ts';
import type { ChatMessage, ContentPart } from '../core/openai.ts';
import { argumentsText, functionOf, toChatToolCall, toOllamaToolCall } from '../core/tool-calls.ts';

/*
 * Ollama's chat and generate requests in chat completions' words, for `/api/chat` and
 * `/api/generate`. Images: Ollama sends them as bare base64 in `images`, chat as data-URL image
 * parts. Function calls: Ollama's carry no id and their arguments as an object, and a tool's result
 * names the function (`tool_name`), not the call; chat wants an id on every call, the id on each
 * result, and the arguments as JSON text. Output formats: Ollama's `format` ("json" or a JSON
 * schema) is chat's `response_format`.
 */

type Json = Record<string, unknown>;

/** The image type of base64 data, from its first bytes (PNG, JPEG, GIF, WebP; else JPEG). */
function imageType(b64: string): string {
  if (b64.startsWith('iVBORw0KGgo')) return 'image/png';
  if (b64.startsWith('R0lGOD')) return 'image/gif';
  if (b64.startsWith('UklGR')) return 'image/webp';
  return 'image/jpeg';
}

/** Text and Ollama's base64 `images` as chat content: the text part, then an image part each. */
export function withImages(text: string, images: readonly string[] | undefined): string | ContentPart[] {
  if (images === undefined || images.length === 0) return text;
  const parts: ContentPart[] = text === '' ? [] : [{ type: 'text', text }];
  for (const b64 of images)
    parts.push({ type: 'image_url', image_url: { url: `data:${imageType(b64)};base64,${b64}` } });
  return parts;
}

/**
 * Ollama chat messages as chat messages: images become image parts; each assistant call gets an
 * id (`call_<message>_<call>`), and each tool result the id of the earliest call it answers that
 * has no result yet (the one with its `tool_name` when given, else the next in order); a message
 * without `content` gets "" (as Ollama reads it). Messages with none of these pass as they are.
 */
export function chatMessagesOf(messages: readonly Json[]): ChatMessage[] {
  if (
    !messages.some(
      (m) =>
        m['role'] === 'tool' ||
        m['tool_calls'] !== undefined ||
        m['images'] !== undefined ||
        typeof m['content'] !== 'string',
    )
  )
    return messages as unknown as ChatMessage[];
  const out: ChatMessage[] = [];
  let open: Array<{ id: string; name: unknown }> = [];
  messages.forEach((m, i) => {
    const { images, tool_calls: calls, ...rest } = m;
    const text = (m['content'] as string | undefined) ?? '';
    const content = Array.isArray(images) ? withImages(text, images as string[]) : text;
    if (m['role'] === 'assistant' && Array.isArray(calls)) {
      const toolCalls = calls.map((tc: unknown, k) => toChatToolCall(tc, `call_${i}_${k}`));
      open = toolCalls.map((tc) => ({ id: tc['id'] as string, name: functionOf(tc)['name'] }));
      out.push(copyWith(rest, { role: 'assistant' as const, content, tool_calls: toolCalls }));
    } else if (m['role'] === 'tool') {
      const name = m['tool_name'] ?? m['name'];
      const k = open.findIndex((c) => name === undefined || c.name === name);
      const id = k >= 0 ? open.splice(k, 1)[0]!.id : `call_${i}`;
      out.push({ role: 'tool', tool_call_id: id, content });
    } else out.push(copyWith(rest, { content }) as ChatMessage);
  });
  return out;
}

/**
 * The rest of an Ollama request that chat has words for: `format` as `response_format` (`"json"`
 * is a JSON object, a schema a `json_schema`), and `think` and `keep_alive`, passed on as they are
 * (Ollama's native API reads them; OpenAI-compatible servers ignore fields they do not know).
 */
export function ollamaFields(body: Json, req: Json): void {
  const format = body['format'];
  if (format === 'json') req['response_format'] = { type: 'json_object' };
  else if (typeof format === 'object' && format !== null)
    req['response_format'] = { type: 'json_schema', json_schema: { name: 'response', schema: format } };
  if (body['think'] !== undefined) req['think'] = body['think'];
  if (body['keep_alive'] !== undefined) req['keep_alive'] = body['keep_alive'];
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
      const name = functionOf(d)['name'];
      const call = (this.#calls[index] ??= { name: '', args: '' });
      if (typeof name === 'string' && name !== '') call.name = name;
      call.args += argumentsText(d);
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
