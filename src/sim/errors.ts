import type { SimType } from './types.ts';

/**
 * Each server type's error bodies (reference/backends.md and the llama-server captures). Three
 * shapes exist in the wild: OpenAI `{"error":{message,type,param,code}}`, a bare `{"error":"..."}`
 * (Ollama native, MLX, vLLM's 401) and old vLLM's flat `{"object":"error",...}`; llama.cpp uses
 * `{"error":{code,message,type}}`.
 */
export type ErrorKind =
  | 'model_not_found'
  | 'unauthorized'
  | 'context_overflow'
  | 'busy'
  | 'loading'
  | 'bad_request'
  | 'invalid_json'
  | 'server'
  | 'no_route';

export interface ErrorInfo {
  kind: ErrorKind;
  /** For 'server': the status to answer. */
  status?: number;
  /** For 'bad_request' / 'invalid_json' / 'server': the message. */
  message?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  contextLength?: number;
  /** For 'no_route'. */
  method?: string;
  path?: string;
}

export interface ErrorResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Which of a type's APIs answers: Ollama's native API errors differ from its /v1 ones. */
export type ApiFlavor = 'openai' | 'native';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const LLAMA_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  500: 'server_error',
  501: 'not_supported_error',
  503: 'unavailable_error',
};

const VLLM_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  404: 'NotFoundError',
  429: 'TooManyRequestsError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

function statusOf(info: ErrorInfo): number {
  switch (info.kind) {
    case 'model_not_found':
    case 'no_route':
      return 404;
    case 'unauthorized':
      return 401;
    case 'context_overflow':
    case 'bad_request':
      return 400;
    case 'busy':
    case 'loading':
      return 503;
    case 'invalid_json':
      return 400;
    case 'server':
      return info.status ?? 500;
  }
}

/** A message in the words the given type uses. */
function messageOf(type: SimType, info: ErrorInfo): string {
  const model = info.model ?? '';
  const p = info.promptTokens ?? 0;
  const c = info.completionTokens ?? 0;
  const ctx = info.contextLength ?? 0;
  switch (info.kind) {
    case 'model_not_found':
      if (type === 'lm_studio') {
        return 'No models loaded. Please load a model in the developer page or use the `lms load` command.';
      }
      if (type === 'ollama') return `model "${model}" not found, try pulling it first`;
      if (type === 'llama_cpp') return `model '${model}' not found`;
      if (type === 'vllm') return `The model \`${model}\` does not exist.`;
      if (type === 'mlx') return `Failed to load model '${model}': repository not found`;
      return `The model \`${model}\` does not exist or you do not have access to it.`;
    case 'unauthorized':
      if (type === 'llama_cpp') return 'Invalid API Key';
      if (type === 'vllm' || type === 'mlx') return 'Unauthorized';
      if (type === 'ollama') return 'unauthorized';
      return 'Incorrect API key provided.';
    case 'context_overflow':
      if (type === 'llama_cpp') {
        return `request (${p + c} tokens) exceeds the available context size (${ctx} tokens), try increasing it`;
      }
      if (type === 'lm_studio') {
        return (
          `Trying to keep the first ${p} tokens when context the overflows. However, the model is loaded with ` +
          `context length of only ${ctx} tokens, which is not enough. Try to load the model with a larger ` +
          'context length, or provide a shorter input'
        );
      }
      if (type === 'ollama') return 'the input length exceeds the context length';
      if (type === 'mlx')
        return `Prompt (${p} tokens) plus max_tokens (${c}) exceeds the context length (${ctx})`;
      return (
        `This model's maximum context length is ${ctx} tokens. However, you requested ${p + c} tokens ` +
        `(${p} in the messages, ${c} in the completion). Please reduce the length of the messages or completion.`
      );
    case 'busy':
      if (type === 'ollama') return 'server busy, please try again.  maximum pending requests exceeded';
      if (type === 'llama_cpp') return 'server busy: all slots and the queue are full';
      return 'The server is overloaded, please try again later.';
    case 'loading':
      if (type === 'llama_cpp') return 'Loading model';
      return 'Model is loading, please try again later.';
    case 'no_route':
      return `Invalid URL (${info.method ?? 'GET'} ${info.path ?? '/'})`;
    default:
      return info.message ?? 'The server had an error while processing your request.';
  }
}

/** The complete error response of `type` for `info`. */
export function errorResponse(type: SimType, info: ErrorInfo, api: ApiFlavor = 'openai'): ErrorResponse {
  const status = info.kind === 'invalid_json' && type === 'llama_cpp' ? 500 : statusOf(info);
  const message = messageOf(type, info);
  const json = (body: unknown): ErrorResponse => ({
    status,
    contentType: JSON_TYPE,
    body: JSON.stringify(body),
  });
  if (info.kind === 'no_route') {
    if (type === 'lm_studio') {
      return {
        status: 200,
        contentType: TEXT_TYPE,
        body: `Unexpected endpoint or method. (${info.method ?? 'GET'} ${info.path ?? '/'}). Returning 200 anyway`,
      };
    }
    if (type === 'llama_cpp')
      return json({ error: { message: 'File Not Found', type: 'not_found_error', code: 404 } });
    if (type === 'ollama') return { status, contentType: TEXT_TYPE, body: '404 page not found' };
    if (type === 'vllm') return json({ detail: 'Not Found' });
    if (type === 'mlx') return { status, contentType: TEXT_TYPE, body: 'Not Found' };
  }
  switch (type) {
    case 'llama_cpp': {
      if (info.kind === 'context_overflow') {
        return json({
          error: {
            code: 400,
            message,
            type: 'exceed_context_size_error',
            n_prompt_tokens: info.promptTokens ?? 0,
            n_ctx: info.contextLength ?? 0,
          },
        });
      }
      return json({ error: { code: status, message, type: LLAMA_TYPES[status] ?? 'server_error' } });
    }
    case 'vllm':
      if (info.kind === 'unauthorized') return json({ error: 'Unauthorized' });
      return json({
        object: 'error',
        message,
        type: VLLM_TYPES[status] ?? 'InternalServerError',
        code: status,
      });
    case 'mlx':
      return json({ error: message });
    case 'ollama':
      if (api === 'native') return json({ error: message });
      return json({ error: { message, type: ollamaOpenAiType(status), param: null, code: null } });
    default:
      return json({ error: openAiError(type, info, status, message) });
  }
}

function ollamaOpenAiType(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 404) return 'not_found_error';
  return 'api_error';
}

function openAiError(type: SimType, info: ErrorInfo, status: number, message: string) {
  let errType = status >= 500 ? 'server_error' : 'invalid_request_error';
  let param: string | null = null;
  let code: string | null = null;
  if (info.kind === 'model_not_found') {
    param = 'model';
    code = type === 'lm_studio' ? null : 'model_not_found';
  } else if (info.kind === 'unauthorized') code = 'invalid_api_key';
  else if (info.kind === 'context_overflow') {
    param = 'messages';
    code = type === 'lm_studio' ? null : 'context_length_exceeded';
  } else if (info.kind === 'busy' || info.kind === 'loading') errType = 'server_error';
  return { message, type: errType, param, code };
}

/** The in-band error a stream carries when generation fails after the 200 went out. */
export function midStreamError(type: SimType, api: ApiFlavor, message: string): string {
  if (type === 'ollama' && api === 'native') return `${JSON.stringify({ error: message })}\n`;
  if (type === 'llama_cpp') {
    return `error: ${JSON.stringify({ code: 500, message, type: 'server_error' })}\n\n`;
  }
  if (type === 'vllm') {
    return `data: ${JSON.stringify({ object: 'error', message, type: 'InternalServerError', code: 500 })}\n\ndata: [DONE]\n\n`;
  }
  if (type === 'mlx') return `data: ${JSON.stringify({ error: message })}\n\n`;
  const errType = type === 'ollama' ? 'api_error' : 'server_error';
  return `data: ${JSON.stringify({ error: { message, type: errType, param: null, code: null } })}\n\n`;
}
