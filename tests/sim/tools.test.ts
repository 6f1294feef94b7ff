/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import { afterEach, describe, expect, it } from 'vitest';
import { chunks, closeAll, http, sim, streamEvents } from './helpers.ts';

/** Function calling: the simulated model calls a tool the way tool-using models do. */
afterEach(closeAll);

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer' },
        detailed: { type: 'boolean' },
      },
      required: ['city', 'unit', 'days'],
    },
  },
};
const clock = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: {} } },
};
const ask = [{ role: 'user', content: 'Weather in Paris?' }];
const ARGS = { city: 'sim', unit: 'celsius', days: 1 };

describe('sim function calls', () => {
  const start = (extra = {}) =>
    sim({ models: ['m'], decodeTps: 5000, timeScale: 0.1, outputTokens: 12, ...extra });

  it('calls the first tool with every required argument, whole', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/chat/completions`, {
      body: { messages: ask, tools: [weather, clock] },
    });
    expect(r.status).toBe(200);
    const choice = r.json().choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls[0];
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(call.id).toMatch(/^call_/);
    expect(JSON.parse(call.function.arguments)).toEqual(ARGS);
    // The arguments are the output: ~4 characters a token.
    expect(r.json().usage.completion_tokens).toBe(Math.ceil(call.function.arguments.length / 4));
  });

  it('streams the call: id and name first, then the arguments in pieces', async () => {
    const w = await start();
    const s = await streamEvents(`${w.url}/v1/chat/completions`, {
      messages: ask,
      tools: [weather],
      stream: true,
    });
    const cs = chunks(s.events);
    const deltas = cs.map((c) => c.choices[0]?.delta).filter((d) => d?.tool_calls);
    expect(deltas[0].tool_calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(deltas.length).toBeGreaterThan(2);
    const args = deltas.map((d) => d.tool_calls[0].function.arguments).join('');
    expect(JSON.parse(args)).toEqual(ARGS);
    expect(
      cs.some((c) => typeof c.choices[0]?.delta?.content === 'string' && c.choices[0].delta.content !== ''),
    ).toBe(false);
    expect(cs.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers in text after a tool result, and follows tool_choice', async () => {
    const w = await start();
    const url = `${w.url}/v1/chat/completions`;
    const after = await http(url, {
      body: {
        tools: [weather],
        messages: [
          ...ask,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: '21 C' },
        ],
      },
    });
    expect(after.json().choices[0]).toMatchObject({ finish_reason: 'stop' });
    expect(after.json().choices[0].message.content.length).toBeGreaterThan(0);

    const none = await http(url, { body: { messages: ask, tools: [weather], tool_choice: 'none' } });
    expect(none.json().choices[0].message.tool_calls).toBeUndefined();
    const named = await http(url, {
      body: {
        messages: ask,
        tools: [weather, clock],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      },
    });
    expect(named.json().choices[0].message.tool_calls[0].function).toEqual({
      name: 'get_time',
      arguments: '{}',
    });
    const unknown = await http(url, {
      body: {
        messages: ask,
        tools: [weather],
        tool_choice: { type: 'function', function: { name: 'nope' } },
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('tool_choice');
    const bad = await http(url, { body: { messages: ask, tools: [{ type: 'function' }] } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('tools');
  });

  it('max_tokens cuts the arguments short with finish_reason length', async () => {
    const w = await start();
    const r = await http(`${w.url}/v1/chat/completions`, {
      body: { messages: ask, tools: [weather], max_tokens: 3 },
    });
    const choice = r.json().choices[0];
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.tool_calls[0].function.arguments).toHaveLength(12);
  });

  it("Ollama's /api/chat: the call whole, arguments as an object, done_reason stop", async () => {
    const w = await start({ type: 'ollama', models: ['llama3:latest'] });
    const body = { model: 'llama3', messages: ask, tools: [weather] };
    const whole = (await http(`${w.url}/api/chat`, { body: { ...body, stream: false } })).json();
    expect(whole.message.tool_calls).toEqual([{ function: { name: 'get_weather', arguments: ARGS } }]);
    expect(whole.done_reason).toBe('stop');
    const lines = (await http(`${w.url}/api/chat`, { body })).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const calls = lines.filter((l) => l.message?.tool_calls);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      done: false,
      message: { tool_calls: [{ function: { arguments: ARGS } }] },
    });
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
  });
});

describe('sim structured output', () => {
  const schema = {
    type: 'object',
    properties: {
      title: { type: 'string' },
      year: { type: 'integer' },
      kind: { type: 'string', enum: ['paper', 'book'] },
      authors: { type: 'array', items: { type: 'string' } },
      venue: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      note: { type: 'string' },
    },
    required: ['title', 'year', 'kind', 'authors', 'venue'],
  };
  const WANT = { title: 'sim', year: 1, kind: 'paper', authors: [], venue: { name: 'sim' } };

  it('answers a JSON schema with a value that fits it, and json_object with an object', async () => {
    const w = await sim({ models: ['m'], decodeTps: 5000, timeScale: 0.1, outputTokens: 12 });
    const ask = (response_format: unknown, extra = {}) =>
      http(`${w.url}/v1/chat/completions`, {
        body: { messages: [{ role: 'user', content: 'x' }], response_format, ...extra },
      });
    const r = await ask({ type: 'json_schema', json_schema: { name: 'ref', schema, strict: true } });
    const choice = r.json().choices[0];
    expect(JSON.parse(choice.message.content)).toEqual(WANT);
    expect(choice.finish_reason).toBe('stop');
    expect(r.json().usage.completion_tokens).toBe(Math.ceil(choice.message.content.length / 4));
    expect(JSON.parse((await ask({ type: 'json_object' })).json().choices[0].message.content)).toEqual({
      answer: 'sim',
    });
    // Streamed, the pieces make the same JSON; cut short by max_tokens it is unfinished, "length".
    const s = await streamEvents(`${w.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'ref', schema } },
      stream: true,
    });
    const text = chunks(s.events)
      .map((c) => c.choices[0]?.delta?.content ?? '')
      .join('');
    expect(JSON.parse(text)).toEqual(WANT);
    const cut = (await ask({ type: 'json_object' }, { max_tokens: 2 })).json().choices[0];
    expect(cut).toMatchObject({ finish_reason: 'length', message: { content: '{"answer' } });
  });

  it('Ollama\'s format: a schema or "json"', async () => {
    const w = await sim({ type: 'ollama', models: ['llama3:latest'], decodeTps: 5000, timeScale: 0.1 });
    const chat = (format: unknown) =>
      http(`${w.url}/api/chat`, {
        body: { model: 'llama3', stream: false, messages: [{ role: 'user', content: 'x' }], format },
      });
    expect(JSON.parse((await chat(schema)).json().message.content)).toEqual(WANT);
    expect(JSON.parse((await chat('json')).json().message.content)).toEqual({ answer: 'sim' });
  });
});
