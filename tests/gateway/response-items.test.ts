import { describe, expect, it } from 'vitest';
import { keyScope, ResponseItems } from '../../src/gateway/response-items.ts';
import { ManualClock } from '../sim/helpers.ts';

const item = (id: string, text = 'x') => ({
  id,
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text }],
});

describe('ResponseItems', () => {
  it('scopes by the API key, hashed: no key is one scope, and the key itself is not kept', () => {
    expect(keyScope(undefined)).toBe('');
    expect(keyScope('sk-a')).not.toBe(keyScope('sk-b'));
    expect(keyScope('sk-a')).toBe(keyScope('sk-a'));
    expect(keyScope('sk-a')).not.toContain('sk-a');
  });

  it('keeps items by id, the newest copy of an id, for ttlMs', () => {
    const clock = new ManualClock();
    const items = new ResponseItems(clock, { maxItems: 10, maxBytes: 1e6, ttlMs: 1000 });
    items.remember([item('a', 'one'), item('b'), { type: 'message' }], 'k');
    expect(items.size).toBe(2);
    items.remember([item('a', 'two')], 'k');
    expect(items.get('a', 'k')).toEqual(item('a', 'two'));
    clock.advance(999);
    expect(items.get('b', 'k')).toEqual(item('b'));
    clock.advance(2);
    expect(items.get('b', 'k')).toBeUndefined();
    expect(items.get('never', 'k')).toBeUndefined();
    // Another scope (another API key) does not see them.
    items.remember([item('c')], 'k');
    expect(items.get('c', 'other')).toBeUndefined();
    expect(items.get('c', 'k')).toEqual(item('c'));
  });

  it('drops the oldest first past maxItems or maxBytes, and anything past ttlMs when more come', () => {
    const clock = new ManualClock();
    const one = JSON.stringify(item('a0')).length;
    const items = new ResponseItems(clock, { maxItems: 3, maxBytes: one * 10, ttlMs: 1000 });
    items.remember([item('a0'), item('a1'), item('a2'), item('a3')], 'k');
    expect([items.get('a0', 'k'), items.size]).toEqual([undefined, 3]);
    items.remember([item('big', 'y'.repeat(one * 8))], 'k');
    expect(['a1', 'a2', 'a3', 'big'].map((id) => items.get(id, 'k') !== undefined)).toEqual([
      false,
      false,
      true,
      true,
    ]);
    clock.advance(1001);
    items.remember([item('late')], 'k');
    expect(items.size).toBe(1);
  });
});
