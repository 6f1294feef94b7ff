import { describe, expect, it } from 'vitest';
import { Deadline, type DeadlineLimits } from '../../src/backends/deadline.ts';
import { Cancel } from '../../src/core/cancel.ts';
import type { FleetError } from '../../src/core/errors.ts';
import { ManualClock } from '../sim/helpers.ts';

function start(limits: Partial<DeadlineLimits>) {
  const clock = new ManualClock();
  const t0 = clock.now();
  const d = new Deadline(clock, 'w1', { totalMs: 0, firstTokenMs: 0, stallMs: 0, ...limits });
  const ended: Array<{ at: number; err: FleetError }> = [];
  d.onAbort = (err) => ended.push({ at: clock.now() - t0, err });
  return { clock, d, ended };
}

describe('Deadline', () => {
  it('leaves no timer behind once disposed', () => {
    const { clock, d } = start({ totalMs: 300_000, firstTokenMs: 300_000, stallMs: 60_000 });
    expect(clock.pending).toBeGreaterThan(0);
    d.firstToken();
    d.waitStart();
    d.waitEnd();
    d.dispose();
    expect(clock.pending).toBe(0);
    clock.advance(400_000);
    expect(d.aborted).toBe(false);
  });

  it('total: ends the exchange at totalMs, with the phase and words of the limit', () => {
    const { clock, d, ended } = start({ totalMs: 1000, stallMs: 300 });
    d.firstToken();
    for (let i = 0; i < 9; i++) {
      d.waitStart();
      clock.advance(100);
      d.waitEnd();
    }
    expect(ended).toEqual([]);
    clock.advance(100);
    expect(ended.map((e) => [e.at, e.err.phase, e.err.message])).toEqual([
      [1000, 'total', 'w1: timed out after 1 s (total request timeout)'],
    ]);
    expect(d.aborted).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('probe phase: the total limit names the probe', () => {
    const { clock, ended } = start({ totalMs: 250, totalPhase: 'probe' });
    clock.advance(250);
    expect(ended.map((e) => [e.err.phase, e.err.message])).toEqual([['probe', 'w1: timed out after 250 ms']]);
  });

  it('first token: ends the exchange at firstTokenMs unless the first token came', () => {
    const late = start({ firstTokenMs: 5000, stallMs: 2000, totalMs: 60_000 });
    late.d.waitStart();
    late.clock.advance(4999);
    expect(late.ended).toEqual([]);
    late.clock.advance(1);
    expect(late.ended.map((e) => [e.at, e.err.phase, e.err.message])).toEqual([
      [5000, 'first_token', 'w1: no first token after 5 s (first token timeout)'],
    ]);

    const onTime = start({ firstTokenMs: 5000, totalMs: 60_000 });
    onTime.clock.advance(4000);
    onTime.d.firstToken();
    onTime.clock.advance(50_000);
    expect(onTime.ended).toEqual([]);
  });

  it('stall: counts only while waiting for the server, from the start of that wait', () => {
    const { clock, d, ended } = start({ stallMs: 1000, totalMs: 100_000 });
    d.firstToken();
    d.waitStart();
    clock.advance(900);
    d.waitEnd(); // a chunk came
    clock.advance(5000); // the consumer holds it: not the server's silence
    expect(ended).toEqual([]);
    d.waitStart(); // at 5,900
    clock.advance(999);
    expect(ended).toEqual([]);
    clock.advance(1);
    expect(ended.map((e) => [e.at, e.err.phase, e.err.message])).toEqual([
      [6900, 'stall', 'w1: stream stalled: no data for 1 s (stall timeout)'],
    ]);
  });

  it('stall does not apply before the first token (the first token limit does)', () => {
    const { clock, d, ended } = start({ stallMs: 100, firstTokenMs: 1000 });
    d.waitStart();
    clock.advance(999);
    expect(ended).toEqual([]);
    clock.advance(1);
    expect(ended.map((e) => e.err.phase)).toEqual(['first_token']);
  });

  it('a caller that aborts ends the exchange at once and stops the timer', () => {
    const clock = new ManualClock();
    const caller = new Cancel();
    const d = new Deadline(clock, 'w1', { totalMs: 1000, firstTokenMs: 0, stallMs: 0 }, caller);
    const seen: string[] = [];
    d.onAbort = (e) => seen.push(e.code);
    caller.abort('gone');
    expect(seen).toEqual(['FLEET_ABORTED']);
    expect(clock.pending).toBe(0);
  });
});
