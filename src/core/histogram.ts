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

/**
 * Latency histogram (HdrHistogram, 3 significant digits) recording milliseconds with
 * microsecond resolution. Mergeable through base64 encode/decode.
 */
export class LatencyHistogram {
  #h: hdr.Histogram;
  #sumMs = 0;

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
    this.#h.recordValue(Math.max(1, Math.round(ms * 1000)));
    this.#sumMs += ms;
  }

  get count(): number {
    return this.#h.totalCount;
  }

  /** Mean in ms (exact, from the running sum rather than the buckets). */
  get mean(): number {
    return this.count === 0 ? 0 : this.#sumMs / this.count;
  }

  get min(): number {
    return this.count === 0 ? 0 : this.#h.minNonZeroValue / 1000;
  }

  get max(): number {
    return this.count === 0 ? 0 : this.#h.maxValue / 1000;
  }

  /** p in [0, 100]. */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#h.getValueAtPercentile(p) / 1000;
  }

  reset(): void {
    this.#h.reset();
    this.#sumMs = 0;
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#h);
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LatencyHistogram): void {
    this.#h.add(other.#h);
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
