import { describe, expect, it } from 'vitest';
import { ResponseItems } from '../../src/gateway/response-items.ts';
import { ManualClock } from '../sim/helpers.ts';

const item = (id: string, text = 'x') => ({
  id,
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text }],
});

describe('ResponseItems', () => {
  it('keeps items by id, the newest copy of an id, for ttlMs', () => {
    const clock = new ManualClock();
    const items = new ResponseItems(clock, { maxItems: 10, maxBytes: 1e6, ttlMs: 1000 });
    items.remember([item('a', 'one'), item('b'), { type: 'message' }]);
    expect(items.size).toBe(2);
    items.remember([item('a', 'two')]);
    expect(items.get('a')).toEqual(item('a', 'two'));
    clock.advance(999);
    expect(items.get('b')).toEqual(item('b'));
    clock.advance(2);
    expect(items.get('b')).toBeUndefined();
    expect(items.get('never')).toBeUndefined();
  });

  it('drops the oldest first past maxItems or maxBytes, and anything past ttlMs when more come', () => {
    const clock = new ManualClock();
    const one = JSON.stringify(item('a0')).length;
    const items = new ResponseItems(clock, { maxItems: 3, maxBytes: one * 10, ttlMs: 1000 });
    items.remember([item('a0'), item('a1'), item('a2'), item('a3')]);
    expect([items.get('a0'), items.size]).toEqual([undefined, 3]);
    items.remember([item('big', 'y'.repeat(one * 8))]);
    expect(['a1', 'a2', 'a3', 'big'].map((id) => items.get(id) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
    ]);
    clock.advance(1001);
    items.remember([item('late')]);
    expect(items.size).toBe(1);
  });
});
