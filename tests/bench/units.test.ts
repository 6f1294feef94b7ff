import { describe, expect, it } from 'vitest';
import {
  builtinPrompts,
  jainIndex,
  judgeSelfCheck,
  schedule,
  scalingPlan,
  syntheticPrompts,
} from '../../src/bench/index.ts';
import { messageText } from '../../src/core/openai.ts';
import { createRandom } from '../../src/core/random.ts';

describe('bench building blocks', () => {
  it("Jain's index: 1 when even, 1/n when one worker takes everything", () => {
    expect(jainIndex([5, 5, 5])).toBe(1);
    expect(jainIndex([9, 0, 0])).toBeCloseTo(1 / 3, 10);
    expect(jainIndex([2, 1])).toBeCloseTo(0.9, 10);
  });

  it('open-loop schedules: constant spacing, Poisson with the right mean', () => {
    expect(schedule(4, 10, 'constant', createRandom(1))).toEqual([0, 100, 200, 300]);
    const p = schedule(20001, 50, 'poisson', createRandom(7));
    expect(p[20000]! / 20000).toBeGreaterThan(19);
    expect(p[20000]! / 20000).toBeLessThan(21);
  });

  it('scaling plan keeps counts up to the configured workers and reports the rest', () => {
    expect(scalingPlan(3, [1, 2, 3, 5, 10, 2])).toEqual({ counts: [1, 2, 3], skipped: [5, 10] });
  });

  it('prompts are unique per request and seeded', () => {
    const a = builtinPrompts('run1', createRandom(3));
    const texts = Array.from({ length: 50 }, () => messageText(a.next().messages[0]!.content));
    expect(new Set(texts).size).toBe(50);
    expect(texts[0]).toMatch(/^\[run1#1\] (What is the capital|Define|What is \d+ \+ \d+)/);
    const s = syntheticPrompts('r', createRandom(1), 100, 20).next();
    expect(messageText(s.messages[0]!.content).length).toBe(400);
    expect(s.maxTokens).toBe(20);
  });

  it('self-check bounds are relative to the latency, with absolute floors', () => {
    const calm = { eventLoopDelayP99Ms: 12, eventLoopDelayMaxMs: 20, cpuPercent: 30 };
    expect(judgeSelfCheck(calm, [0.1, 0.2, 1], 2000).valid).toBe(true);
    const late = judgeSelfCheck(calm, Array(100).fill(300), 2000);
    expect(late.valid).toBe(false);
    expect(late.reasons[0]).toMatch(/sent requests late/);
    expect(judgeSelfCheck({ ...calm, cpuPercent: 99 }, [0], 2000).reasons[0]).toMatch(/99% of a CPU core/);
  });
});
