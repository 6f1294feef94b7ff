import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tracked } from './admission.ts';
import { BadRequest, type Call } from './calls.ts';
import type { SimCore } from './context.ts';
import { errorResponse, type ApiFlavor, type ErrorInfo } from './errors.ts';
import { Exchange, type StreamFault } from './exchange.ts';
import { bearerToken, readBody, sendError } from './http.ts';
import type { Reply, WireFormat } from './reply.ts';
import { generateTokens, textTokens } from './text.ts';
import type { ResolvedSimOptions, SimOutcome, SimRequestLog } from './types.ts';

/** One inference endpoint: how to read its body and how to answer. */
export interface InferenceSpec {
  path: string;
  api: ApiFlavor;
  parse(body: unknown): Call;
  format: WireFormat;
  /** Ollama's native API insists on a model name. */
  requireModel?: boolean;
  /** Prefix of response ids (`chatcmpl-`, `cmpl-`, ...). */
  idPrefix: string;
}

/** The model a request gets, or undefined for the type's 404. */
export function resolveModel(o: ResolvedSimOptions, requested: string | undefined): string | undefined {
  const models = o.models;
  if (requested === undefined) return models[0];
  if (models.includes(requested)) return requested;
  if (o.type === 'ollama') {
    // Ollama names default their tag: `llama3` is `llama3:latest`.
    const alt = requested.includes(':') ? requested.replace(/:latest$/, '') : `${requested}:latest`;
    if (models.includes(alt)) return alt;
  }
  // A single-model llama-server ignores the requested name (captures/chat-unknown-model.txt).
  if (o.type === 'llama_cpp' && models.length === 1) return models[0];
  return undefined;
}

/**
 * Checks run in the order a real server runs them (auth, body, model, context), then one seeded
 * fault draw, then the engine. Every path ends the request's log entry exactly once.
 */
export function serveInference(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  spec: InferenceSpec,
): void {
  const o = core.o;
  const entry: SimRequestLog = {
    id: core.nextRequestId(),
    model: '',
    path: spec.path,
    stream: false,
    arrivedAt: core.clock.now() - core.t0,
    promptTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    status: 0,
    outcome: 'ok',
  };
  let ended = false;
  let exchange: Exchange | undefined;
  const tracked: Tracked = {
    req,
    gone: () => {
      if (exchange !== undefined) exchange.abort();
      else end('aborted', 0);
    },
    crashed: () => {
      if (exchange !== undefined) exchange.kill();
      else {
        end('dropped', 0);
        res.destroy();
      }
    },
  };
  core.admission.track(tracked);
  const end = (outcome: SimOutcome, status: number) => {
    if (ended) return;
    ended = true;
    core.admission.untrack(tracked);
    entry.outcome = outcome;
    entry.status = status;
    entry.finishedAt ??= core.clock.now() - core.t0;
    core.recorder.finish(entry);
  };
  if (!core.admit()) return end('dropped', 0);
  const reject = (info: ErrorInfo, outcome: SimOutcome = 'rejected') => {
    const e = errorResponse(o.type, info, spec.api);
    sendError(res, e, o.type);
    end(outcome, e.status);
  };
  res.once('close', () => {
    if (!ended) tracked.gone();
  });
  readBody(req, (text) => {
    if (ended) return;
    if (o.apiKey !== undefined && bearerToken(req) !== o.apiKey) return reject({ kind: 'unauthorized' });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return reject({ kind: 'invalid_json', message: jsonErrorMessage(o.type, err) });
    }
    let call: Call;
    try {
      call = spec.parse(json);
    } catch (err) {
      if (err instanceof BadRequest) return reject({ kind: 'bad_request', message: err.message });
      throw err;
    }
    entry.stream = call.stream;
    entry.promptTokens = call.promptTokens;
    if (spec.requireModel === true && call.model === undefined) {
      return reject({ kind: 'bad_request', message: 'model is required' });
    }
    if (core.loading()) {
      // LM Studio has no "loading" answer: until the model is in memory, none is loaded.
      if (o.type === 'lm_studio')
        return reject({ kind: 'model_not_found', model: call.model ?? o.models[0] ?? '' });
      return reject({ kind: 'loading' });
    }
    const model = resolveModel(o, call.model);
    if (model === undefined) return reject({ kind: 'model_not_found', model: call.model ?? '' });
    entry.model = model;

    const ctx = o.contextLength;
    let prompt = call.promptTokens;
    const asked = call.maxTokens ?? 0;
    if (prompt + asked > ctx) {
      // Ollama silently drops the oldest context unless told `truncate: false`.
      // It keeps room for the answer it will generate.
      if (o.type === 'ollama' && call.truncate) {
        prompt = Math.max(0, Math.min(prompt, ctx - Math.min(o.outputTokens, call.maxTokens ?? Infinity)));
      } else {
        return reject({
          kind: 'context_overflow',
          promptTokens: prompt,
          completionTokens: asked,
          contextLength: ctx,
        });
      }
    }
    entry.promptTokens = prompt;

    const fault = drawFault(core);
    if (fault === 'error' || (fault === 'midstream' && !call.stream)) {
      const status = core.faults.errorStatus ?? 500;
      return reject({ kind: 'server', status, message: 'simulated server error' }, 'error');
    }

    // A function call's tokens are its arguments, and a JSON answer's its text, as long as they
    // are; a text answer's, the worker's output length. Any stops early at the request's
    // max_tokens or the context's end.
    const fixed = call.tool?.arguments ?? call.json;
    const fixedTokens = fixed === undefined ? undefined : textTokens(fixed);
    const limit = Math.min(call.maxTokens ?? Infinity, ctx - prompt);
    const n =
      call.kind === 'embedding' ? 0 : Math.max(0, Math.min(fixedTokens?.length ?? o.outputTokens, limit));
    const tokens = fixedTokens === undefined ? generateTokens(core.textRandom, n) : fixedTokens.slice(0, n);
    const whole = n === (fixedTokens?.length ?? o.outputTokens);
    const now = core.clock.now();
    const reply: Reply = {
      type: o.type,
      id: `${spec.idPrefix}${o.id}-${entry.id}`,
      created: Math.floor(core.clock.wallNow() / 1000),
      // Ollama echoes the name as asked (`llama3`, not `llama3:latest`).
      model: o.type === 'ollama' ? (call.model ?? model) : model,
      tokens,
      reasoning: call.kind === 'chat' && fixed === undefined ? Math.min(o.reasoningTokens, n) : 0,
      tool: call.tool === undefined ? undefined : { id: `call_${o.id}-${entry.id}`, name: call.tool.name },
      promptTokens: prompt,
      cachedTokens: 0,
      finishReason: !whole ? 'length' : call.tool === undefined ? 'stop' : 'tool_calls',
      includeUsage: call.includeUsage,
      inputs: call.inputs,
      base64: call.base64,
      dimensions: call.dimensions,
      arrivedAt: now,
      startedAt: now,
      prefillEndAt: now,
      doneAt: now,
      wallNow: () => core.clock.wallNow(),
    };
    const x = new Exchange({
      core,
      res,
      reply,
      format: spec.format,
      api: spec.api,
      stream: call.stream,
      fault,
      promptText: call.promptText,
      entry,
      onEnd: end,
    });
    exchange = x;
    // Admitted at the end of this event-loop turn, once clients that left are accounted for.
    core.admission.defer(() => {
      if (ended) return;
      const seq = core.engine.submit(x);
      if (seq === undefined) {
        exchange = undefined;
        return reject({ kind: 'busy' });
      }
      x.attach(seq);
    });
  });
}

/** One seeded draw per request that reached the engine's door; at most one fault. */
function drawFault(core: SimCore): StreamFault | 'error' {
  const f = core.faults;
  const u = core.faultRandom.next();
  let acc = f.errorRate ?? 0;
  if (u < acc) return 'error';
  if (u < (acc += f.hangRate ?? 0)) return 'hang';
  if (u < (acc += f.dropRate ?? 0)) return 'drop';
  if (u < (acc += f.malformedRate ?? 0)) return 'malformed';
  if (u < (acc += f.midStreamErrorRate ?? 0)) return 'midstream';
  return 'none';
}

function jsonErrorMessage(type: string, err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  if (type === 'llama_cpp') return `[json.exception.parse_error.101] parse error: ${detail}`;
  if (type === 'ollama') return `invalid request body: ${detail}`;
  return `We could not parse the JSON body of your request: ${detail}`;
}
