import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  Usage,
} from '../core/openai.ts';
import type { RequestMeta } from '../fleet/index.ts';
import { badRequest, type HttpError } from './errors.ts';
import type { StreamFormat } from './stream-out.ts';

/*
 * OpenAI's Responses API (`POST /v1/responses`) over the fleet's chat completions, for clients that
 * speak only it (the Vercel AI SDK's default, the OpenAI Agents SDK, `client.responses.create`).
 * Text in, text out: input messages (text and image parts), instructions, sampling, output length
 * and JSON output formats map onto a chat request; the answer comes back as a message item, after
 * a reasoning item when the model's server sends reasoning text. The gateway keeps no responses,
 * so `previous_response_id` is refused, and tools and other item types get a 400 that points to
 * /v1/chat/completions.
 */

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
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
    if (!isObj(p)) throw badRequest(`responses request: ${where}: expected an object with a "type"`, where);
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

/** The chat messages of `input` (a string, or a list of message items) after `instructions`. */
function messages(body: Json): ChatMessage[] {
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
    input.forEach((item: unknown, i) => {
      const at = `input[${i}]`;
      if (!isObj(item)) throw badRequest(`responses request: ${at}: expected a message object`, at);
      const type = item['type'] ?? 'message';
      if (type !== 'message')
        throw badRequest(
          `responses request: ${at}.type: ${JSON.stringify(type)} items are not supported by the gateway (only messages; for tools use /v1/chat/completions)`,
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
  const format = isObj(text) ? text['format'] : undefined;
  if (format === undefined) return undefined;
  if (!isObj(format)) throw badRequest('responses request: text.format: expected an object', 'text.format');
  if (format['type'] === 'text') return undefined;
  if (format['type'] === 'json_object') return { type: 'json_object' };
  if (format['type'] === 'json_schema') {
    if (typeof format['name'] !== 'string' || !isObj(format['schema']))
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
  };
}

/** Checks a `/v1/responses` body and turns it into a chat request; a 400 names what is wrong. */
export function parseResponses(body: unknown): ResponsesCall {
  if (!isObj(body)) throw badRequest('responses request: the body must be a JSON object');
  if (body['model'] !== undefined && typeof body['model'] !== 'string')
    throw badRequest('responses request: model: expected a string', 'model');
  if (body['previous_response_id'] !== undefined && body['previous_response_id'] !== null)
    throw badRequest(
      'responses request: previous_response_id: the gateway keeps no responses; send the whole conversation in input',
      'previous_response_id',
    );
  if (Array.isArray(body['tools']) && body['tools'].length > 0)
    throw badRequest(
      'responses request: tools: not supported on /v1/responses; use /v1/chat/completions',
      'tools',
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
  const chat: ChatRequest = { messages: messages(body) };
  if (typeof body['model'] === 'string') chat.model = body['model'];
  if (maxOut !== undefined) chat.max_tokens = maxOut;
  if (temperature !== undefined) chat.temperature = temperature;
  if (topP !== undefined) chat.top_p = topP;
  const format = responseFormat(body['text']);
  if (format !== undefined) chat['response_format'] = format;
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
    },
  };
}

interface Tokens {
  input: number;
  output: number;
  cached?: number | undefined;
}

const tokensOf = (u: Usage): Tokens => ({
  input: u.prompt_tokens,
  output: u.completion_tokens,
  cached: u.prompt_tokens_details?.cached_tokens,
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
    parallel_tool_calls: false,
    previous_response_id: null,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: 'none',
    tools: [],
    top_p: echo.top_p,
    truncation: 'disabled',
    usage:
      tokens === undefined
        ? null
        : {
            input_tokens: tokens.input,
            input_tokens_details: { cached_tokens: tokens.cached ?? 0 },
            output_tokens: tokens.output,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: tokens.input + tokens.output,
          },
    metadata: {},
  };
}

/** An output item: the answer's text (a message) or the model's reasoning text. */
type Kind = 'message' | 'reasoning';
type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** The one content part of an item, holding `text`. */
const part = (kind: Kind, text: string): Json =>
  kind === 'message' ? { type: 'output_text', text, annotations: [] } : { type: 'reasoning_text', text };

const itemId = (kind: Kind, id: string) => (kind === 'message' ? `msg_${id}` : `rs_${id}`);

function item(kind: Kind, id: string, status: ItemStatus, parts: Json[]): Json {
  return kind === 'message'
    ? { id: itemId(kind, id), type: 'message', status, role: 'assistant', content: parts }
    : { id: itemId(kind, id), type: 'reasoning', status, summary: [], content: parts };
}

/** A whole chat completion as a Response object: the reasoning item if any, then the message. */
export function toResponse(r: ChatCompletion, echo: ResponsesCall['echo']): Json {
  const choice = r.choices[0];
  const output: Json[] = [];
  const reasoning = choice?.message.reasoning;
  if (reasoning) output.push(item('reasoning', r.id, 'completed', [part('reasoning', reasoning)]));
  output.push(item('message', r.id, 'completed', [part('message', choice?.message.content ?? '')]));
  const usage = r.usage === undefined ? undefined : tokensOf(r.usage);
  return responseObject(r.id, r.created, r.model, echo, finishedStatus(choice?.finish_reason), output, usage);
}

/**
 * The Responses streaming events for a chat stream: created and in_progress; then, for reasoning
 * text if the model streams some and for the answer's text after it, an output item with its one
 * content part opened, a delta event per chunk (`response.reasoning_text.delta`,
 * `response.output_text.delta`) and the text, the part and the item closed; last
 * `response.completed` with the usage. There is always a message item, empty if no text came.
 * Every event carries its `sequence_number`. An error after the headers went out is
 * `response.failed`, holding the error and the text so far.
 */
export function responsesFormat(
  echo: ResponsesCall['echo'],
  fallback: { model: string; nowSec: () => number },
): StreamFormat {
  let seq = 0;
  let started: { id: string; createdAt: number; model: string } | undefined;
  /** Closed items, as they go into the final response. */
  const done: Json[] = [];
  let open: { kind: Kind; text: string } | undefined;
  let finish: string | null = null;
  let usage: Tokens | undefined;
  const event = (type: string, fields: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;
  /** An event about the open item's one content part. */
  const partEvent = (type: string, fields: Json) =>
    event(type, {
      item_id: itemId(open!.kind, started!.id),
      output_index: done.length,
      content_index: 0,
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
  const openItem = (kind: Kind): string => {
    open = { kind, text: '' };
    return (
      event('response.output_item.added', {
        output_index: done.length,
        item: item(kind, started!.id, 'in_progress', []),
      }) + partEvent('response.content_part.added', { part: part(kind, '') })
    );
  };
  const closeItem = (status: ItemStatus): string => {
    const { kind, text } = open!;
    const p = part(kind, text);
    const closed = item(kind, started!.id, status, [p]);
    const out =
      partEvent(kind === 'message' ? 'response.output_text.done' : 'response.reasoning_text.done', {
        text,
        ...(kind === 'message' ? { logprobs: [] } : {}),
      }) +
      partEvent('response.content_part.done', { part: p }) +
      event('response.output_item.done', { output_index: done.length, item: closed });
    done.push(closed);
    open = undefined;
    return out;
  };
  /** Makes the open item one of `kind`: closes the other kind's, opens a new one. */
  const openKind = (kind: Kind): string => {
    if (open?.kind === kind) return '';
    return (open === undefined ? '' : closeItem('completed')) + openItem(kind);
  };
  /** Text of `kind`, into the open item of that kind. */
  const delta = (kind: Kind, text: string): string => {
    const out = openKind(kind);
    open!.text += text;
    const type = kind === 'message' ? 'response.output_text.delta' : 'response.reasoning_text.delta';
    return out + partEvent(type, kind === 'message' ? { delta: text, logprobs: [] } : { delta: text });
  };
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk: (c: ChatChunk) => {
      let out = started === undefined ? start(c.id, c.created, c.model) : '';
      const ch = c.choices[0];
      if (ch?.finish_reason) finish = ch.finish_reason;
      if (c.usage) usage = tokensOf(c.usage);
      const reasoning = ch?.delta.reasoning;
      if (reasoning) out += delta('reasoning', reasoning);
      const text = ch?.delta.content;
      if (typeof text === 'string' && text !== '') out += delta('message', text);
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
      out += openKind('message') + closeItem('completed'); // always a message item, if empty
      const s = started!;
      const tokens =
        usage ??
        (meta?.promptTokens !== undefined || meta?.outputTokens !== undefined
          ? { input: meta.promptTokens ?? 0, output: meta.outputTokens ?? 0 }
          : undefined);
      const status = finishedStatus(finish);
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
