import { FleetError } from '../core/errors.ts';
import type { ChatChunk, ChatRequest } from '../core/openai.ts';
import type { Attempt, Fleet, RequestPlan } from './fleet.ts';
import { reasonOr } from './fleet.ts';
import type { RequestMeta } from './types.ts';

/**
 * A streamed chat completion from the fleet: iterate it once for the chunks. `worker` is known
 * once the first chunk has arrived; `meta` resolves when the stream has ended.
 */
export class FleetStream implements AsyncIterable<ChatChunk> {
  worker: string | undefined;
  readonly meta: Promise<RequestMeta>;
  #resolve!: (m: RequestMeta) => void;
  #reject!: (e: unknown) => void;
  #gen: AsyncGenerator<ChatChunk> | undefined;
  readonly #make: (s: FleetStream) => AsyncGenerator<ChatChunk>;

  constructor(make: (s: FleetStream) => AsyncGenerator<ChatChunk>) {
    this.#make = make;
    this.meta = new Promise<RequestMeta>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The meta promise is optional to consume: never let it become an unhandled rejection.
    this.meta.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncGenerator<ChatChunk> {
    if (this.#gen) throw new Error('a FleetStream can be iterated only once');
    this.#gen = this.#make(this);
    return this.#gen;
  }

  /** @internal */
  settle(meta: RequestMeta | undefined, err?: unknown): void {
    if (meta) this.#resolve(meta);
    else this.#reject(err);
  }
}

function hasPayload(c: ChatChunk): boolean {
  if (c.usage) return true;
  for (const ch of c.choices) {
    if (ch.finish_reason) return true;
    const d = ch.delta;
    if ((d.content !== undefined && d.content !== null && d.content !== '') || d.reasoning || d.tool_calls)
      return true;
  }
  return false;
}

/**
 * The streaming request loop. Chunks without content (llama.cpp's first `content: null` chunk)
 * are held back until real content arrives, so a worker that fails before its first token can
 * still be retried elsewhere without the caller seeing a thing.
 */
export async function* runStreamAttempts(
  fleet: Fleet,
  plan: RequestPlan,
  req: ChatRequest,
  stream: FleetStream,
): AsyncGenerator<ChatChunk> {
  const { ac, dispose } = fleet.controllerFor(plan);
  const exclude = new Set<string>();
  let seq: number | undefined;
  let completed = false;
  try {
    for (let attempt = 1; ; attempt++) {
      const lease = await fleet.acquire(plan, exclude, seq, ac.signal).catch((e: unknown) => {
        throw reasonOr(ac.signal, e);
      });
      seq = lease.seq;
      const a: Attempt = { worker: lease.worker, lease, signal: ac.signal, attempt };
      fleet.started(a, plan, true);
      const t0 = fleet.clock.now();
      let ttftMs: number | undefined;
      let yielded = false;
      let chunks = 0;
      let usage: ChatChunk['usage'];
      const held: ChatChunk[] = [];
      const it = lease.worker.backend.chatStream(req, { signal: ac.signal })[Symbol.asyncIterator]();
      let done = false;
      /** The attempt failed and its upstream request is already over (retried, or thrown). */
      let failed = false;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          const chunk = r.value;
          if (chunk.usage) usage = chunk.usage;
          if (!hasPayload(chunk) && !yielded) {
            held.push(chunk);
            continue;
          }
          if (ttftMs === undefined) ttftMs = fleet.clock.now() - t0;
          chunks++;
          if (!yielded) {
            stream.worker = lease.worker.id;
            yielded = true;
            for (const h of held) yield h;
            held.length = 0;
          }
          yield chunk;
        }
        done = true;
        for (const h of held) yield h;
        const latencyMs = fleet.clock.now() - t0;
        const out = fleet.succeeded(a, plan, latencyMs, ttftMs, usage, chunks);
        stream.worker = lease.worker.id;
        completed = true;
        stream.settle({
          worker: lease.worker.id,
          attempts: attempt,
          queuedMs: lease.queuedMs,
          latencyMs: fleet.clock.now() - plan.startedAt,
          ...(ttftMs === undefined ? {} : { ttftMs: ttftMs + (t0 - plan.startedAt) }),
          promptTokens: usage?.prompt_tokens ?? plan.promptTokens,
          outputTokens: out,
        });
        return;
      } catch (e) {
        failed = true;
        const err = reasonOr(ac.signal, e).withWorker(lease.worker.id);
        // The backend tore its exchange down when it threw; make sure the iterator is closed.
        await it.return?.().catch(() => undefined);
        fleet.releaseAfter(lease, err);
        const delay = fleet.failed(a, plan, err, fleet.clock.now() - t0, !yielded);
        if (delay === undefined) throw err;
        exclude.add(lease.worker.id);
        await fleet.clock.sleep(delay, ac.signal).catch(() => {
          throw reasonOr(ac.signal, err);
        });
      } finally {
        if (!done && !failed) {
          // The consumer broke out: the request is over, stop the upstream one now.
          const closed = new FleetError('FLEET_ABORTED', 'stream closed by the consumer');
          ac.abort(closed);
          await it.return?.().catch(() => undefined);
          fleet.releaseAfter(lease, closed);
        }
        lease.release();
      }
    }
  } catch (e) {
    stream.settle(undefined, e);
    throw e;
  } finally {
    if (!completed) stream.settle(undefined, reasonOr(ac.signal, new Error('stream closed by the consumer')));
    dispose();
  }
}
