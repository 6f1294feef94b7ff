import { describe, expect, it } from 'vitest';
import { FleetError, isFleetError, parseRetryAfter, toFleetError } from '../../src/core/errors.ts';
import { LatencyHistogram } from '../../src/core/histogram.ts';
import { createRandom, randomExponential, randomInt } from '../../src/core/random.ts';

const headers = (h: Record<string, string>) => ({ get: (k: string) => h[k] ?? null });

describe('errors', () => {
  it('carries a stable code, the default retryable flag per code, and the HTTP status to answer', () => {
    const e = new FleetError('FLEET_UPSTREAM_BUSY', 'busy', { retryAfterMs: 2000, status: 503 });
    expect([e.code, e.retryable, e.httpStatus, e.retryAfterMs]).toEqual([
      'FLEET_UPSTREAM_BUSY',
      true,
      503,
      2000,
    ]);
    expect(new FleetError('FLEET_CONTEXT_OVERFLOW', 'x').retryable).toBe(false);
    const w = e.withWorker('w1');
    expect([w.worker, w.code, w.retryAfterMs]).toEqual(['w1', 'FLEET_UPSTREAM_BUSY', 2000]);
    expect(isFleetError(w, 'FLEET_UPSTREAM_BUSY')).toBe(true);
    const abort = new Error('gone');
    abort.name = 'AbortError';
    expect(toFleetError(abort).code).toBe('FLEET_ABORTED');
    expect(toFleetError('weird').code).toBe('FLEET_UPSTREAM_SERVER');
  });

  it('reads retry-after-ms, then retry-after in seconds or as an HTTP date', () => {
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(headers({}))).toBeUndefined();
  });
});

describe('random', () => {
  it('is reproducible from its seed, uniform enough, and differs between seeds', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(createRandom(43).next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const r = createRandom('seed');
    const ints = Array.from({ length: 1000 }, () => randomInt(r, 1, 3));
    expect(new Set(ints)).toEqual(new Set([1, 2, 3]));
    const exp = Array.from({ length: 20_000 }, () => randomExponential(r, 10));
    expect(exp.reduce((s, x) => s + x, 0) / exp.length).toBeGreaterThan(9.5);
    expect(exp.reduce((s, x) => s + x, 0) / exp.length).toBeLessThan(10.5);
  });
});

describe('latency histogram', () => {
  it('gives percentiles within 0.1 %, an exact mean, and merges', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    expect(h.count).toBe(1000);
    expect(h.mean).toBeCloseTo(500.5, 9);
    expect(h.percentile(50)).toBeCloseTo(500, -0.5);
    expect(Math.abs(h.percentile(99) - 990) / 990).toBeLessThan(0.001);
    expect(h.max).toBeCloseTo(1000, 0);
    const other = new LatencyHistogram();
    other.record(5000);
    h.merge(other);
    expect(h.count).toBe(1001);
    expect(h.max).toBeCloseTo(5000, -1);
    expect(h.encode().length).toBeGreaterThan(10);
  });

  it('every value recorded counts at once, whether or not it has reached the HdrHistogram yet', () => {
    // Recorded values wait in a batch of 256: counts, percentiles, merges and encodings see them all.
    const rnd = createRandom(5);
    const values = Array.from({ length: 700 }, () => rnd.next() * 2000);
    const h = new LatencyHistogram();
    const one = new LatencyHistogram();
    for (const [i, v] of values.entries()) {
      h.record(v);
      expect(h.count).toBe(i + 1);
      if (i === 299) {
        expect(h.max).toBeCloseTo(Math.max(...values.slice(0, 300)), -1); // 44 of them still batched
        one.record(v);
        expect(one.min).toBeCloseTo(v, 0); // the only value, never batched out by size
      }
    }
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 99]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.002);
    }
    expect(h.min).toBeCloseTo(sorted[0]!, 0);
    // A histogram with a batch pending merges and encodes it too.
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (const v of values.slice(0, 10)) a.record(v);
    for (const v of values.slice(10, 30)) b.record(v);
    a.merge(b);
    expect(a.count).toBe(30);
    expect(a.max).toBeCloseTo(Math.max(...values.slice(0, 30)), -1);
    const c = new LatencyHistogram();
    c.record(123);
    expect(c.encode()).not.toBe(new LatencyHistogram().encode());
    c.reset();
    expect([c.count, c.max, c.mean]).toEqual([0, 0, 0]);
    expect(c.encode()).toBe(new LatencyHistogram().encode());
  });
});
