/**
 * The official Ollama JavaScript client (the `ollama` npm package) against the gateway, the way an
 * app that speaks only Ollama uses it: over an Ollama worker on its native API and an OpenAI-type one.
 */
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, sim, startFleetGateway, until } from './helpers.ts';

afterEach(closeAll);

/** The client's error class (not exported by the package): the server's message and HTTP status. */
interface ResponseError extends Error {
  error: string;
  status_code: number;
}

async function fleet() {
  const { gw, sim: s } = await startFleetGateway(
    [
      sim('o', {
        type: 'ollama',
        models: ['llama3'],
        reasoningTokens: 3,
        outputTokens: 6,
        contextLength: 4096,
      }),
      sim('v', { type: 'vllm', models: ['qwen'], outputTokens: 6 }),
    ],
    { mapWorker: (w, i) => (i === 0 ? { ...w, model: 'llama3', api: 'native' } : { ...w, model: 'qwen' }) },
  );
  return { client: new Ollama({ host: gw.url }), sim: s };
}

describe('the official ollama JS client against the gateway', () => {
  it('version, list, ps and show (with what the Ollama worker says the model can do)', async () => {
    const { client } = await fleet();
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await client.list()).models.map((m) => m.name).sort()).toEqual(['llama3', 'qwen']);
    expect((await client.ps()).models.map((m) => m.name).sort()).toEqual(['llama3', 'qwen']);
    const show = await client.show({ model: 'llama3' });
    expect(show.capabilities).toEqual(['completion', 'tools', 'thinking']);
    expect(show.details.family).toBe('llama');
    // Typed as a Map by the client; on the wire it is an object.
    expect((show.model_info as unknown as Record<string, unknown>)['llama.context_length']).toBe(4096);
    expect((await client.show({ model: 'qwen' })).capabilities).toEqual(['completion']);
  });

  it('chat, whole and streamed, with thinking, over both workers', async () => {
    const { client } = await fleet();
    const whole = await client.chat({
      model: 'llama3',
      messages: [{ role: 'user', content: 'Hi' }],
      think: true,
    });
    expect(whole.done).toBe(true);
    expect(whole.done_reason).toBe('stop');
    expect(whole.message.content.length).toBeGreaterThan(0);
    expect(whole.message.thinking?.length).toBeGreaterThan(0);
    expect(whole.eval_count).toBeGreaterThan(0);

    const parts = [];
    for await (const part of await client.chat({
      model: 'qwen',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    }))
      parts.push(part);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    expect(parts.map((p) => p.message.content).join('').length).toBeGreaterThan(0);
  });

  it('a tool call, and its result answered in text', async () => {
    const { client } = await fleet();
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
        },
      },
    ];
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat({ model: 'llama3', messages, tools });
    const call = first.message.tool_calls?.[0];
    expect(call?.function.name).toBe('get_weather');
    expect(typeof call?.function.arguments['city']).toBe('string');
    const second = await client.chat({
      model: 'llama3',
      tools,
      messages: [
        ...messages,
        first.message,
        { role: 'tool', content: '18 C, sunny', tool_name: 'get_weather' },
      ],
    });
    expect(second.message.tool_calls ?? []).toEqual([]);
    expect(second.message.content.length).toBeGreaterThan(0);
  });

  it('generate: a load request, a prompt, and a raw fill-in-the-middle one', async () => {
    const { client, sim: s } = await fleet();
    const load = await client.generate({ model: 'llama3', prompt: '' });
    expect(load).toMatchObject({ model: 'llama3', done: true, done_reason: 'load' });
    const gen = await client.generate({ model: 'qwen', prompt: 'Once upon a time' });
    expect(gen.response?.length).toBeGreaterThan(0);
    const raw = [];
    for await (const part of await client.generate({
      model: 'llama3',
      prompt: '<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>',
      raw: true,
      stream: true,
    }))
      raw.push(part);
    expect(raw.at(-1)).toMatchObject({ done: true });
    expect(raw.map((p) => p.response).join('').length).toBeGreaterThan(0);
    // The raw one went to the Ollama worker's /api/generate, the load request to no worker.
    expect(s.workers[0]!.stats().log.map((l) => l.path)).toEqual(['/api/generate']);
  });

  it('embed and the older embeddings', async () => {
    const { client } = await fleet();
    const e = await client.embed({ model: 'qwen', input: ['first', 'second'], dimensions: 32 });
    expect(e.embeddings.map((v) => v.length)).toEqual([32, 32]);
    const one = await client.embeddings({ model: 'llama3', prompt: 'first' });
    expect(one.embedding.length).toBeGreaterThan(0);
  });

  it('abort() on a stream ends it and frees the worker (the gateway cancels upstream)', async () => {
    const { gw, sim: s } = await startFleetGateway(
      [
        sim('slow', {
          type: 'ollama',
          models: ['llama3'],
          decodeTps: 20,
          outputTokens: 200,
          streamTickMs: 10,
          timeScale: 1,
        }),
      ],
      { mapWorker: (w) => ({ ...w, model: 'llama3', api: 'native' }) },
    );
    const client = new Ollama({ host: gw.url });
    const stream = await client.chat({
      model: 'llama3',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const part of stream) seen.push(part.message.content);
    })();
    await until(() => seen.length > 0);
    expect(s.workers[0]!.stats().inFlight).toBe(1);
    stream.abort();
    await expect(done).rejects.toThrow(/abort/i);
    await until(() => s.workers[0]!.stats().inFlight === 0);
    expect(seen.length).toBeLessThan(200);
  });

  it("errors are the client's ResponseError with the gateway's message and status", async () => {
    const { client } = await fleet();
    const err = await client
      .chat({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ResponseError');
    expect((err as ResponseError).status_code).toBe(404);
    expect((err as ResponseError).error).toContain('mistral');
    // Models live on the workers: pull says success for one the fleet serves, and how to get another.
    expect(await client.pull({ model: 'llama3' })).toEqual({ status: 'success' });
    const pull = await client.pull({ model: 'gemma3' }).catch((e: unknown) => e);
    expect((pull as ResponseError).status_code).toBe(404);
    expect((pull as ResponseError).error).toContain('ollama pull gemma3');
    const del = await client.delete({ model: 'llama3' }).catch((e: unknown) => e);
    expect((del as ResponseError).status_code).toBe(501);
  });
});
