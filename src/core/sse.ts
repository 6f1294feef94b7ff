/**
 * Incremental parsers for the two streaming formats LLM servers use: Server-Sent Events
 * (OpenAI-compatible routes) and NDJSON (Ollama's native API). Both accept bytes split anywhere
 * (mid-line, mid-UTF-8 character) and flush at end of input.
 *
 * The decoders are synchronous (`push(bytes)` returns what became complete), so a reader can
 * parse a whole network read in one go; the async generators below wrap them for convenience.
 */

export interface SseEvent {
  /** `message` unless an `event:` field named it; llama.cpp's bare `error:` field becomes `error`. */
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

type Chunk = Uint8Array | string;

/** Splits text into lines, handling \n, \r\n and \r across chunk boundaries. */
export class LineDecoder {
  readonly #decoder = new TextDecoder();
  #buf = '';
  #skipLeadingLf = false;

  /** Appends a chunk and returns the lines it completed. */
  push(chunk: Chunk): string[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.#skipLeadingLf = false;
    }
    const buf = this.#buf + text;
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      out.push(buf.slice(start, i));
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    this.#buf = buf.slice(start);
    return out;
  }

  /** The unterminated last line, if any, once the input has ended. */
  end(): string[] {
    const rest = this.#buf + this.#decoder.decode();
    this.#buf = '';
    return rest.length > 0 ? [rest] : [];
  }
}

/**
 * Parses SSE as the WHATWG spec describes (comments `:` skipped, multi-line data joined with \n,
 * dispatch on a blank line), plus llama.cpp's non-standard `error: {json}` line, which is
 * dispatched as its own `error` event. An event still pending when the input ends is dispatched.
 */
export class SseDecoder {
  readonly #lines = new LineDecoder();
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #retry: number | undefined;

  /** Appends a chunk and returns the events it completed. */
  push(chunk: Chunk): SseEvent[] {
    const out: SseEvent[] = [];
    for (const line of this.#lines.push(chunk)) this.#line(line, out);
    return out;
  }

  /** Events still pending once the input has ended. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    for (const line of this.#lines.end()) this.#line(line, out);
    if (this.#data.length > 0) out.push(this.#build());
    return out;
  }

  #build(): SseEvent {
    const e: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
    if (this.#id !== undefined) e.id = this.#id;
    if (this.#retry !== undefined) e.retry = this.#retry;
    this.#data = [];
    this.#event = '';
    this.#retry = undefined;
    return e;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.#data.length > 0) out.push(this.#build());
      else this.#event = '';
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      case 'error':
        // llama.cpp: `error: {json}` after streaming started. Flush what came before it first.
        if (this.#data.length > 0) out.push(this.#build());
        out.push({ event: 'error', data: value });
        break;
      default:
        break;
    }
  }
}

/** Splits a stream of chunks into lines (see LineDecoder). */
export async function* lines(source: AsyncIterable<Chunk>): AsyncGenerator<string> {
  const dec = new LineDecoder();
  for await (const chunk of source) yield* dec.push(chunk);
  yield* dec.end();
}

/** Parses a stream of chunks as SSE events (see SseDecoder). */
export async function* parseSse(source: AsyncIterable<Chunk>): AsyncGenerator<SseEvent> {
  const dec = new SseDecoder();
  for await (const chunk of source) yield* dec.push(chunk);
  yield* dec.end();
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
