/*
 * One function call in chat completions' shape and in Ollama's. Chat: `{id, type: "function",
 * function: {name, arguments}}` with the arguments as JSON text. Ollama: `{function: {name,
 * arguments}}` with no id and the arguments as an object.
 */

import { isRecord } from './objects.ts';

type Json = Record<string, unknown>;

/** The `function` of a call in either shape ({} when there is none). */
export function functionOf(tc: unknown): Json {
  return isRecord(tc) && isRecord(tc['function']) ? tc['function'] : {};
}

/**
 * A call's arguments as JSON text: as they came when text, serialised when an object, `missing`
 * when there are none (a streamed call's first delta often has none).
 */
export function argumentsText(tc: unknown, missing = ''): string {
  const args = functionOf(tc)['arguments'];
  return args === undefined || args === null
    ? missing
    : typeof args === 'string'
      ? args
      : JSON.stringify(args);
}

/** A call in Ollama's shape: the arguments parsed, or kept as the text when it is not JSON. */
export function toOllamaToolCall(tc: unknown): { function: { name: unknown; arguments: unknown } } {
  const fn = functionOf(tc);
  let args = fn['arguments'];
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args === '' ? '{}' : args) as unknown;
    } catch {
      // not JSON: nothing the model wrote is dropped
    }
  }
  return { function: { name: fn['name'], arguments: args ?? {} } };
}

/** A call in chat's shape, with the id it is given (and its `index`, for a streamed delta). */
export function toChatToolCall(tc: unknown, id: string, index?: number): Json {
  const out: Json = index === undefined ? {} : { index };
  out['id'] = id;
  out['type'] = 'function';
  out['function'] = { name: functionOf(tc)['name'], arguments: argumentsText(tc, '{}') };
  return out;
}
