import { FleetError } from '../core/errors.ts';
import type { ChatChunk, ChatCompletion } from '../core/openai.ts';
import { SseDecoder, type SseEvent } from '../core/sse.ts';
import { mapStreamError } from './errors.ts';
import type { Exchange } from './http.ts';
import { isRecord } from '../core/objects.ts';
import { chatChunk, malformed, normaliseChunk, type NormaliseContext } from './normalise.ts';

/**
 * Reads an OpenAI-style SSE chat stream into normalised chunks.
 * - `:` comments and pings (llama.cpp, MLX `: keepalive`) and named events other than `error`
 *   are skipped;
 * - llama.cpp's `error: {json}` line, `event: error`, and a `data: {"error":...}` chunk become
 *   the mapped FleetError;
 * - `data: [DONE]` ends the stream; a body that ends with neither [DONE] nor a finish_reason
 *   is FLEET_UPSTREAM_STREAM_ENDED; a data line that is not JSON is FLEET_UPSTREAM_MALFORMED.
 * The first chunk stops the first-token timer and starts the stall timer. The reader owns the
 * exchange: it closes it when the stream ends, however it ends.
 */
export async function* readSseChat(ex: Exchange, ctx: NormaliseContext): AsyncGenerator<ChatChunk> {
  let finished = false;
  try {
    let first = true;
    // One decoder over the raw reads (no generator per line or per event): a network read that
    // carries many events costs one await, not one per event.
    const dec = new SseDecoder();
    /** The chunk an event carries, `null` at [DONE], undefined when there is nothing to pass on. */
    const handle = (ev: SseEvent): ChatChunk | null | undefined => {
      if (ev.event === 'error') throw mapStreamError(ev.data, ctx.workerId);
      if (ev.event !== 'message') return undefined;
      const data = ev.data.trim();
      if (data === '') return undefined;
      if (data === '[DONE]') return null;
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        throw malformed(ctx, `stream data is not JSON: ${JSON.stringify(data.slice(0, 200))}`);
      }
      // `data: {"error":...}` (OpenAI shape, LM Studio, MLX) or vLLM's flat `{"object":"error",...}`.
      if (
        isRecord(json) &&
        json['choices'] === undefined &&
        (json['error'] !== undefined || json['object'] === 'error')
      ) {
        throw mapStreamError(json, ctx.workerId);
      }
      const chunk = normaliseChunk(json, ctx);
      if (first) {
        ex.firstToken();
        first = false;
      }
      if (chunk.choices.some((c) => c.finish_reason !== null)) finished = true;
      return chunk;
    };
    // Plain loops, no `yield*` over a helper generator: in an async generator that wraps a
    // sync iterator in an async one, a promise per chunk.
    for (;;) {
      const bytes = await ex.read();
      const events = bytes === undefined ? dec.end() : dec.push(bytes);
      for (const ev of events) {
        const chunk = handle(ev);
        if (chunk === null) {
          ex.release();
          return;
        }
        if (chunk) yield chunk;
      }
      if (bytes === undefined) break;
    }
    if (!finished) {
      throw new FleetError(
        'FLEET_UPSTREAM_STREAM_ENDED',
        `${ctx.workerId}: stream ended before completion (no [DONE] and no finish_reason)`,
        { worker: ctx.workerId, status: ex.status },
      );
    }
  } catch (err) {
    // Everything was delivered (finish_reason seen) and only the trailing [DONE] got lost.
    if (finished && err instanceof FleetError && err.code === 'FLEET_UPSTREAM_STREAM_ENDED') return;
    throw err;
  } finally {
    ex.close(); // however the stream ends: done, failed, or left by its consumer
  }
}

/**
 * A server that ignored `stream: true` and answered one JSON completion: replay it as chunks
 * (role + content, finish, usage) so callers see one shape either way.
 */
export function completionToChunks(c: ChatCompletion): ChatChunk[] {
  const chunk = (choices: ChatChunk['choices']) => chatChunk(c.id, c.created, c.model, choices);
  const chunks: ChatChunk[] = c.choices.map((ch) => {
    const delta: ChatChunk['choices'][number]['delta'] = { role: 'assistant', content: ch.message.content };
    if (ch.message.reasoning !== undefined) delta.reasoning = ch.message.reasoning;
    if (ch.message.tool_calls !== undefined) delta.tool_calls = ch.message.tool_calls;
    return chunk([{ index: ch.index, delta, finish_reason: ch.finish_reason }]);
  });
  if (c.usage) {
    const last = chunk([]);
    last.usage = c.usage;
    if (c.timings) last.timings = c.timings;
    chunks.push(last);
  }
  return chunks;
}

/**
 * An async iterable that opens its stream on the first `next()` and from then on hands every
 * call straight to the opened generator: no generator of its own between the reader and the
 * consumer, so a chunk costs no extra promise per layer. The opened generator releases its
 * resources in its own `finally`. A consumer that leaves before the first `next()` opens nothing.
 */
export function lazyStream<T>(open: () => Promise<AsyncGenerator<T>>): AsyncIterableIterator<T> {
  let it: AsyncGenerator<T> | undefined;
  let opening: Promise<AsyncGenerator<T>> | undefined;
  let left = false;
  const self: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => self,
    next(): Promise<IteratorResult<T>> {
      if (it !== undefined) return it.next();
      if (left) return Promise.resolve({ done: true, value: undefined });
      // The first next() starts the generator, so its `finally` runs whenever it is left.
      return (opening ??= open()).then((g) => (it ??= g).next());
    },
    return(value?: T): Promise<IteratorResult<T>> {
      left = true;
      if (it !== undefined) return it.return(value);
      const done: IteratorResult<T> = { done: true, value: value as T };
      if (opening === undefined) return Promise.resolve(done);
      // A next() is under way: the generator it started is left as soon as it exists.
      return opening.then(
        () => it!.return(value as T),
        () => done,
      );
    },
  };
  return self;
}
