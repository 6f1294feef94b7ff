/**
 * Incremental parsers for the two streaming formats LLM servers use:
 * Server-Sent Events (OpenAI-compatible routes) and NDJSON (Ollama's native API).
 * Both accept bytes split anywhere (mid-line, mid-UTF-8 character) and flush at end of input.
 */

export interface SseEvent {
  /** `message` unless an `event:` field named it; llama.cpp's bare `error:` field becomes `error`. */
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

type Chunk = Uint8Array | string;

/** Splits a stream of chunks into lines, handling \n, \r\n and \r across chunk boundaries. */
export async function* lines(source: AsyncIterable<Chunk>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = '';
  let skipLeadingLf = false;
  for await (const chunk of source) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      skipLeadingLf = false;
    }
    buf += text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      yield buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    buf = buf.slice(start);
  }
  buf += decoder.decode();
  if (buf.length > 0) yield buf;
}

/**
 * Parses SSE as the WHATWG spec describes (comments `:` skipped, multi-line data joined with \n,
 * dispatch on a blank line), plus llama.cpp's non-standard `error: {json}` line, which is
 * dispatched as its own `error` event. An event still pending when the input ends is dispatched.
 */
export async function* parseSse(source: AsyncIterable<Chunk>): AsyncGenerator<SseEvent> {
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  const build = (): SseEvent => {
    const e: SseEvent = { event: event || 'message', data: data.join('\n') };
    if (id !== undefined) e.id = id;
    if (retry !== undefined) e.retry = retry;
    data = [];
    event = '';
    retry = undefined;
    return e;
  };
  for await (const line of lines(source)) {
    if (line === '') {
      if (data.length > 0) yield build();
      else event = '';
      continue;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        data.push(value);
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      case 'error':
        // llama.cpp: `error: {json}` after streaming started. Flush what came before it first.
        if (data.length > 0) yield build();
        yield { event: 'error', data: value };
        break;
      default:
        break;
    }
  }
  if (data.length > 0) yield build();
}

/** Parses newline-delimited JSON; blank lines are skipped; a line that is not JSON throws a SyntaxError. */
export async function* parseNdjson(source: AsyncIterable<Chunk>): AsyncGenerator<unknown> {
  for await (const line of lines(source)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    yield JSON.parse(trimmed) as unknown;
  }
}

/** Formats one SSE `data:` event (the way OpenAI-compatible servers send chunks). */
export function formatSseData(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}
