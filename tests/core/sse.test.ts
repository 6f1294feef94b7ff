import { describe, expect, it } from 'vitest';
import { LineDecoder, parseNdjson, parseSse, SseDecoder, type SseEvent } from '../../src/core/sse.ts';

async function* chunks(parts: Array<string | Uint8Array>) {
  for (const p of parts) yield await Promise.resolve(p);
}

/** Feeds `text` split every `n` bytes (UTF-8), so boundaries fall mid-line and mid-character. */
function splitBytes(text: string, n: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += n) out.push(bytes.subarray(i, i + n));
  return out;
}

const STREAM =
  ': ping\r\n' +
  'data: {"a":"héllo 😀"}\r\n\r\n' +
  'event: custom\ndata: line1\ndata: line2\nid: 7\nretry: 100\n\n' +
  'data: x\n' +
  'error: {"code":500,"message":"boom"}\n\n' +
  'data: [DONE]\r\r' +
  'data: tail';

const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"a":"héllo 😀"}' },
  { event: 'custom', data: 'line1\nline2', id: '7', retry: 100 },
  { event: 'message', data: 'x', id: '7' },
  { event: 'error', data: '{"code":500,"message":"boom"}' },
  { event: 'message', data: '[DONE]', id: '7' },
  { event: 'message', data: 'tail', id: '7' },
];

describe('SSE', () => {
  it.each([1, 2, 3, 7, 64, 4096])(
    'parses events whatever the read boundaries (every %i bytes)',
    async (n) => {
      const events: SseEvent[] = [];
      for await (const e of parseSse(chunks(splitBytes(STREAM, n)))) events.push(e);
      expect(events).toEqual(EXPECTED);
    },
  );

  it('the synchronous decoder returns what each read completed, and the rest at the end', () => {
    const dec = new SseDecoder();
    expect(dec.push('data: a\n')).toEqual([]);
    expect(dec.push('\ndata: b\n\nda')).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
    expect(dec.push('ta: c')).toEqual([]);
    expect(dec.end()).toEqual([{ event: 'message', data: 'c' }]);
  });
});

describe('lines and NDJSON', () => {
  it('splits \\n, \\r\\n and \\r, including a \\r\\n cut between reads', () => {
    const dec = new LineDecoder();
    expect(dec.push('a\r')).toEqual(['a']);
    expect(dec.push('\nb\rc\n')).toEqual(['b', 'c']);
    expect(dec.push('d')).toEqual([]);
    expect(dec.end()).toEqual(['d']);
  });

  it('parses NDJSON split across reads and skips blank lines; a bad line throws', async () => {
    const text = '{"a":1}\n\n{"b":"ü"}\n{"c":3}';
    const out: unknown[] = [];
    for await (const v of parseNdjson(chunks(splitBytes(text, 3)))) out.push(v);
    expect(out).toEqual([{ a: 1 }, { b: 'ü' }, { c: 3 }]);
    await expect(async () => {
      for await (const _ of parseNdjson(chunks(['{"a":1}\nnot json\n']))) void _;
    }).rejects.toThrow(SyntaxError);
  });
});
