import { describe, expect, it } from 'vitest';
import { chatSchema, parseChat, parseEmbedding, parseOllamaEmbed } from '../../src/gateway/validate.ts';

/** parseChat's answer, or the error it throws, in one comparable shape. */
function outcome(f: () => unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const VALUES: unknown[] = [
  undefined,
  null,
  0,
  1,
  -1,
  0.5,
  1.5,
  2,
  1e300,
  2 ** 53,
  -0,
  '',
  'x',
  true,
  false,
  [],
  ['a'],
  ['a', 1],
  [1],
  {},
  { a: 1 },
];
const BASE = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const FIELDS = ['model', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stream', 'stop'];

/** Bodies that vary one thing at a time from a valid one, plus odd shapes. */
function* bodies(): Generator<unknown> {
  yield BASE;
  for (const f of FIELDS) for (const v of VALUES) yield { ...BASE, [f]: v };
  for (const v of VALUES) yield { ...BASE, messages: v };
  for (const role of ['system', 'developer', 'user', 'assistant', 'tool', 'bot', '', 1, null, undefined])
    for (const content of [...VALUES, [{ type: 'text', text: 'a' }], [{ text: 'a' }]])
      yield {
        ...BASE,
        messages: [
          { role: 'system', content: 's' },
          { role, content },
        ],
      };
  yield { ...BASE, messages: [{ role: 'user' }] };
  yield { ...BASE, messages: [{ role: 'user', content: 'a', name: 'n', extra: [1] }] };
  yield { ...BASE, messages: [['user', 'hi']] };
  yield { ...BASE, unknown_field: { nested: true }, tools: [{ type: 'function' }] };
  yield { messages: BASE.messages };
  for (const b of [null, [], 'x', 1, true]) yield b;
}

describe('parseChat', () => {
  it('answers as the zod schema does: the same request, or a 400 from the schema', () => {
    let n = 0;
    for (const body of bodies()) {
      const fast = outcome(() => parseChat(structuredClone(body)));
      const schema = chatSchema.safeParse(structuredClone(body));
      if (schema.success) expect({ body, r: fast }).toEqual({ body, r: { ok: schema.data } });
      else
        expect({ body, r: fast }).toEqual({
          body,
          r: { error: expect.stringMatching(/^chat request: /) as string },
        });
      n++;
    }
    expect(n).toBeGreaterThan(400);
  });

  it('keeps a common body as it came (no copy); other shapes go through the schema', () => {
    const body = { ...BASE, temperature: 0.2, stop: ['x'], custom: { a: 1 } };
    expect(parseChat(body)).toBe(body);
    const withParts = { ...BASE, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }] };
    expect(parseChat(withParts)).not.toBe(withParts);
    expect(parseChat(withParts)).toEqual(withParts);
  });

  it('names the field that is wrong', () => {
    expect(() => parseChat({ ...BASE, top_p: 2 })).toThrow(/chat request: top_p: /);
    expect(() => parseChat({ ...BASE, messages: [{ role: 'bot', content: 'x' }] })).toThrow(
      /chat request: messages\[0\]\.role: /,
    );
    expect(() => parseChat({ model: 'm' })).toThrow(/chat request: messages: required/);
    // A field that is there but of the wrong type says what came, not "required".
    expect(() => parseChat({ ...BASE, messages: [{ role: 'user', content: 5 }] })).toThrow(
      'chat request: messages[0].content: expected a string, a list of parts with a "type", or null, got 5',
    );
    expect(() => parseChat({ ...BASE, stop: 3 })).toThrow(
      'chat request: stop: expected a string or a list of strings, got 3',
    );
    expect(() => parseEmbedding({ input: { text: 'x' } })).toThrow(
      'embedding request: input: expected a string or a non-empty list of strings, got {"text":"x"}',
    );
    expect(() => parseEmbedding({})).toThrow('embedding request: input: required');
  });

  it("refuses token-id embedding input, saying why and LangChain's way out", () => {
    for (const input of [[[15339, 1917]], [15339, 1917]])
      expect(() => parseEmbedding({ input })).toThrow(
        /input: expected text: token ids are not taken .*check_embedding_ctx_length=False/,
      );
    expect(() => parseOllamaEmbed({ input: [[1]] })).toThrow(/embed request: input: expected text/);
  });
});
