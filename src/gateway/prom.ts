import type { Metric, Registry } from 'prom-client';

/**
 * Prometheus counters and histograms kept as plain numbers, in the shape prom-client's Registry
 * formats at a scrape (an object with `name`, `help`, `type` and `get()`). Counting one request is
 * a Map lookup and an addition. prom-client's own Counter and Histogram hash and validate the
 * labels of every `inc`/`observe` (~1 us each): done per request that was ~7 us of the gateway's
 * path at 1,000 req/s, and done in batches it paused the event loop for 0.6-3 ms every 256
 * requests (docs/performance.md "Gateway").
 */

type Labels = Record<string, string | number>;

interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface Snapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Value[];
  aggregator: 'sum';
}

abstract class PlainMetric {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected abstract values(): Value[];

  get(): Promise<Snapshot> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    });
  }

  /** Adds this metric to `registry` (prom-client formats it with its own). */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

/** A counter with two labels (e.g. worker and outcome). */
export class PairCounter extends PlainMetric {
  readonly type = 'counter';
  readonly #counts = new Map<string, Map<string | number, number>>();

  constructor(
    name: string,
    help: string,
    readonly labelNames: readonly [string, string],
  ) {
    super(name, help);
  }

  inc(a: string, b: string | number, n = 1): void {
    let byB = this.#counts.get(a);
    if (byB === undefined) this.#counts.set(a, (byB = new Map<string | number, number>()));
    byB.set(b, (byB.get(b) ?? 0) + n);
  }

  protected values(): Value[] {
    const [ka, kb] = this.labelNames;
    const out: Value[] = [];
    for (const [a, byB] of this.#counts)
      for (const [b, value] of byB) out.push({ value, labels: { [ka]: a, [kb]: String(b) } });
    return out;
  }
}

interface Series {
  /** Observations per bucket (not cumulative): counts[i] for values in (bounds[i-1], bounds[i]]. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with at most one label (e.g. worker); `le` buckets as prom-client's, plus +Inf. */
export class PlainHistogram extends PlainMetric {
  readonly type = 'histogram';
  readonly #series = new Map<string, Series>();

  constructor(
    name: string,
    help: string,
    readonly bounds: readonly number[],
    /** The label's name; without one there is a single series. */
    readonly labelName?: string,
  ) {
    super(name, help);
    // Without a label the one series is there from the start, zeros included (as prom-client does).
    if (labelName === undefined) this.#series.set('', this.#newSeries());
  }

  #newSeries(): Series {
    return { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  observe(value: number, labelValue = ''): void {
    let s = this.#series.get(labelValue);
    if (s === undefined) this.#series.set(labelValue, (s = this.#newSeries()));
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  protected values(): Value[] {
    const out: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [lv, s] of this.#series) {
      // `le` first, then the label, as prom-client writes them.
      const labels = (le?: number | string): Labels => {
        const l: Labels = {};
        if (le !== undefined) l['le'] = le;
        if (this.labelName !== undefined) l[this.labelName] = lv;
        return l;
      };
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        out.push({ value: acc, labels: labels(le), metricName: bucket });
      });
      out.push({ value: s.count, labels: labels('+Inf'), metricName: bucket });
      out.push({ value: s.sum, labels: labels(), metricName: `${this.name}_sum` });
      out.push({ value: s.count, labels: labels(), metricName: `${this.name}_count` });
    }
    return out;
  }
}
