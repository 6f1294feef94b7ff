import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../src/core/openai.ts';
import { parseSse } from '../../src/core/sse.ts';
import { parseResponses, responsesFormat, toResponse } from '../../src/gateway/responses.ts';
import { json } from '../backends/helpers.ts';
import { closeAll, post, sim, startFleetGateway, startScriptedGateway } from './helpers.ts';

afterEach(closeAll);

/** Every event of an SDK Responses stream, their types, and the text of the deltas of one type. */
async function drain(stream: AsyncIterable<{ type: string; sequence_number: number }>) {
  const events: Array<{ type: string; sequence_number: number; delta?: unknown }> = [];
  for await (const e of stream) events.push(e);
  const text = (type: string) =>
    events
      .filter((e) => e.type === type)
      .map((e) => e.delta as string)
      .join('');
  return { events, types: events.map((e) => e.type), text };
}

describe('/v1/responses (the Responses API over chat completions)', () => {
  it('the SDK: a response with one message, usage, and the worker named', async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a'), sim('b')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const { data, response } = await client.responses
      .create({ model: 'sim-model', input: 'Hello there', max_output_tokens: 5 })
      .withResponse();
    expect(data).toMatchObject({
      object: 'response',
      model: 'sim-model',
      max_output_tokens: 5,
      error: null,
      text: { format: { type: 'text' } },
      reasoning: { effort: null, summary: null },
    });
    expect(data.id).toMatch(/^resp_/);
    expect(data.output).toHaveLength(1);
    expect(data.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(data.output_text.trim().split(' ')).toHaveLength(5);
    expect(data.usage).toMatchObject({ output_tokens: 5 });
    expect(data.usage!.input_tokens).toBeGreaterThan(0);
    expect(data.usage!.total_tokens).toBe(data.usage!.input_tokens + 5);
    const worker = response.headers.get('x-fleet-worker')!;
    expect(s.workers.find((w) => w.id === worker)!.stats().completed).toBe(1);
    // Instructions and earlier turns reach the worker: the prompt it counted grows with them.
    const longer = await client.responses.create({
      model: 'sim-model',
      instructions: 'You are a careful assistant who answers in one short sentence.',
      input: [
        { role: 'user', content: 'Hello there' },
        { role: 'assistant', content: 'Hi! How can I help?' },
        { role: 'user', content: [{ type: 'input_text', text: 'Tell me about the fleet.' }] },
      ],
      max_output_tokens: 5,
    });
    expect(longer.usage!.input_tokens).toBeGreaterThan(data.usage!.input_tokens + 10);
  });

  it('a cut-short answer is incomplete, with the reason', async () => {
    const { gw } = await startFleetGateway([sim('a', { outputTokens: 20 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.responses.create({ model: 'sim-model', input: 'Hi', max_output_tokens: 3 });
    expect(r.status).toBe('incomplete');
    expect(r.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const whole = await client.responses.create({ model: 'sim-model', input: 'Hi' });
    expect(whole.status).toBe('completed');
    expect(whole.incomplete_details).toBeNull();
    expect(whole.output_text.trim().split(' ')).toHaveLength(20);
  });

  it("the SDK's stream helper: every event in order, the text as it comes, then the whole response", async () => {
    const { gw } = await startFleetGateway([sim('a', { outputTokens: 12, decodeTps: 100 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = client.responses.stream({ model: 'sim-model', input: 'Tell me a story' });
    const { events, types, text } = await drain(stream);
    const seqs = events.map((e) => e.sequence_number);
    const deltas = text('response.output_text.delta');
    const final = await stream.finalResponse();
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const middle = types.slice(4, -4);
    expect(middle.length).toBeGreaterThan(1); // the text comes in pieces, as the worker streams it
    expect(middle.every((t) => t === 'response.output_text.delta')).toBe(true);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(deltas.trim().split(' ')).toHaveLength(12);
    expect(final.output_text).toBe(deltas);
    expect(final.status).toBe('completed');
    expect(final.usage).toMatchObject({ output_tokens: 12 });
  });

  it("a thinking model's reasoning comes as a reasoning item before the message, whole and streamed", async () => {
    const { gw } = await startFleetGateway([
      sim('a', { type: 'llama_cpp', reasoningTokens: 6, outputTokens: 10, decodeTps: 100 }),
    ]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const whole = await client.responses.create({ model: 'sim-model', input: 'Think first' });
    expect(whole.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const thought = whole.output[0] as { content?: Array<{ type: string; text: string }> };
    expect(thought.content![0]!.type).toBe('reasoning_text');
    expect(thought.content![0]!.text.trim().split(' ').length).toBeGreaterThan(0);
    expect(whole.output_text.trim()).not.toBe('');
    expect(whole.output_text).not.toContain(thought.content![0]!.text.trim());

    const stream = client.responses.stream({ model: 'sim-model', input: 'Think first' });
    const drained = await drain(stream);
    const types = drained.types;
    const reasoning = drained.text('response.reasoning_text.delta');
    const text = drained.text('response.output_text.delta');
    const final = await stream.finalResponse();
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const streamed = final.output[0] as { content?: Array<{ text: string }> };
    expect(streamed.content![0]!.text).toBe(reasoning);
    expect(final.output_text).toBe(text);
    // The reasoning item is closed before the message item opens.
    const firstText = types.indexOf('response.output_text.delta');
    expect(types.lastIndexOf('response.reasoning_text.delta')).toBeLessThan(firstText);
    expect(types.slice(0, firstText).filter((t) => t === 'response.output_item.done')).toHaveLength(1);
    expect(types.filter((t) => t === 'response.output_item.added')).toHaveLength(2);
  });

  it('a client that asks for reasoning summaries gets the reasoning as the summary, whole and streamed', async () => {
    const { gw } = await startFleetGateway([
      sim('a', { type: 'llama_cpp', reasoningTokens: 6, outputTokens: 10, decodeTps: 100 }),
    ]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ask = { model: 'sim-model', input: 'Think first', reasoning: { summary: 'auto' as const } };
    const whole = await client.responses.create(ask);
    expect(whole.reasoning).toMatchObject({ summary: 'auto' });
    const thought = whole.output[0] as {
      type: string;
      summary: Array<{ type: string; text: string }>;
      content?: unknown[];
    };
    expect(thought.type).toBe('reasoning');
    expect(thought.summary[0]!.type).toBe('summary_text');
    expect(thought.summary[0]!.text.trim().split(' ')).toHaveLength(6);
    expect(thought.content).toEqual([]);

    const stream = client.responses.stream(ask);
    const { events, types, text } = await drain(stream);
    const summaryDeltas = events.filter((e) => e.type === 'response.reasoning_summary_text.delta');
    for (const e of summaryDeltas) expect((e as { summary_index?: number }).summary_index).toBe(0);
    const summary = text('response.reasoning_summary_text.delta');
    const final = await stream.finalResponse();
    const streamed = final.output[0] as { summary: Array<{ text: string }> };
    expect(streamed.summary[0]!.text).toBe(summary);
    expect(summary.trim().split(' ')).toHaveLength(6);
    expect(types).not.toContain('response.reasoning_text.delta');
    expect(types.filter((t) => t.startsWith('response.reasoning_summary_part.'))).toEqual([
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_part.done',
    ]);
    expect(types).toContain('response.reasoning_summary_text.done');
  });

  it("the worker's count of reasoning tokens reaches usage.output_tokens_details", async () => {
    const { gw } = await startScriptedGateway('m', (_req, res) =>
      json(res, 200, {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Four.' }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 9,
          completion_tokens: 30,
          total_tokens: 39,
          completion_tokens_details: { reasoning_tokens: 28 },
        },
      }),
    );
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.responses.create({ model: 'm', input: '2 + 2?' });
    expect(r.usage).toMatchObject({ output_tokens: 30, output_tokens_details: { reasoning_tokens: 28 } });
    const chat = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat.usage?.completion_tokens_details?.reasoning_tokens).toBe(28);
  });

  it('an upstream failure mid-stream: response.failed with the error and the text so far', async () => {
    const { gw } = await startFleetGateway(
      [sim('a', { faults: { midStreamErrorRate: 1 }, outputTokens: 10 })],
      { settings: { max_retries: 0 } },
    );
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = client.responses.stream({ model: 'sim-model', input: 'Hi' });
    const { types, text } = await drain(stream);
    const deltas = text('response.output_text.delta');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.failed');
    expect(types).not.toContain('response.completed');
    const final = await stream.finalResponse();
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ code: 'FLEET_UPSTREAM_SERVER' });
    expect(final.error!.message).toContain('simulated failure');
    expect(final.output_text).toBe(deltas);
  });

  it('refuses what it cannot do with a 400 naming the field; an unknown model is a 404', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const tools = await client.responses
      .create({
        model: 'llama3',
        input: 'Weather?',
        tools: [{ type: 'function', name: 'weather', parameters: {}, strict: false }, { type: 'web_search' }],
      })
      .catch((e: unknown) => e);
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tools as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[1].type');
    expect((tools as Error).message).toContain('"web_search" tools are not supported');
    const chained = await client.responses
      .create({ model: 'llama3', input: 'And then?', previous_response_id: 'resp_1' })
      .catch((e: unknown) => e);
    expect((chained as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('previous_response_id');
    const unknown = await client.responses.create({ model: 'gpt-5', input: 'Hi' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as Error).message).toContain('llama3');
    // Without the SDK: a missing input, an item type the gateway does not take, and a reference
    // to an item it never gave out (with what to do instead).
    let r = await post(`${gw.url}/v1/responses`, { model: 'llama3' });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { param: 'input', code: 'invalid_body' } });
    r = await post(`${gw.url}/v1/responses`, {
      model: 'llama3',
      input: [{ type: 'file_search_call', id: 'fs_1' }],
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { param: 'input[0].type' } });
    r = await post(`${gw.url}/v1/responses`, {
      model: 'llama3',
      input: [{ type: 'item_reference', id: 'msg_1' }],
    });
    expect(r.status).toBe(400);
    const ref = (await r.json()) as { error: { param: string; message: string } };
    expect(ref.error.param).toBe('input[0].id');
    expect(ref.error.message).toContain('store: false');
    for (const [reasoning, param] of [
      [{ effort: 1 }, 'reasoning.effort'],
      [{ summary: true }, 'reasoning.summary'],
    ] as const) {
      r = await post(`${gw.url}/v1/responses`, { model: 'llama3', input: 'Hi', reasoning });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: { param } });
    }
  });

  const weather = {
    type: 'function' as const,
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
    },
    strict: true,
  };

  it('function calling with the SDK: a function_call item, then the answer to its output', async () => {
    const { gw, sim: s } = await startFleetGateway([sim('a')]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.responses.create({ model: 'sim-model', input, tools: [weather] });
    expect(first.status).toBe('completed');
    expect(first.output).toHaveLength(1);
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: 'function_call', status: 'completed', name: 'get_weather' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'sim', unit: 'celsius' });
    expect(call.call_id).toMatch(/^call_/);
    expect(call.id).toMatch(/^fc_/);
    expect(first.output_text).toBe('');
    expect(first.tools).toEqual([weather]);
    expect(first.tool_choice).toBe('auto');
    // The next turn sends the call and its output back; the model (the sim) answers a tool's
    // result in text, so a text answer shows they reached the worker as chat tool messages.
    const second = await client.responses.create({
      model: 'sim-model',
      input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '21 C' }],
      tools: [weather],
    });
    expect(second.output.map((o) => o.type)).toEqual(['message']);
    expect(second.output_text.trim().split(' ')).toHaveLength(8);
    expect(s.workers[0]!.stats().completed).toBe(2);
    // tool_choice "none": text even with tools; a named function is called by name.
    const none = await client.responses.create({
      model: 'sim-model',
      input,
      tools: [weather],
      tool_choice: 'none',
    });
    expect(none.output.map((o) => o.type)).toEqual(['message']);
    const clock = { type: 'function' as const, name: 'get_time', parameters: {}, strict: false };
    const named = await client.responses.create({
      model: 'sim-model',
      input,
      tools: [weather, clock],
      tool_choice: { type: 'function', name: 'get_time' },
    });
    expect(named.output[0]).toMatchObject({ type: 'function_call', name: 'get_time', arguments: '{}' });
  });

  it("function calling streamed: the SDK's helper gets the arguments in pieces and the whole call", async () => {
    const { gw } = await startFleetGateway([sim('a', { decodeTps: 4 })]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = client.responses.stream({
      model: 'sim-model',
      input: 'Weather in Paris?',
      tools: [weather],
    });
    const { types, text } = await drain(stream);
    const args = text('response.function_call_arguments.delta');
    const final = await stream.finalResponse();
    expect(types.slice(0, 3)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
    ]);
    expect(types.filter((t) => t === 'response.function_call_arguments.delta').length).toBeGreaterThan(2);
    expect(types.slice(-3)).toEqual([
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(types).not.toContain('response.output_text.delta');
    expect(JSON.parse(args)).toEqual({ city: 'sim', unit: 'celsius' });
    expect(final.output).toHaveLength(1);
    expect(final.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: args });
    expect(final.status).toBe('completed');
  });

  it('function calls from an Ollama worker on its native API: whole, in one delta, through the fleet', async () => {
    const { gw } = await startFleetGateway([sim('o', { type: 'ollama', models: ['llama3'] })], {
      worker: { api: 'native' },
    });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const whole = await client.responses.create({ model: 'llama3', input: 'Weather?', tools: [weather] });
    expect(whole.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(JSON.parse((whole.output[0] as OpenAI.Responses.ResponseFunctionToolCall).arguments)).toEqual({
      city: 'sim',
      unit: 'celsius',
    });
    const stream = client.responses.stream({ model: 'llama3', input: 'Weather?', tools: [weather] });
    for await (const _ of stream) void _;
    const final = await stream.finalResponse();
    expect(final.output.map((o) => o.type)).toEqual(['function_call']);
    expect(JSON.parse((final.output[0] as OpenAI.Responses.ResponseFunctionToolCall).arguments)).toEqual({
      city: 'sim',
      unit: 'celsius',
    });
  });

  it('several calls in one turn: text then each call, whole and streamed (one by one, or all in one delta)', async () => {
    const echo = parseResponses({ input: 'x' }).echo;
    const fn = (id: string, name: string, args: string) => ({
      id,
      type: 'function',
      function: { name, arguments: args },
    });
    const whole = toResponse(
      {
        id: 'r1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Checking.',
              tool_calls: [fn('a', 'w', '{"c":1}'), fn('', 't', '')],
            },
            finish_reason: 'tool_calls',
          },
        ],
      },
      echo,
    );
    expect(whole['status']).toBe('completed');
    expect(whole['output']).toEqual([
      expect.objectContaining({ type: 'message', content: [expect.objectContaining({ text: 'Checking.' })] }),
      {
        id: 'fc_r1_0',
        type: 'function_call',
        status: 'completed',
        call_id: 'a',
        name: 'w',
        arguments: '{"c":1}',
      },
      // No id from the server: one is made up, unique in the response.
      {
        id: 'fc_r1_1',
        type: 'function_call',
        status: 'completed',
        call_id: 'call_r1_1',
        name: 't',
        arguments: '',
      },
    ]);

    const chunk = (
      delta: ChatChunk['choices'][number]['delta'],
      finish: string | null = null,
    ): ChatChunk => ({
      id: 'r2',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    /** The events a format writes for these chunks, parsed back. */
    const events = async (chunks: ChatChunk[]) => {
      const f = responsesFormat(echo, { model: 'm', nowSec: () => 1 });
      const text = chunks.map((c) => f.chunk(c)).join('') + f.end(undefined);
      const out: Array<Record<string, unknown>> = [];
      for await (const e of parseSse(new Blob([text]).stream()))
        out.push(JSON.parse(e.data) as Record<string, unknown>);
      return out;
    };
    const streamed = await events([
      chunk({ role: 'assistant', content: 'Checking.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'w', arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"c":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 't', arguments: '{}' } }],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const done = streamed.at(-1)!['response'] as { output: unknown[]; status: string };
    expect(done.status).toBe('completed');
    expect(done.output).toEqual([
      expect.objectContaining({ type: 'message', status: 'completed' }),
      {
        id: 'fc_r2_0',
        type: 'function_call',
        status: 'completed',
        call_id: 'a',
        name: 'w',
        arguments: '{"c":1}',
      },
      { id: 'fc_r2_1', type: 'function_call', status: 'completed', call_id: 'b', name: 't', arguments: '{}' },
    ]);
    const argEvents = streamed.filter((e) =>
      String(e['type']).startsWith('response.function_call_arguments'),
    );
    expect(argEvents.map((e) => [e['type'], e['output_index'], e['delta'] ?? e['arguments']])).toEqual([
      ['response.function_call_arguments.delta', 1, '{"c":'],
      ['response.function_call_arguments.delta', 1, '1}'],
      ['response.function_call_arguments.done', 1, '{"c":1}'],
      ['response.function_call_arguments.delta', 2, '{}'],
      ['response.function_call_arguments.done', 2, '{}'],
    ]);
    expect(streamed.map((e) => e['sequence_number'])).toEqual(streamed.map((_, i) => i));
    // Ollama's way: every call whole in one delta, and no text.
    const ollama = await events([
      chunk({ role: 'assistant', content: '' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_0', type: 'function', function: { name: 'w', arguments: '{"c":1}' } },
          { index: 1, id: 'call_1', type: 'function', function: { name: 't', arguments: '{}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const last = ollama.at(-1)!['response'] as { output: Array<Record<string, unknown>> };
    expect(last.output.map((o) => [o['type'], o['call_id'], o['arguments']])).toEqual([
      ['function_call', 'call_0', '{"c":1}'],
      ['function_call', 'call_1', '{}'],
    ]);
    // Text after a call is a second message item, with an id of its own.
    const mixed = await events([
      chunk({ role: 'assistant', content: 'Let me see.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'w', arguments: '{}' } }],
      }),
      chunk({ content: 'Done.' }),
    ]);
    const output = (mixed.at(-1)!['response'] as { output: Array<Record<string, unknown>> }).output;
    expect(output.map((o) => o['type'])).toEqual(['message', 'function_call', 'message']);
    expect(new Set(output.map((o) => o['id'])).size).toBe(3);
    // Every event about an item names the id the item has in the final output.
    for (const e of mixed.filter((x) => typeof x['item_id'] === 'string'))
      expect(output[e['output_index'] as number]!['id']).toBe(e['item_id']);
  });

  it('maps the request onto a chat request', () => {
    const { chat, stream, echo } = parseResponses({
      model: 'm',
      instructions: 'Be brief.',
      input: [
        {
          type: 'message',
          role: 'assistant',
          id: 'msg_1',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Hello.', annotations: [] }],
        },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in ' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
          ],
        },
      ],
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      stream: true,
      store: false,
    });
    expect(chat).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in ' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
          ],
        },
      ],
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(stream).toBe(true);
    expect(echo).toEqual({
      instructions: 'Be brief.',
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning: { effort: null, summary: null },
    });
    const effort = parseResponses({ input: 'x', reasoning: { effort: 'low' } });
    expect(effort.chat['reasoning_effort']).toBe('low');
    expect(effort.echo.reasoning).toEqual({ effort: 'low', summary: null });
    expect(() => parseResponses({ input: 'x', reasoning: { effort: 3 } })).toThrow(/reasoning\.effort/);
    expect(parseResponses({ input: 'x', text: { format: { type: 'json_object' } } }).chat).toEqual({
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_object' },
    });
    // Function tools, calls and their outputs: the calls join the assistant's message.
    const withTools = parseResponses({
      input: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { role: 'assistant', content: 'Looking it up.' },
        { type: 'function_call', call_id: 'c1', name: 'w', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'w', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'c1', output: '21 C' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '25 C' }] },
        { type: 'function_call', call_id: 'c3', name: 'w', arguments: '{}' },
      ],
      tools: [{ type: 'function', name: 'w', parameters: { type: 'object' }, strict: true }],
      tool_choice: { type: 'function', name: 'w' },
      parallel_tool_calls: false,
    });
    const fn = (id: string, args: string) => ({
      id,
      type: 'function',
      function: { name: 'w', arguments: args },
    });
    expect(withTools.chat).toEqual({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Looking it up.',
          tool_calls: [fn('c1', '{"city":"Paris"}'), fn('c2', '{"city":"Rome"}')],
        },
        { role: 'tool', tool_call_id: 'c1', content: '21 C' },
        { role: 'tool', tool_call_id: 'c2', content: '25 C' },
        { role: 'assistant', content: null, tool_calls: [fn('c3', '{}')] },
      ],
      tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'w' } },
      parallel_tool_calls: false,
    });
    expect(withTools.echo).toMatchObject({
      tool_choice: { type: 'function', name: 'w' },
      parallel_tool_calls: false,
    });
    expect(() => parseResponses({ input: 'x', tools: [{ type: 'function' }] })).toThrow(/tools\[0\]\.name/);
    expect(() => parseResponses({ input: 'x', tool_choice: 'any' })).toThrow(/tool_choice/);
    expect(() => parseResponses({ input: [{ type: 'function_call', name: 'w', arguments: '{}' }] })).toThrow(
      /input\[0\]\.call_id/,
    );
    expect(() => parseResponses({ input: 'x', max_output_tokens: 0 })).toThrow(/max_output_tokens/);
    expect(() => parseResponses({ input: [{ role: 'tool', content: 'x' }] })).toThrow(/input\[0\]\.role/);
    expect(() => parseResponses({ input: [{ role: 'user', content: [{ type: 'input_file' }] }] })).toThrow(
      /input\[0\]\.content\[0\]: "input_file" parts are not supported/,
    );
  });
});
