/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/core/tokens.ts';
import { SIM_TYPES } from '../../src/sim/index.ts';
import { chat, chunks, closeAll, contentOf, http, sim, streamEvents } from './helpers.ts';

/** What every type serves under /v1, in its own flavour. */
afterEach(closeAll);

const PROMPT = 'Name three colours.';
const PROMPT_TOKENS = estimateTokens(`user: ${PROMPT}\n`);

describe.each(SIM_TYPES)('sim %s: OpenAI-compatible routes', (type) => {
  const start = () =>
    sim({ type, models: ['m1'], outputTokens: 12, decodeTps: Infinity, prefillTps: Infinity });

  it('lists its model', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/models`);
    expect(r.status).toBe(200);
    expect(r.json().data.map((m: { id: string }) => m.id)).toEqual(['m1']);
  });

  it('answers a chat with exact usage', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/chat/completions`, { body: chat(PROMPT, { model: 'm1' }) });
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('m1');
    expect(body.choices[0].message.role).toBe('assistant');
    const content = body.choices[0].message.content as string;
    expect(content.split(' ')).toHaveLength(12);
    expect(estimateTokens(content)).toBe(12);
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toMatchObject({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: 12,
      total_tokens: PROMPT_TOKENS + 12,
    });
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it('caps the answer at max_tokens with finish_reason length', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/chat/completions`, { body: chat(PROMPT, { max_tokens: 5 }) });
    expect(r.json().usage.completion_tokens).toBe(5);
    expect(r.json().choices[0].finish_reason).toBe('length');
  });

  it('streams SSE chunks, a usage chunk with no choices, then [DONE]', async () => {
    const w = await start();
    const s = await streamEvents(
      `${w.url}/v1/chat/completions`,
      chat(PROMPT, { stream: true, stream_options: { include_usage: true } }),
    );
    expect(s.status).toBe(200);
    expect(s.contentType).toBe('text/event-stream');
    expect(s.events.at(-1)!.data).toBe('[DONE]');
    const cs = chunks(s.events);
    expect(cs.every((c) => c.object === 'chat.completion.chunk' && c.id === cs[0].id)).toBe(true);
    expect(cs[0].choices[0].delta.role).toBe('assistant');
    expect(contentOf(s.events).split(' ')).toHaveLength(12);
    const usage = cs.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 12 });
    expect(cs.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('sends no usage chunk without include_usage', async () => {
    const w = await start();
    const s = await streamEvents(`${w.url}/v1/chat/completions`, chat(PROMPT, { stream: true }));
    expect(chunks(s.events).some((c) => c.usage !== undefined)).toBe(false);
  });

  it('serves legacy completions, streaming and not', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/completions`, { body: { prompt: 'Once upon a time', max_tokens: 6 } });
    expect(r.status).toBe(200);
    expect(r.json().object).toBe('text_completion');
    expect((r.json().choices[0].text as string).split(' ')).toHaveLength(6);
    expect(r.json().usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
    const s = await streamEvents(`${w.url}/v1/completions`, { prompt: 'Once', max_tokens: 6, stream: true });
    expect(contentOf(s.events).split(' ')).toHaveLength(6);
    expect(s.events.at(-1)!.data).toBe('[DONE]');
  });

  it('returns deterministic unit embeddings', async () => {
    const w = await start();
    const r1 = await http(`${w.url}/v1/embeddings`, { body: { input: ['alpha', 'beta'] } });
    const r2 = await http(`${w.url}/v1/embeddings`, { body: { input: 'alpha' } });
    expect(r1.status).toBe(200);
    const [a, b] = r1.json().data;
    expect(a.embedding).toHaveLength(384);
    expect(r2.json().data[0].embedding).toEqual(a.embedding);
    expect(b.embedding).not.toEqual(a.embedding);
    const norm = Math.hypot(...(a.embedding as number[]));
    expect(norm).toBeCloseTo(1, 3);
    expect(r1.json().usage.prompt_tokens).toBe(estimateTokens('alpha') + estimateTokens('beta'));
    // encoding_format "base64": the float32 bytes of the same vectors.
    const r3 = await http(`${w.url}/v1/embeddings`, { body: { input: 'alpha', encoding_format: 'base64' } });
    const b64 = r3.json().data[0].embedding as string;
    expect(typeof b64).toBe('string');
    const buf = Buffer.from(b64, 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))).toEqual(
      (a.embedding as number[]).map((x) => Math.fround(x)),
    );
    const bad = await http(`${w.url}/v1/embeddings`, { body: { input: 'alpha', encoding_format: 'hex' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('encoding_format');
    // dimensions: a vector of that length, still of unit length.
    const r4 = await http(`${w.url}/v1/embeddings`, { body: { input: 'alpha', dimensions: 16 } });
    const short = r4.json().data[0].embedding as number[];
    expect(short).toHaveLength(16);
    expect(Math.hypot(...short)).toBeCloseTo(1, 3);
    const badDims = await http(`${w.url}/v1/embeddings`, { body: { input: 'alpha', dimensions: 0 } });
    expect(badDims.status).toBe(400);
    expect(badDims.text).toContain('dimensions');
  });

  it('generates the same text for the same seed and request order', async () => {
    const a = await sim({ type, seed: 7, decodeTps: Infinity, prefillTps: Infinity });
    const b = await sim({ type, seed: 7, decodeTps: Infinity, prefillTps: Infinity });
    const c = await sim({ type, seed: 8, decodeTps: Infinity, prefillTps: Infinity });
    const text = async (url: string) =>
      (await http(`${url}/v1/chat/completions`, { body: chat(PROMPT) })).json().choices[0].message.content;
    const ta = [await text(a.url), await text(a.url)];
    const tb = [await text(b.url), await text(b.url)];
    expect(ta).toEqual(tb);
    expect(ta[0]).not.toEqual(ta[1]);
    expect(await text(c.url)).not.toEqual(ta[0]);
  });
});
