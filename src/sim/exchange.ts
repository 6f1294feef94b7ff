import type { ServerResponse } from 'node:http';
import type { Sequence, EngineJob } from './engine.ts';
import { midStreamError, type ApiFlavor } from './errors.ts';
import { send, streamHeaders, JSON_TYPE } from './http.ts';
import type { SimCore } from './context.ts';
import type { Reply, WireFormat } from './reply.ts';
import type { SimOutcome, SimRequestLog } from './types.ts';

/** The fault drawn for one request that made it to the engine. */
export type StreamFault = 'none' | 'hang' | 'drop' | 'malformed' | 'midstream';

/**
 * One inference request from slot to last byte: the engine calls it back at start, first token,
 * ticks and done, and it writes the wire format. It frees its slot at once when the client goes
 * away, and finishes its log entry exactly once, whatever happens.
 */
export class Exchange implements EngineJob {
  readonly promptText: string;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly hang: boolean;
  readonly wantsTicks: boolean;
  readonly #core: SimCore;
  readonly #res: ServerResponse;
  readonly #reply: Reply;
  readonly #format: WireFormat;
  readonly #api: ApiFlavor;
  readonly #stream: boolean;
  readonly #fault: StreamFault;
  readonly #entry: SimRequestLog;
  readonly #onEnd: (outcome: SimOutcome, status: number) => void;
  /** Tokens written so far (streams), and whether the stream has begun writing tokens. */
  #emitted = 0;
  #began = false;
  #ended = false;
  #corked = false;
  #seq: Sequence | undefined;

  constructor(args: {
    core: SimCore;
    res: ServerResponse;
    reply: Reply;
    format: WireFormat;
    api: ApiFlavor;
    stream: boolean;
    fault: StreamFault;
    promptText: string;
    entry: SimRequestLog;
    onEnd: (outcome: SimOutcome, status: number) => void;
  }) {
    this.#core = args.core;
    this.#res = args.res;
    this.#reply = args.reply;
    this.#format = args.format;
    this.#api = args.api;
    this.#stream = args.stream;
    this.#fault = args.fault;
    this.#entry = args.entry;
    this.#onEnd = args.onEnd;
    this.promptText = args.promptText;
    this.promptTokens = args.reply.promptTokens;
    this.outputTokens = args.reply.tokens.length;
    this.hang = args.fault === 'hang';
    this.wantsTicks = args.stream;
  }

  /** Binds the engine's sequence (undefined = refused, the caller answers 503). */
  attach(seq: Sequence): void {
    this.#seq = seq;
  }

  /** The client went away before the end: free the slot now. */
  abort(): void {
    if (this.#ended) return;
    if (this.#seq !== undefined) this.#core.engine.cancel(this.#seq);
    this.#end(this.hang ? 'hang' : 'aborted', this.#res.headersSent ? this.#res.statusCode : 0);
  }

  /** The server died under it (crash): outcome 'dropped'. */
  kill(): void {
    if (this.#ended) return;
    this.#end('dropped', this.#res.headersSent ? this.#res.statusCode : 0);
    this.#res.destroy();
  }

  onStart(seq: Sequence): void {
    this.#seq = seq;
    this.#entry.startedAt = seq.startedAt - this.#core.t0;
    this.#entry.cachedTokens = seq.cachedTokens;
    this.#reply.startedAt = seq.startedAt;
    this.#reply.cachedTokens = seq.cachedTokens;
    if (!this.#stream || this.hang) return;
    this.#res.writeHead(200, streamHeaders(this.#format.streamType, this.#reply.type));
    const open = this.#format.open(this.#reply);
    if (open !== '') this.#write(open);
  }

  onFirstToken(seq: Sequence): void {
    this.#entry.firstTokenAt = seq.firstTokenAt - this.#core.t0;
    if (this.#stream) this.#emit(this.#core.engine.tokensOf(seq));
  }

  onTick(seq: Sequence): void {
    if (this.#ended) return;
    if (seq.phase === 'prefill') {
      const span = seq.prefillEndAt - seq.startedAt;
      const uncached = this.promptTokens - seq.cachedTokens;
      const f = span > 0 ? Math.min(1, (this.#core.clock.now() - seq.startedAt) / span) : 1;
      const text = this.#format.prefillTick(this.#reply, seq.cachedTokens + Math.floor(uncached * f));
      if (text !== '') this.#write(text);
      return;
    }
    this.#emit(this.#core.engine.tokensOf(seq));
  }

  onDone(seq: Sequence): void {
    if (this.#ended) return;
    const r = this.#reply;
    r.prefillEndAt = seq.prefillEndAt;
    r.doneAt = seq.doneAt;
    this.#entry.finishedAt = seq.doneAt - this.#core.t0;
    this.#entry.outputTokens = this.outputTokens;
    if (this.#stream) {
      this.#emit(this.outputTokens);
      if (this.#ended) return;
      // A drop or mid-stream error on a request with no tokens to wait for fires at the end.
      if (this.#fault === 'drop' || this.#fault === 'midstream') return this.#streamFault();
      this.#res.end(this.#format.close(r));
      return this.#end(this.#fault === 'malformed' ? 'malformed' : 'ok', 200);
    }
    const body = this.#format.body(r);
    if (this.#fault === 'drop') {
      // Promise the whole body, send half, then cut the connection.
      this.#res.writeHead(200, [
        'Content-Type',
        JSON_TYPE,
        'Content-Length',
        String(Buffer.byteLength(body)),
      ]);
      this.#res.write(body.slice(0, body.length >> 1));
      this.#end('dropped', 200);
      this.#destroyAfterFlush();
      return;
    }
    if (this.#fault === 'malformed') {
      send(this.#res, 200, JSON_TYPE, body.slice(0, Math.max(1, body.length >> 1)), r.type);
      return this.#end('malformed', 200);
    }
    send(this.#res, 200, JSON_TYPE, body, r.type);
    this.#end('ok', 200);
  }

  #emit(upTo: number): void {
    const faulty = this.#fault === 'drop' || this.#fault === 'midstream';
    // A drop or mid-stream error strikes after half the tokens (at least one).
    const faultAt = Math.max(1, this.outputTokens >> 1);
    if (faulty) upTo = Math.min(upTo, faultAt);
    if (this.#ended || upTo <= this.#emitted) return;
    const first = !this.#began;
    this.#began = true;
    let out = '';
    if (first && this.#fault === 'malformed') out += this.#format.malformed(this.#reply);
    out += this.#format.tokens(this.#reply, this.#emitted, upTo, first);
    this.#emitted = upTo;
    this.#entry.outputTokens = upTo;
    if (out !== '') this.#write(out);
    if (faulty && upTo >= faultAt) this.#streamFault();
  }

  /**
   * Writes a piece of a stream. Pieces written in the same tick (headers, first tokens, finish,
   * usage: all of them in instant mode) are corked into one socket write.
   */
  #write(text: string): void {
    const res = this.#res;
    if (!this.#corked) {
      this.#corked = true;
      res.cork();
      process.nextTick(() => {
        this.#corked = false;
        res.uncork();
      });
    }
    res.write(text);
  }

  /** Cuts the connection once what was written has left, so the client sees a partial response. */
  #destroyAfterFlush(): void {
    const res = this.#res;
    if (this.#corked) {
      this.#corked = false;
      res.uncork();
    }
    setImmediate(() => res.destroy());
  }

  #streamFault(): void {
    if (this.#ended) return;
    // End first: cancelling brings the engine up to date, which may finish this very request
    // and call onDone, which must then find it over (else the response is ended twice).
    this.#end(this.#fault === 'drop' ? 'dropped' : 'error', 200);
    if (this.#seq !== undefined) this.#core.engine.cancel(this.#seq);
    if (this.#fault === 'drop') return this.#destroyAfterFlush();
    this.#res.end(midStreamError(this.#reply.type, this.#api, 'simulated failure during generation'));
  }

  #end(outcome: SimOutcome, status: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(outcome, status);
  }
}
