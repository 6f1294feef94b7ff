import { describe, expect, it } from 'vitest';
import { Cancel } from '../../src/core/cancel.ts';
import { systemClock } from '../../src/core/clock.ts';

describe('Cancel (the cheap AbortController of the hot path)', () => {
  it('calls each listener once with the reason set, and never a removed or late one', () => {
    const c = new Cancel();
    const calls: string[] = [];
    const a = () => calls.push(`a:${String(c.reason)}`);
    const b = () => calls.push('b');
    c.signal.addEventListener('abort', a, { once: true });
    c.signal.addEventListener('abort', b);
    c.signal.removeEventListener('abort', b);
    expect(c.signal.aborted).toBe(false);
    c.abort('why');
    c.abort('again');
    c.signal.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual(['a:why']);
    expect(c.signal.aborted).toBe(true);
    expect(c.signal.reason).toBe('why');
  });

  it('aborts with an AbortError by default, and a real AbortSignal follows it', () => {
    const c = new Cancel();
    const real = c.toAbortSignal();
    expect(real).toBeInstanceOf(AbortSignal);
    expect(c.toAbortSignal()).toBe(real);
    c.abort();
    expect(real.aborted).toBe(true);
    expect(c.reason).toBeInstanceOf(DOMException);
    expect((c.reason as DOMException).name).toBe('AbortError');
    expect(real.reason).toBe(c.reason);
    const late = new Cancel();
    late.abort('gone');
    expect(late.toAbortSignal().reason).toBe('gone');
  });

  it('ends a sleep early, like an AbortSignal', async () => {
    const c = new Cancel();
    const t0 = performance.now();
    const slept = systemClock.sleep(5_000, c.signal);
    setTimeout(() => c.abort(new Error('stop')), 10);
    await expect(slept).rejects.toThrow('stop');
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
