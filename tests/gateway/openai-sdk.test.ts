import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../backends/helpers.ts';
import { closeAll, sim, startFleetGateway, startScriptedGateway } from './helpers.ts';

afterEach(closeAll);

describe('the official openai SDK against the gateway', () => {
  it('lists the union of the workers models, each with its workers', async () => {
    const { gw } = await startFleetGateway(
      [sim('a', { models: ['llama3', 'qwen'] }), sim('b', { models: ['llama3'] })],
      {
        mapWorker: (w, i) => ({ ...w, model: undefined, models: i === 0 ? ['llama3', 'qwen'] : ['llama3'] }),
      },
    );
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id).sort()).toEqual(['llama3', 'qwen']);
    const llama = models.find((m) => m.id === 'llama3') as unknown as { workers: string[] };
    expect(llama.workers.sort()).toEqual(['a', 'b']);
  });

  it('retrieves one model (ids with / and : too); an unknown one is the SDK NotFoundError', async () => {
    const ids = ['meta-llama/Llama-3-8B', 'qwen2.5:7b'];
    const { gw } = await startFleetGateway([sim('a', { models: ids }), sim('b', { models: [ids[1]!] })], {
      mapWorker: (w, i) => ({ ...w, model: undefined, models: i === 0 ? ids : [ids[1]] }),
    });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const llama = await client.models.retrieve(ids[0]!);
    expect(llama).toMatchObject({ id: ids[0], object: 'model', owned_by: 'llm-fleet', workers: ['a'] });
    const qwen = (await client.models.retrieve(ids[1]!)) as unknown as { workers: string[] };
    expect(qwen.workers.sort()).toEqual(['a', 'b']);
    // A client that does not encode the slash reaches the same model.
    const raw = await fetch(`${gw.url}/v1/models/${ids[0]}`);
    expect(((await raw.json()) as { id: string }).id).toBe(ids[0]);
    const err = await client.models.retrieve('gpt-5').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const e = err as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.code).toBe('model_not_found');
    expect(e.message).toContain('gpt-5');
    expect(e.message).toContain(ids[0]);
  });

  it('a completion, with the worker named in x-fleet-worker', async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a'), sim('b')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const { data, response } = await client.chat.completions
      .create({ model: 'sim-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5 })
      .withResponse();
    expect(data.choices[0]!.message.content!.split(' ')).toHaveLength(5);
    expect(data.usage!.completion_tokens).toBe(5);
    const worker = response.headers.get('x-fleet-worker');
    expect(['a', 'b']).toContain(worker);
    const served = s.workers.find((w) => w.id === worker)!;
    expect(served.stats().completed).toBe(1);
  });

  it('a stream: every chunk, then usage at the end', async () => {
    const { gw } = await startFleetGateway([sim('a', { outputTokens: 12, decodeTps: 100 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'Tell me a story' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices[0]?.delta.content ?? '';
    }
    expect(chunks.length).toBeGreaterThan(2);
    expect(text.trim().split(' ')).toHaveLength(12);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 12 });
    expect(chunks.slice(0, -1).every((c) => c.usage == null)).toBe(true);
  });

  it('function calling: tools pass through, tool_calls come back whole and streamed', async () => {
    const { gw } = await startFleetGateway([sim('a', { decodeTps: 4 }), sim('b', { decodeTps: 4 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'lookup',
          parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
        },
      },
    ];
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Find llm-fleet' }];
    const r = await client.chat.completions.create({ model: 'sim-model', messages, tools });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    const call = r.choices[0]!.message.tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.function).toEqual({ name: 'lookup', arguments: '{"q":"sim"}' });
    // The SDK's stream helper puts the streamed pieces back together.
    const stream = client.chat.completions.stream({ model: 'sim-model', messages, tools });
    let pieces = 0;
    stream.on('tool_calls.function.arguments.delta', () => pieces++);
    const whole = await stream.finalChatCompletion();
    expect(pieces).toBeGreaterThan(1);
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]!.message.tool_calls![0]).toMatchObject({
      type: 'function',
      function: { name: 'lookup', arguments: '{"q":"sim"}' },
    });
    // The tool's result goes back, and the model answers in text.
    const answer = await client.chat.completions.create({
      model: 'sim-model',
      tools,
      messages: [
        ...messages,
        r.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: 'found' },
      ],
    });
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });

  it("structured output: the SDK's parse() with a zod schema, and the Responses API's text.format", async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const Paper = z.object({ title: z.string(), year: z.number().int(), venue: z.enum(['arXiv', 'ACL']) });
    const r = await client.chat.completions.parse({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'Cite one paper.' }],
      response_format: zodResponseFormat(Paper, 'paper'),
    });
    expect(r.choices[0]!.message.parsed).toEqual({ title: 'sim', year: 1, venue: 'arXiv' });
    const resp = await client.responses.parse({
      model: 'sim-model',
      input: 'Cite one paper.',
      text: { format: zodTextFormat(Paper, 'paper') },
    });
    expect(resp.output_parsed).toEqual({ title: 'sim', year: 1, venue: 'arXiv' });
  });

  it('logprobs reach the client, whole and streamed', async () => {
    const logprobs = {
      content: [
        {
          token: 'Hi',
          logprob: -0.25,
          bytes: [72, 105],
          top_logprobs: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105] }],
        },
      ],
    };
    // A scripted OpenAI-compatible worker that gives log probabilities (vLLM and llama.cpp do).
    const { gw, upstream } = await startScriptedGateway('m', (req, res) => {
      const head = { id: 'c1', created: 1, model: 'm' };
      if (req.json()['stream'] !== true)
        return json(res, 200, {
          ...head,
          object: 'chat.completion',
          choices: [
            { index: 0, message: { role: 'assistant', content: 'Hi' }, logprobs, finish_reason: 'stop' },
          ],
        });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (choice: object) =>
        `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [choice] })}\n\n`;
      res.end(
        chunk({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }) +
          chunk({ index: 0, delta: { content: 'Hi' }, logprobs, finish_reason: null }) +
          chunk({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }) +
          'data: [DONE]\n\n',
      );
    });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hi' }];
    const r = await client.chat.completions.create({
      model: 'm',
      messages,
      logprobs: true,
      top_logprobs: 1,
    });
    expect(r.choices[0]!.logprobs).toEqual(logprobs);
    expect(upstream.requests.at(-1)!.json()).toMatchObject({ logprobs: true, top_logprobs: 1 });
    const stream = client.chat.completions.stream({ model: 'm', messages, logprobs: true });
    const whole = await stream.finalChatCompletion();
    expect(whole.choices[0]!.logprobs).toEqual({ content: logprobs.content });
  });

  it('no usage chunk unless asked', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('an unknown model is the SDK NotFoundError, listing the known models', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'gpt-5', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const e = err as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.status).toBe(404);
    expect(e.code).toBe('model_not_found');
    expect(e.message).toContain('llama3');
    expect(e.message).toContain('gpt-5');
  });

  it('with API keys: the right key works, a wrong one is the SDK AuthenticationError', async () => {
    const { gw } = await startFleetGateway([sim('a')], { gateway: { apiKeys: ['s3cret', 'other'] } });
    const good = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'other' });
    const r = await good.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(r.choices).toHaveLength(1);
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 's3cre', maxRetries: 0 });
    const err = await bad.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).not.toContain('s3cre');
  });

  it('completions and embeddings', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const c = await client.completions.create({ model: 'sim-model', prompt: 'Once upon', max_tokens: 3 });
    expect(c.choices[0]!.text.trim().split(' ')).toHaveLength(3);
    const e = await client.embeddings.create({
      model: 'sim-model',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    expect(e.data).toHaveLength(2);
    expect(e.data[0]!.embedding.length).toBe(384);
    // The SDK's default: it asks for base64 and decodes the float32 bytes itself.
    const b = await client.embeddings.create({ model: 'sim-model', input: ['a', 'b'] });
    expect(b.data.map((d) => d.embedding.length)).toEqual([384, 384]);
    b.data.forEach((d, i) =>
      d.embedding.forEach((x, j) => expect(x).toBeCloseTo(e.data[i]!.embedding[j]!, 6)),
    );
    // Without the SDK: base64 strings, and a 400 naming any other encoding.
    const raw = await fetch(`${gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'a', encoding_format: 'base64' }),
    });
    const body = (await raw.json()) as { data: Array<{ embedding: unknown }> };
    expect(typeof body.data[0]!.embedding).toBe('string');
    const bad = await client.embeddings
      .create({ model: 'sim-model', input: 'a', encoding_format: 'hex' as 'float' })
      .catch((x: unknown) => x);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('encoding_format');
  });

  it('a streamed text completion: the whole text as one chunk, usage when asked, then the end', async () => {
    const { gw } = await startFleetGateway([sim('a', { outputTokens: 6 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const stream = await client.completions.create({
      model: 'sim-model',
      prompt: 'Once upon a time',
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const text = chunks.map((c) => c.choices[0]?.text ?? '').join('');
    expect(text.trim().split(' ')).toHaveLength(6);
    expect(chunks[0]!.choices[0]!.finish_reason).toBe('stop'); // the sim's answer is 6 tokens long
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(6);
    // The non-streamed completion still works the same.
    const whole = await client.completions.create({ model: 'sim-model', prompt: 'Hi', max_tokens: 3 });
    expect(whole.choices[0]!.text.trim().split(' ')).toHaveLength(3);
  });
});
