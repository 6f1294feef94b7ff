import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PairCounter, PlainHistogram } from '../../src/gateway/prom.ts';
import { createRandom } from '../../src/core/random.ts';

/** The text prom-client writes for `fill`'s metrics, once with its own classes and once with ours. */
async function both(
  fill: (
    own: { counter: Counter<string>; histogram: Histogram<string>; bare: Histogram<string> },
    plain: {
      counter: PairCounter;
      histogram: PlainHistogram;
      bare: PlainHistogram;
    },
  ) => void,
): Promise<[string, string]> {
  const bounds = [0.05, 0.1, 0.25, 0.5, 1, 2];
  const a = new Registry();
  const b = new Registry();
  const own = {
    counter: new Counter({
      name: 'c_total',
      help: 'a counter',
      labelNames: ['worker', 'outcome'],
      registers: [a],
    }),
    histogram: new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['worker'],
      buckets: bounds,
      registers: [a],
    }),
    bare: new Histogram({ name: 'w_seconds', help: 'no labels', buckets: bounds, registers: [a] }),
  };
  const plain = {
    counter: new PairCounter('c_total', 'a counter', ['worker', 'outcome']).register(b),
    histogram: new PlainHistogram('h_seconds', 'a histogram', bounds, 'worker').register(b),
    bare: new PlainHistogram('w_seconds', 'no labels', bounds).register(b),
  };
  fill(own, plain);
  return [await a.metrics(), await b.metrics()];
}

/**
 * The exposition as families (HELP, TYPE, then the samples as a sorted list): the order of samples
 * within a family means nothing to Prometheus, and prom-client keeps label sets in the order it first
 * saw them, ours by the first label.
 */
const families = (text: string) =>
  text
    .trim()
    .split('\n\n')
    .map((f) => {
      const [help, type, ...samples] = f.split('\n');
      return { help, type, samples: samples.sort() };
    });

describe('plain-number Prometheus metrics', () => {
  it('write exactly what prom-client writes for the same counts and observations', async () => {
    const rnd = createRandom(11);
    const [theirs, ours] = await both((own, plain) => {
      for (let i = 0; i < 500; i++) {
        const worker = ['a', 'b', 'c'][i % 3]!;
        const outcome = rnd.next() < 0.9 ? 'ok' : 'FLEET_UPSTREAM_SERVER';
        own.counter.inc({ worker, outcome });
        plain.counter.inc(worker, outcome);
        // Values on the bucket bounds too: `le` is "less than or equal".
        const v = i % 50 === 0 ? 0.25 : rnd.next() * 3;
        own.histogram.observe({ worker }, v);
        plain.histogram.observe(v, worker);
        own.bare.observe(v / 10);
        plain.bare.observe(v / 10);
      }
      own.counter.inc({ worker: 'a', outcome: 'ok' }, 7);
      plain.counter.inc('a', 'ok', 7);
    });
    expect(families(ours)).toEqual(families(theirs));
    expect(ours).toContain('h_seconds_bucket{le="+Inf",worker="a"} 167');
    expect(ours).toContain('w_seconds_count 500');
  });

  it('before anything is counted: HELP and TYPE, and the zeros of a histogram without labels, as prom-client writes', async () => {
    const [theirs, ours] = await both(() => undefined);
    expect(ours).toBe(theirs);
    expect(ours).toContain('w_seconds_bucket{le="+Inf"} 0');
  });
});
