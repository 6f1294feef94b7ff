/**
 * The Vercel AI SDK (`ai` 5 with `@ai-sdk/openai` and `@ai-sdk/openai-compatible`) against the
 * gateway. It checks every answer against its own schemas, so a field of the wrong shape fails here.
 * Its OpenAI provider talks the Responses API by default; `.chat()` talks chat completions.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embedMany, generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closeAll, sim, startFleetGateway } from './helpers.ts';

afterEach(closeAll);

async function provider() {
  const { gw } = await startFleetGateway([sim('a', { models: ['m'], outputTokens: 6, reasoningTokens: 0 })], {
    mapWorker: (w) => ({ ...w, model: 'm' }),
  });
  return createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
}

const weather = tool({
  description: 'Weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: ({ city }) => Promise.resolve(`18 C and sunny in ${city}`),
});

describe('the Vercel AI SDK against the gateway', () => {
  for (const api of ['responses', 'chat'] as const) {
    it(`${api}: generateText and streamText, with usage`, async () => {
      const openai = await provider();
      const model = api === 'chat' ? openai.chat('m') : openai('m');
      const r = await generateText({ model, prompt: 'Say hello' });
      expect(r.text.trim().split(' ')).toHaveLength(6);
      expect(r.finishReason).toBe('stop');
      expect(r.usage.outputTokens).toBe(6);

      const s = streamText({ model, prompt: 'Say hello' });
      let text = '';
      for await (const delta of s.textStream) text += delta;
      expect(text.trim().split(' ')).toHaveLength(6);
      expect(await s.finishReason).toBe('stop');
      expect((await s.usage).outputTokens).toBe(6);
    });

    it(`${api}: a tool the SDK runs, then the answer in text (two steps)`, async () => {
      const openai = await provider();
      const model = api === 'chat' ? openai.chat('m') : openai('m');
      const r = await generateText({
        model,
        prompt: 'Weather in Paris?',
        tools: { weather },
        stopWhen: stepCountIs(3),
      });
      expect(r.steps).toHaveLength(2);
      expect(r.steps[0]!.toolCalls.map((c) => c.toolName)).toEqual(['weather']);
      expect(r.steps[0]!.toolResults[0]!.output).toMatch(/^18 C and sunny in /);
      expect(r.finishReason).toBe('stop');
      expect(r.text.trim().length).toBeGreaterThan(0);

      const s = streamText({
        model,
        prompt: 'Weather in Paris?',
        tools: { weather },
        stopWhen: stepCountIs(3),
      });
      await s.consumeStream();
      expect((await s.steps).map((st) => st.finishReason)).toEqual(['tool-calls', 'stop']);
    });

    it(`${api}: generateObject fills a zod schema`, async () => {
      const openai = await provider();
      const model = api === 'chat' ? openai.chat('m') : openai('m');
      const { object } = await generateObject({
        model,
        schema: z.object({ name: z.string(), age: z.number(), tags: z.array(z.string()) }),
        prompt: 'A person',
      });
      expect(typeof object.name).toBe('string');
      expect(typeof object.age).toBe('number');
      expect(Array.isArray(object.tags)).toBe(true);
    });
  }

  it('responses: a second turn names the first by item_reference (the default store: true), or resends it', async () => {
    const openai = await provider();
    const first = await generateText({ model: openai('m'), prompt: 'Say hello' });
    const history = [{ role: 'user' as const, content: 'Say hello' }, ...first.response.messages];
    for (const store of [true, false]) {
      const second = await generateText({
        model: openai('m'),
        messages: [...history, { role: 'user', content: 'Again' }],
        providerOptions: { openai: { store } },
      });
      expect(second.text.trim().split(' ')).toHaveLength(6);
      const sent = second.request.body as { input: Array<{ type?: string; role?: string }> };
      expect(sent.input[1]).toEqual(
        store
          ? expect.objectContaining({ type: 'item_reference' })
          : expect.objectContaining({ role: 'assistant' }),
      );
    }
  });

  it('an item_reference reaches only items given out to the same API key', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['m'], outputTokens: 6 })], {
      mapWorker: (w) => ({ ...w, model: 'm' }),
      gateway: { apiKeys: ['key-a', 'key-b'] },
    });
    const as = (apiKey: string) => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey })('m');
    const first = await generateText({ model: as('key-a'), prompt: 'Say hello' });
    const messages = [
      { role: 'user' as const, content: 'Say hello' },
      ...first.response.messages,
      { role: 'user' as const, content: 'Again' },
    ];
    expect((await generateText({ model: as('key-a'), messages })).text.trim().split(' ')).toHaveLength(6);
    const other = await generateText({ model: as('key-b'), messages }).catch((e: unknown) => e);
    expect((other as { statusCode?: number }).statusCode).toBe(400);
    expect((other as Error).message).toContain('item_reference');
  });

  it('completion: generateText and streamText over /v1/completions', async () => {
    const openai = await provider();
    const r = await generateText({ model: openai.completion('m'), prompt: 'Once upon a time' });
    expect(r.text.trim().split(' ')).toHaveLength(6);
    expect(r.usage.outputTokens).toBe(6);
    const s = streamText({ model: openai.completion('m'), prompt: 'Once upon a time' });
    let text = '';
    for await (const delta of s.textStream) text += delta;
    expect((await s.usage).outputTokens).toBe(6);
    expect(text.trim().split(' ')).toHaveLength(6);
  });

  it('embedMany, in order', async () => {
    const openai = await provider();
    const { embeddings } = await embedMany({
      model: openai.textEmbeddingModel('m'),
      values: ['first', 'second'],
    });
    expect(embeddings.map((e) => e.length)).toEqual([384, 384]);
    expect(embeddings[0]).not.toEqual(embeddings[1]);
  });

  it('the OpenAI-compatible provider (chat completions)', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['m'], outputTokens: 5 })], {
      mapWorker: (w) => ({ ...w, model: 'm' }),
    });
    const fleet = createOpenAICompatible({ name: 'fleet', baseURL: `${gw.url}/v1`, includeUsage: true });
    const r = await generateText({ model: fleet('m'), prompt: 'Say hello' });
    expect(r.text.trim().split(' ')).toHaveLength(5);
    const s = streamText({ model: fleet('m'), prompt: 'Say hello' });
    let text = '';
    for await (const delta of s.textStream) text += delta;
    expect(text.trim().split(' ')).toHaveLength(5);
    expect((await s.usage).outputTokens).toBe(5);
  });

  it("the OpenAI-compatible provider reads a thinking model's reasoning, whole and streamed", async () => {
    const { gw } = await startFleetGateway(
      [sim('a', { type: 'llama_cpp', models: ['m'], outputTokens: 10, reasoningTokens: 4 })],
      { mapWorker: (w) => ({ ...w, model: 'm' }) },
    );
    const fleet = createOpenAICompatible({ name: 'fleet', baseURL: `${gw.url}/v1` });
    const r = await generateText({ model: fleet('m'), prompt: 'Think first' });
    expect(r.reasoningText?.trim().split(' ')).toHaveLength(4);
    expect(r.text.trim().split(' ')).toHaveLength(6);
    const s = streamText({ model: fleet('m'), prompt: 'Think first' });
    await s.consumeStream();
    expect((await s.reasoningText)?.trim().split(' ')).toHaveLength(4);
  });
});
