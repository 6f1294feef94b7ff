import * as hdr from 'hdr-histogram-js';

/** Count, mean and percentiles of a latency histogram, in ms. */
export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Values recorded before they go into the HdrHistogram in one warm loop. */
const PENDING = 256;

/**
 * Latency histogram (HdrHistogram, 3 significant digits) recording milliseconds with
 * microsecond resolution. Mergeable through base64 encode/decode.
 *
 * `record` only appends to a small typed array; the values reach the HdrHistogram when it fills and
 * before anything is read. hdr-histogram-js's `recordValue` took ~2 us per call on the gateway's
 * request path, where every request runs cold (perf at 1,000 req/s, docs/performance.md "Gateway");
 * 256 of them in a loop cost a fraction of that each.
 */
export class LatencyHistogram {
  #h: hdr.Histogram;
  #sumMs = 0;
  /** Recorded values (us) not yet in #h. */
  readonly #pending = new Float64Array(PENDING);
  #n = 0;

  constructor() {
    this.#h = hdr.build({
      bitBucketSize: 64,
      autoResize: true,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#pending[this.#n++] = Math.max(1, Math.round(ms * 1000));
    this.#sumMs += ms;
    if (this.#n === PENDING) this.#settle();
  }

  /** The HdrHistogram with every recorded value in it. */
  get #all(): hdr.Histogram {
    if (this.#n > 0) this.#settle();
    return this.#h;
  }

  #settle(): void {
    const h = this.#h;
    const p = this.#pending;
    for (let i = 0; i < this.#n; i++) h.recordValue(p[i]!);
    this.#n = 0;
  }

  get count(): number {
    return this.#h.totalCount + this.#n;
  }

  /** Mean in ms (exact, from the running sum rather than the buckets). */
  get mean(): number {
    return this.count === 0 ? 0 : this.#sumMs / this.count;
  }

  get min(): number {
    return this.count === 0 ? 0 : this.#all.minNonZeroValue / 1000;
  }

  get max(): number {
    return this.count === 0 ? 0 : this.#all.maxValue / 1000;
  }

  /** p in [0, 100]. */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#all.getValueAtPercentile(p) / 1000;
  }

  reset(): void {
    this.#h.reset();
    this.#n = 0;
    this.#sumMs = 0;
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#all);
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LatencyHistogram): void {
    this.#all.add(other.#all);
    this.#sumMs += other.#sumMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      mean: this.mean,
      min: this.min,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.max,
    };
  }
}
