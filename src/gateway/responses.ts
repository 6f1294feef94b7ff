import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  Usage,
} from '../core/openai.ts';
import { copyWith, isRecord } from '../core/objects.ts';
import { argumentsText, functionOf } from '../core/tool-calls.ts';
import type { RequestMeta } from '../fleet/index.ts';
import { badRequest, type HttpError } from './errors.ts';
import type { StreamFormat } from './stream-out.ts';

/*
 * OpenAI's Responses API (`POST /v1/responses`) over the fleet's chat completions, for clients that
 * speak only it (the Vercel AI SDK's default, the OpenAI Agents SDK, `client.responses.create`).
 * Input messages (text and image parts), instructions, sampling, output length, JSON output
 * formats and function tools map onto a chat request; function calls and their outputs in `input`
 * become the assistant's `tool_calls` and `tool` messages. The answer comes back as a message item
 * (after a reasoning item when the model's server sends reasoning text: `reasoning_text` content,
 * or a summary when the client asks for summaries) and a `function_call` item
 * per call the model made. The gateway keeps no responses, so `previous_response_id` is refused,
 * but it keeps recent output items (ResponseItems), which `item_reference` inputs may name;
 * built-in tools (web search, files, ...) and other item types get a 400 that names them.
 * Reasoning items in `input` are skipped: chat completions have no field to carry them back.
 */

type Json = Record<string, unknown>;

const ROLES = new Set(['user', 'system', 'developer', 'assistant']);

/** One input item's content as chat content: a string when it is all text, else chat parts. */
function content(raw: unknown, at: string): string | ContentPart[] {
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw))
    throw badRequest(`responses request: ${at}: expected a string or a list of parts`, at);
  const parts: Json[] = [];
  let allText = true;
  raw.forEach((p: unknown, j) => {
    const where = `${at}[${j}]`;
    if (!isRecord(p))
      throw badRequest(`responses request: ${where}: expected an object with a "type"`, where);
    if ((p['type'] === 'input_text' || p['type'] === 'output_text') && typeof p['text'] === 'string') {
      parts.push({ type: 'text', text: p['text'] });
    } else if (p['type'] === 'input_image' && typeof p['image_url'] === 'string') {
      allText = false;
      const image: Json = { url: p['image_url'] };
      if (typeof p['detail'] === 'string') image['detail'] = p['detail'];
      parts.push({ type: 'image_url', image_url: image });
    } else {
      throw badRequest(
        `responses request: ${where}: ${JSON.stringify(p['type'])} parts are not supported (input_text, output_text and input_image with an image_url are)`,
        `${where}.type`,
      );
    }
  });
  return allText ? parts.map((p) => p['text'] as string).join('') : (parts as ContentPart[]);
}

/** A `function_call` input item as one of the assistant's chat `tool_calls`. */
function toolCall(item: Json, at: string): Json {
  for (const key of ['call_id', 'name', 'arguments'])
    if (typeof item[key] !== 'string')
      throw badRequest(`responses request: ${at}.${key}: expected a string`, `${at}.${key}`);
  return {
    id: item['call_id'],
    type: 'function',
    function: { name: item['name'], arguments: item['arguments'] },
  };
}

/** A `function_call_output` input item as a chat `tool` message. */
function toolResult(item: Json, at: string): ChatMessage {
  if (typeof item['call_id'] !== 'string')
    throw badRequest(`responses request: ${at}.call_id: expected a string`, `${at}.call_id`);
  const output = item['output'];
  const text = typeof output === 'string' ? output : content(output, `${at}.output`);
  return { role: 'tool', tool_call_id: item['call_id'], content: text };
}

/** Earlier output items by id (the caller's, from ResponseItems), for `item_reference` inputs. */
export type ItemLookup = (id: string) => Json | undefined;

/** The item an `item_reference` input names, or a 400 saying how to send it instead. */
function referenced(ref: Json, at: string, items: ItemLookup | undefined): Json {
  const id = ref['id'];
  const found = typeof id === 'string' ? items?.(id) : undefined;
  if (found !== undefined) return found;
  throw badRequest(
    `responses request: ${at}: item_reference ${JSON.stringify(id)} is not an item the gateway gave out in the last hour (it keeps recent output items in memory, not whole responses); send the item itself (the Vercel AI SDK does with providerOptions: { openai: { store: false } })`,
    `${at}.id`,
  );
}

/**
 * The chat messages of `input` (a string, or a list of items) after `instructions`; an
 * `item_reference` stands for the earlier output item it names.
 */
function messages(body: Json, items: ItemLookup | undefined): ChatMessage[] {
  const out: ChatMessage[] = [];
  const instructions = body['instructions'];
  if (instructions !== undefined && instructions !== null) {
    if (typeof instructions !== 'string')
      throw badRequest('responses request: instructions: expected a string', 'instructions');
    out.push({ role: 'system', content: instructions });
  }
  const input = body['input'];
  if (typeof input === 'string') out.push({ role: 'user', content: input });
  else if (Array.isArray(input)) {
    input.forEach((given: unknown, i) => {
      const at = `input[${i}]`;
      if (!isRecord(given)) throw badRequest(`responses request: ${at}: expected a message object`, at);
      const item = given['type'] === 'item_reference' ? referenced(given, at, items) : given;
      const type = item['type'] ?? 'message';
      if (type === 'function_call') {
        // The calls of one model turn follow its message, if it wrote one: they join it.
        const last = out[out.length - 1];
        const call = toolCall(item, at);
        if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
        else out.push({ role: 'assistant', content: null, tool_calls: [call] });
        return;
      }
      if (type === 'function_call_output') {
        out.push(toolResult(item, at));
        return;
      }
      if (type === 'reasoning') return;
      if (type !== 'message')
        throw badRequest(
          `responses request: ${at}.type: ${JSON.stringify(type)} items are not supported by the gateway (message, function_call, function_call_output, reasoning and item_reference are)`,
          `${at}.type`,
        );
      const role = item['role'];
      if (typeof role !== 'string' || !ROLES.has(role))
        throw badRequest(
          `responses request: ${at}.role: expected user, system, developer or assistant`,
          `${at}.role`,
        );
      out.push({
        role: role as 'user' | 'system' | 'developer' | 'assistant',
        content: content(item['content'], `${at}.content`),
      });
    });
    if (input.length === 0) throw badRequest('responses request: input: needs at least one message', 'input');
  } else throw badRequest('responses request: input: required (a string or a list of messages)', 'input');
  return out;
}

/** `text.format` as the chat request's `response_format` (undefined for plain text). */
function responseFormat(text: unknown): Json | undefined {
  if (text === undefined || text === null) return undefined;
  const format = isRecord(text) ? text['format'] : undefined;
  if (format === undefined) return undefined;
  if (!isRecord(format))
    throw badRequest('responses request: text.format: expected an object', 'text.format');
  if (format['type'] === 'text') return undefined;
  if (format['type'] === 'json_object') return { type: 'json_object' };
  if (format['type'] === 'json_schema') {
    if (typeof format['name'] !== 'string' || !isRecord(format['schema']))
      throw badRequest(
        'responses request: text.format: a json_schema format needs "name" and "schema"',
        'text.format',
      );
    const schema: Json = { name: format['name'], schema: format['schema'] };
    if (typeof format['strict'] === 'boolean') schema['strict'] = format['strict'];
    if (typeof format['description'] === 'string') schema['description'] = format['description'];
    return { type: 'json_schema', json_schema: schema };
  }
  throw badRequest(
    `responses request: text.format.type: expected text, json_object or json_schema, got ${JSON.stringify(format['type'])}`,
    'text.format.type',
  );
}

/** Function tools as chat tools; other tools (the built-in ones) get a 400 that names them. */
function chatTools(raw: unknown): Json[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest('responses request: tools: expected a list of tools', 'tools');
  return raw.map((t: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isRecord(t) || t['type'] !== 'function')
      throw badRequest(
        `responses request: ${at}.type: ${JSON.stringify(isRecord(t) ? t['type'] : t)} tools are not supported by the gateway (only function tools: the fleet's servers run no built-in tools)`,
        `${at}.type`,
      );
    if (typeof t['name'] !== 'string' || t['name'] === '')
      throw badRequest(`responses request: ${at}.name: expected the function's name`, `${at}.name`);
    const fn: Json = { name: t['name'] };
    if (typeof t['description'] === 'string') fn['description'] = t['description'];
    if (isRecord(t['parameters'])) fn['parameters'] = t['parameters'];
    if (typeof t['strict'] === 'boolean') fn['strict'] = t['strict'];
    return { type: 'function', function: fn };
  });
}

/** `tool_choice` in chat's words: the same three modes, or `{type: "function", function: {name}}`. */
function chatToolChoice(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === 'none' || raw === 'auto' || raw === 'required') return raw;
  if (isRecord(raw) && raw['type'] === 'function' && typeof raw['name'] === 'string')
    return { type: 'function', function: { name: raw['name'] } };
  throw badRequest(
    'responses request: tool_choice: expected "none", "auto", "required" or {"type": "function", "name": "..."}',
    'tool_choice',
  );
}

/**
 * A string setting of `reasoning`: `effort` (chat's `reasoning_effort`, which reasoning models'
 * servers read; a bare string is read as the effort), or `summary` ("auto", "concise",
 * "detailed": the client reads reasoning from summaries, so the reasoning text goes there).
 */
function reasoningSetting(raw: unknown, key: 'effort' | 'summary', expected: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const v = isRecord(raw) ? raw[key] : key === 'effort' ? raw : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw badRequest(`responses request: reasoning.${key}: expected ${expected}`, `reasoning.${key}`);
  return v;
}

const optNumber = (body: Json, key: string, ok: (n: number) => boolean, want: string): number | undefined => {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !ok(v)) throw badRequest(`responses request: ${key}: expected ${want}`, key);
  return v;
};

/** What the Responses request asks for, and the chat request that does it. */
export interface ResponsesCall {
  chat: ChatRequest;
  stream: boolean;
  /** Echoed in the response object. */
  echo: {
    instructions: string | null;
    max_output_tokens: number | null;
    temperature: number;
    top_p: number;
    /** The `text` setting asked for (the output format). */
    text: Json;
    tools: unknown[];
    tool_choice: unknown;
    parallel_tool_calls: boolean;
    /** The reasoning effort and summary asked for, if any. */
    reasoning: { effort: string | null; summary: string | null };
  };
}

/** Checks a `/v1/responses` body and turns it into a chat request; a 400 names what is wrong. */
export function parseResponses(body: unknown, items?: ItemLookup): ResponsesCall {
  if (!isRecord(body)) throw badRequest('responses request: the body must be a JSON object');
  if (body['model'] !== undefined && typeof body['model'] !== 'string')
    throw badRequest('responses request: model: expected a string', 'model');
  if (body['previous_response_id'] !== undefined && body['previous_response_id'] !== null)
    throw badRequest(
      'responses request: previous_response_id: the gateway keeps no responses; send the whole conversation in input',
      'previous_response_id',
    );
  if (body['stream'] !== undefined && typeof body['stream'] !== 'boolean')
    throw badRequest('responses request: stream: expected true or false', 'stream');
  const maxOut = optNumber(
    body,
    'max_output_tokens',
    (n) => Number.isSafeInteger(n) && n > 0,
    'a positive integer',
  );
  const temperature = optNumber(body, 'temperature', (n) => n >= 0, 'a number >= 0');
  const topP = optNumber(body, 'top_p', (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  const chat: ChatRequest = { messages: messages(body, items) };
  if (typeof body['model'] === 'string') chat.model = body['model'];
  if (maxOut !== undefined) chat.max_tokens = maxOut;
  if (temperature !== undefined) chat.temperature = temperature;
  if (topP !== undefined) chat.top_p = topP;
  const format = responseFormat(body['text']);
  if (format !== undefined) chat['response_format'] = format;
  const tools = chatTools(body['tools']);
  const toolChoice = chatToolChoice(body['tool_choice']);
  const parallel = body['parallel_tool_calls'];
  if (parallel !== undefined && parallel !== null && typeof parallel !== 'boolean')
    throw badRequest('responses request: parallel_tool_calls: expected true or false', 'parallel_tool_calls');
  const effort = reasoningSetting(body['reasoning'], 'effort', 'a string such as "low"');
  if (effort !== undefined) chat['reasoning_effort'] = effort;
  if (tools.length > 0) {
    chat['tools'] = tools;
    if (toolChoice !== undefined && toolChoice !== null) chat['tool_choice'] = toolChoice;
    if (typeof parallel === 'boolean') chat['parallel_tool_calls'] = parallel;
  }
  const stream = body['stream'] === true;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  const instructions = body['instructions'];
  return {
    chat,
    stream,
    echo: {
      instructions: typeof instructions === 'string' ? instructions : null,
      max_output_tokens: maxOut ?? null,
      temperature: temperature ?? 1,
      top_p: topP ?? 1,
      text: format === undefined ? { format: { type: 'text' } } : (body['text'] as Json),
      tools: tools.length > 0 ? (body['tools'] as unknown[]) : [],
      tool_choice: body['tool_choice'] ?? 'auto',
      parallel_tool_calls: typeof parallel === 'boolean' ? parallel : true,
      reasoning: {
        effort: effort ?? null,
        summary: reasoningSetting(body['reasoning'], 'summary', '"auto", "concise" or "detailed"') ?? null,
      },
    },
  };
}

interface Tokens {
  input: number;
  output: number;
  cached?: number | undefined;
  reasoning?: number | undefined;
}

const tokensOf = (u: Usage): Tokens => ({
  input: u.prompt_tokens,
  output: u.completion_tokens,
  cached: u.prompt_tokens_details?.cached_tokens,
  reasoning: u.completion_tokens_details?.reasoning_tokens,
});

/** A finished response's status: incomplete when the output limit cut it short. */
const finishedStatus = (finishReason: string | null | undefined) =>
  finishReason === 'length' ? 'incomplete' : 'completed';

/** The Response object around `output` (its items), echoing the request's settings. */
function responseObject(
  id: string,
  createdAt: number,
  model: string,
  echo: ResponsesCall['echo'],
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed',
  output: Json[],
  tokens?: Tokens,
): Json {
  return {
    id: `resp_${id}`,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    model,
    output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: null,
    reasoning: echo.reasoning,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: 'disabled',
    usage:
      tokens === undefined
        ? null
        : {
            input_tokens: tokens.input,
            input_tokens_details: { cached_tokens: tokens.cached ?? 0 },
            output_tokens: tokens.output,
            output_tokens_details: { reasoning_tokens: tokens.reasoning ?? 0 },
            total_tokens: tokens.input + tokens.output,
          },
    metadata: {},
  };
}

/**
 * An output item that holds text: the answer (a message), or the model's reasoning as `reasoning_text`
 * content (as open models' servers send it) or, when the client asked for summaries
 * (`reasoning.summary`: clients that ask read only those), as a `summary_text` summary.
 */
type Kind = 'message' | 'reasoning' | 'summary';
type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** The kind of item the reasoning goes in, for this request. */
const reasoningKind = (echo: ResponsesCall['echo']): Kind =>
  echo.reasoning.summary === null ? 'reasoning' : 'summary';

/** The one part of an item that holds `text`. */
const part = (kind: Kind, text: string): Json =>
  kind === 'message'
    ? { type: 'output_text', text, annotations: [] }
    : { type: kind === 'summary' ? 'summary_text' : 'reasoning_text', text };

/** A text item's id: its kind, the response and its place in the output (unique in the response). */
const itemId = (kind: Kind, id: string, at: number) => `${kind === 'message' ? 'msg' : 'rs'}_${id}_${at}`;

/** A text item at output index `at`. */
function item(kind: Kind, id: string, at: number, status: ItemStatus, parts: Json[]): Json {
  const base = { id: itemId(kind, id, at), type: kind === 'message' ? 'message' : 'reasoning', status };
  if (kind === 'message') return copyWith(base, { role: 'assistant', content: parts });
  return kind === 'summary'
    ? copyWith(base, { summary: parts, content: [] })
    : copyWith(base, { summary: [], content: parts });
}

/** The streaming events of a text item's one part, and the field that indexes the part. */
const PART_EVENTS: Record<Kind, { added: string; delta: string; text: string; done: string; index: string }> =
  {
    message: {
      added: 'response.content_part.added',
      delta: 'response.output_text.delta',
      text: 'response.output_text.done',
      done: 'response.content_part.done',
      index: 'content_index',
    },
    reasoning: {
      added: 'response.content_part.added',
      delta: 'response.reasoning_text.delta',
      text: 'response.reasoning_text.done',
      done: 'response.content_part.done',
      index: 'content_index',
    },
    summary: {
      added: 'response.reasoning_summary_part.added',
      delta: 'response.reasoning_summary_text.delta',
      text: 'response.reasoning_summary_text.done',
      done: 'response.reasoning_summary_part.done',
      index: 'summary_index',
    },
  };

/** A function the model called: a `function_call` output item. */
interface FnCall {
  /** The item's id: `fc_<response>_<index of the call>`. */
  itemId: string;
  callId: string;
  name: string;
  args: string;
}

/** A chat tool call (or a streamed call's first delta) as a FnCall; `k` is its index. */
function fnCall(raw: unknown, responseId: string, k: number): FnCall {
  const id = isRecord(raw) ? raw['id'] : undefined;
  const name = functionOf(raw)['name'];
  return {
    itemId: `fc_${responseId}_${k}`,
    callId: typeof id === 'string' && id !== '' ? id : `call_${responseId}_${k}`,
    name: typeof name === 'string' ? name : '',
    args: argumentsText(raw),
  };
}

const callItem = (c: FnCall, status: ItemStatus): Json => ({
  id: c.itemId,
  type: 'function_call',
  status,
  call_id: c.callId,
  name: c.name,
  arguments: c.args,
});

/**
 * A whole chat completion as a Response object: the reasoning item if any, the message (left out
 * when the model only called functions), then a `function_call` item per call.
 */
export function toResponse(r: ChatCompletion, echo: ResponsesCall['echo']): Json {
  const choice = r.choices[0];
  const output: Json[] = [];
  const reasoning = choice?.message.reasoning;
  const kind = reasoningKind(echo);
  if (reasoning) output.push(item(kind, r.id, 0, 'completed', [part(kind, reasoning)]));
  const text = choice?.message.content ?? '';
  const calls = (choice?.message.tool_calls ?? []).map((tc, k) => fnCall(tc, r.id, k));
  if (text !== '' || calls.length === 0)
    output.push(item('message', r.id, output.length, 'completed', [part('message', text)]));
  for (const c of calls) output.push(callItem(c, 'completed'));
  const usage = r.usage === undefined ? undefined : tokensOf(r.usage);
  return responseObject(r.id, r.created, r.model, echo, finishedStatus(choice?.finish_reason), output, usage);
}

/**
 * The Responses streaming events for a chat stream: created and in_progress; then, for reasoning
 * text if the model streams some and for the answer's text after it, an output item with its one
 * content part opened, a delta event per chunk (`response.reasoning_text.delta`,
 * `response.output_text.delta`) and the text, the part and the item closed; for each function the
 * model calls, a `function_call` item opened, `response.function_call_arguments.delta` per piece
 * of its arguments, and the arguments and the item closed (servers stream the calls of a turn one
 * after the other); last `response.completed` with the usage. There is a message item, empty if no
 * text came, unless the model called a function. Every event carries its `sequence_number`. An
 * error after the headers went out is `response.failed`, holding the error and the output so far.
 */
export function responsesFormat(
  echo: ResponsesCall['echo'],
  fallback: { model: string; nowSec: () => number },
  /** Called with the output items of a completed response (ResponseItems.remember). */
  completed?: (items: readonly Json[]) => void,
): StreamFormat {
  let seq = 0;
  let started: { id: string; createdAt: number; model: string } | undefined;
  /** Closed items, as they go into the final response. */
  const done: Json[] = [];
  /** The item being streamed: text of a kind, or a function call. */
  let open: { kind: Kind; text: string } | { kind: 'call'; index: number; call: FnCall } | undefined;
  /** Function calls seen, by their index in the chat deltas. */
  let calls = 0;
  let finish: string | null = null;
  let usage: Tokens | undefined;
  const event = (type: string, fields: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;
  /** The kind of item the reasoning goes in (see Kind). */
  const thinking = reasoningKind(echo);
  /** An event about the open text item's one part (its content, or its summary). */
  const partEvent = (kind: Kind, type: string, fields: Json) =>
    event(type, {
      item_id: itemId(kind, started!.id, done.length),
      output_index: done.length,
      [PART_EVENTS[kind].index]: 0,
      ...fields,
    });
  const start = (id: string, createdAt: number, model: string): string => {
    started = { id, createdAt, model };
    const r = responseObject(id, createdAt, model, echo, 'in_progress', []);
    return event('response.created', { response: r }) + event('response.in_progress', { response: r });
  };
  const startFallback = () => {
    const sec = fallback.nowSec();
    return start(`fleet-${sec}`, sec, fallback.model);
  };
  const added = (it: Json) => event('response.output_item.added', { output_index: done.length, item: it });
  const closeItem = (status: ItemStatus): string => {
    const o = open!;
    let out: string;
    let closed: Json;
    if (o.kind === 'call') {
      closed = callItem(o.call, status);
      out = event('response.function_call_arguments.done', {
        item_id: o.call.itemId,
        output_index: done.length,
        name: o.call.name,
        arguments: o.call.args,
      });
    } else {
      const p = part(o.kind, o.text);
      closed = item(o.kind, started!.id, done.length, status, [p]);
      const n = PART_EVENTS[o.kind];
      out =
        partEvent(o.kind, n.text, { text: o.text, ...(o.kind === 'message' ? { logprobs: [] } : {}) }) +
        partEvent(o.kind, n.done, { part: p });
    }
    out += event('response.output_item.done', { output_index: done.length, item: closed });
    done.push(closed);
    open = undefined;
    return out;
  };
  /** Makes the open item a text item of `kind`: closes any other, opens a new one. */
  const openKind = (kind: Kind): string => {
    if (open?.kind === kind) return '';
    let out = open === undefined ? '' : closeItem('completed');
    open = { kind, text: '' };
    out += added(item(kind, started!.id, done.length, 'in_progress', []));
    return out + partEvent(kind, PART_EVENTS[kind].added, { part: part(kind, '') });
  };
  /** Text of `kind`, into the open item of that kind. */
  const delta = (kind: Kind, text: string): string => {
    let out = openKind(kind);
    (open as { text: string }).text += text;
    out += partEvent(
      kind,
      PART_EVENTS[kind].delta,
      kind === 'message' ? { delta: text, logprobs: [] } : { delta: text },
    );
    return out;
  };
  /** One streamed tool-call delta: a new call opens its item, arguments go into the open one. */
  const callDelta = (raw: unknown): string => {
    const tc = isRecord(raw) ? raw : {};
    const index = typeof tc['index'] === 'number' ? tc['index'] : calls;
    let out = '';
    let piece: string;
    if (open?.kind === 'call' && open.index === index) piece = argumentsText(tc);
    else {
      if (open !== undefined) out += closeItem('completed');
      const call = fnCall(tc, started!.id, calls++);
      // The first delta may hold arguments too (Ollama sends each call whole).
      piece = call.args;
      call.args = '';
      open = { kind: 'call', index, call };
      out += added(callItem(call, 'in_progress'));
    }
    if (piece === '') return out;
    open.call.args += piece;
    const fields = { item_id: open.call.itemId, output_index: done.length, delta: piece };
    return out + event('response.function_call_arguments.delta', fields);
  };
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk: (c: ChatChunk) => {
      let out = started === undefined ? start(c.id, c.created, c.model) : '';
      const ch = c.choices[0];
      if (ch?.finish_reason) finish = ch.finish_reason;
      if (c.usage) usage = tokensOf(c.usage);
      const reasoning = ch?.delta.reasoning;
      if (reasoning) out += delta(thinking, reasoning);
      const text = ch?.delta.content;
      if (typeof text === 'string' && text !== '') out += delta('message', text);
      for (const tc of ch?.delta.tool_calls ?? []) out += callDelta(tc);
      return out;
    },
    error: (e: HttpError) => {
      const { code, message } = e.body().error;
      let out = started === undefined ? startFallback() : '';
      if (open !== undefined) out += closeItem('incomplete');
      const s = started!;
      const failed = responseObject(s.id, s.createdAt, s.model, echo, 'failed', done);
      failed['error'] = { code, message };
      return out + event('response.failed', { response: failed });
    },
    end: (meta: RequestMeta | undefined) => {
      let out = started === undefined ? startFallback() : '';
      // A message item, if empty, unless the model called a function.
      if (calls === 0) out += openKind('message');
      if (open !== undefined) out += closeItem('completed');
      const s = started!;
      const tokens =
        usage ??
        (meta?.promptTokens !== undefined || meta?.outputTokens !== undefined
          ? { input: meta.promptTokens ?? 0, output: meta.outputTokens ?? 0 }
          : undefined);
      const status = finishedStatus(finish);
      completed?.(done);
      return (
        out +
        event('response.completed', {
          response: responseObject(s.id, s.createdAt, s.model, echo, status, done, tokens),
        })
      );
    },
    keepAlive: ': keep-alive\n\n',
  };
}
