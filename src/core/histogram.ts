import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type * as EncodingModule from 'hdr-histogram-js/dist/encoding.js';

// The one histogram class used, not the package's index: the index also loads the WebAssembly
// build (its binary as a base64 string), pako and the log reader and writer: ~7 MB of resident
// memory in every process that keeps a histogram (an idle gateway: 70-72 MB instead of 77-78;
// with 1,000 streams open it peaked at 126-130 MB instead of 134-153; docs/performance.md
// "Gateway"). The encoding module, which loads them, is required on the first
// encode(). `require`, not `import`: these are CommonJS files compiled from TypeScript, whose
// default export Node's ESM loader and vitest's interop hand over differently. The package has no
// exports map, and the lockfile pins the version these paths are checked against.
const require = createRequire(import.meta.url);
const Float64Histogram = (
  require('hdr-histogram-js/dist/Float64Histogram.js') as {
    default: new (
      lowestDiscernible: number,
      highestTrackable: number,
      significantDigits: number,
    ) => Histogram;
  }
).default;

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
  #h: Histogram;
  #sumMs = 0;
  /** Recorded values (us) not yet in #h. */
  readonly #pending = new Float64Array(PENDING);
  #n = 0;

  constructor() {
    // What hdr.build({ bitBucketSize: 64, autoResize: true, ... }) makes, without the index.
    this.#h = new Float64Histogram(1, 3_600_000_000, 3);
    this.#h.autoResize = true;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#pending[this.#n++] = Math.max(1, Math.round(ms * 1000));
    this.#sumMs += ms;
    if (this.#n === PENDING) this.#settle();
  }

  /** The HdrHistogram with every recorded value in it. */
  get #all(): Histogram {
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
    const { encodeIntoCompressedBase64 } =
      require('hdr-histogram-js/dist/encoding.js') as typeof EncodingModule;
    return encodeIntoCompressedBase64(this.#all);
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
