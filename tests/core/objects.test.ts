import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { copyWith } from '../../src/core/objects.ts';

describe('copyWith', () => {
  it('gives what { ...obj, ...fields } gives: keys in order, fields on top, new keys last', () => {
    const req = JSON.parse(
      '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}',
    ) as Record<string, unknown>;
    const out = copyWith(req, { stream: false, model: 'other', extra: undefined });
    expect(JSON.stringify(out)).toBe(
      JSON.stringify({ ...req, stream: false, model: 'other', extra: undefined }),
    );
    expect(Object.keys(out)).toEqual(['model', 'messages', 'max_tokens', 'stream', 'extra']);
    expect(out['messages']).toBe(req['messages']); // shallow
    expect(req).not.toHaveProperty('stream'); // the source is untouched
  });

  it('copies only own keys, and an own "__proto__" key as data (as a spread does), not as the prototype', () => {
    const evil = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const out = copyWith(evil, { b: 2 }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out['polluted']).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__', 'a', 'b']);
    expect(JSON.stringify(out)).toBe(JSON.stringify({ ...evil, b: 2 }));

    const inherited = Object.create({ fromProto: 1 }) as Record<string, unknown>;
    inherited['own'] = 2;
    expect(copyWith(inherited, {})).toEqual({ own: 2 });
  });

  it('keeps one hidden class for every copy (the reason it exists), where a spread-first literal makes one per object', () => {
    // V8 tells with %HaveSameMap, behind --allow-natives-syntax: a child node runs the check.
    const objects = fileURLToPath(new URL('../../src/core/objects.ts', import.meta.url));
    const script = `
      const { copyWith } = await import(${JSON.stringify(objects)});
      const same = new Function('a', 'b', 'return %HaveSameMap(a, b)');
      const text = '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}';
      const count = (make) => {
        let maps = 1;
        let prev = make(JSON.parse(text));
        for (let i = 0; i < 2000; i++) {
          const x = make(JSON.parse(text));
          if (!same(prev, x)) maps++;
          prev = x;
        }
        return maps;
      };
      console.log(JSON.stringify({
        copyWith: count((r) => copyWith(r, { stream: false })),
        spread: count((r) => ({ ...r, stream: false })),
      }));`;
    const out = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    const maps = JSON.parse(out) as { copyWith: number; spread: number };
    expect(maps.copyWith).toBe(1);
    // What the helper avoids, measured on Node 20 (CI's). A later V8 may keep one map here too;
    // the helper is then merely harmless.
    if (process.versions.node.startsWith('20.'))
      expect(maps.spread, 'a spread-first literal with a new key: hidden classes').toBeGreaterThan(1000);
  });
});
