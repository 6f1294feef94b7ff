/** One finished HTTP request, as the dashboard's "recent requests" table shows it. */
export interface RequestRecord {
  /** Sequence number (monotonic), for "what is new since". */
  seq: number;
  /** Request id (`x-request-id`). */
  id: string;
  /** Wall-clock ms. */
  at: number;
  method: string;
  path: string;
  model: string | undefined;
  worker: string | undefined;
  status: number;
  /** ms from arrival to the end of the response. */
  latencyMs: number;
  ttftMs: number | undefined;
  outputTokens: number | undefined;
  stream: boolean;
  /** Error code when it failed. */
  error: string | undefined;
}

/** A fixed-size ring of the latest inference requests (health, metrics and assets are not kept). */
export class RecentRequests {
  readonly #ring: RequestRecord[] = [];
  #seq = 0;

  /** @param limit records kept. @default 200 */
  constructor(readonly limit = 200) {}

  /** Keeps `r` itself (no copy: one per request), numbered: its `seq` is set here. */
  add(r: RequestRecord): RequestRecord {
    r.seq = ++this.#seq;
    this.#ring.push(r);
    if (this.#ring.length > this.limit) this.#ring.shift();
    return r;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  /** Records after `seq`, oldest first, at most `max`. */
  since(seq: number, max = this.limit): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = this.#ring.length - 1; i >= 0 && out.length < max; i--) {
      const r = this.#ring[i]!;
      if (r.seq <= seq) break;
      out.push(r);
    }
    return out.reverse();
  }
}
