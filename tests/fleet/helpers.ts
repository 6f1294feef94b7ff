import type { Backend, CallOptions, ProbeResult } from '../../src/backends/types.ts';
import type { ModelDetails } from '../../src/core/capabilities.ts';
import { FleetError } from '../../src/core/errors.ts';
import type { ChatChunk, ChatCompletion, ChatRequest } from '../../src/core/openai.ts';
import { defaultSettings } from '../../src/config/index.ts';
import type { Settings, WorkerConfig } from '../../src/config/types.ts';

/** One call seen by a ScriptedBackend; the test settles it. */
export interface PendingCall {
  req: ChatRequest;
  settled: boolean;
  signal: AbortSignal | undefined;
  resolve(text?: string): void;
  reject(err: FleetError): void;
}

/**
 * A Backend whose answers the test controls: each call waits until the test resolves or rejects
 * it (or `auto` answers it). Counts concurrency so tests can assert the cap.
 */
export class ScriptedBackend implements Backend {
  readonly type = 'openai';
  readonly calls: PendingCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  probeResult: ProbeResult = { state: 'ready', latencyMs: 1, models: ['m'] };
  auto: ((req: ChatRequest, n: number) => Promise<string> | string) | undefined;
  #n = 0;

  constructor(readonly id: string) {}

  chat(req: ChatRequest, opts: { signal?: AbortSignal } = {}): Promise<ChatCompletion> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = ++this.#n;
    return new Promise<ChatCompletion>((resolve, reject) => {
      const done = () => {
        if (call.settled) return false;
        call.settled = true;
        this.inFlight--;
        opts.signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (done()) reject(new FleetError('FLEET_ABORTED', 'aborted', { cause: opts.signal?.reason }));
      };
      const call: PendingCall = {
        req,
        settled: false,
        signal: opts.signal,
        resolve: (text = 'ok') => {
          if (done()) resolve(completion(text, this.id));
        },
        reject: (err) => {
          if (done()) reject(err);
        },
      };
      this.calls.push(call);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.auto) {
        Promise.resolve(this.auto(req, n)).then(
          (t) => call.resolve(t),
          (e: unknown) =>
            call.reject(e instanceof FleetError ? e : new FleetError('FLEET_UPSTREAM_SERVER', String(e))),
        );
      }
    });
  }

  async *chatStream(req: ChatRequest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<ChatChunk> {
    const c = await this.chat(req, opts);
    const text = c.choices[0]?.message.content ?? '';
    yield chunk({ role: 'assistant', content: null }, null);
    for (const word of text.split(' ')) yield chunk({ content: word }, null);
    yield { ...chunk({}, 'stop'), usage: c.usage! };
  }

  complete(): never {
    throw new Error('not used by these tests');
  }
  embed(): never {
    throw new Error('not used by these tests');
  }
  listModels() {
    return Promise.resolve([{ id: 'm', object: 'model' as const }]);
  }
  probe(): Promise<ProbeResult> {
    return Promise.resolve(this.probeResult);
  }
  /** What describe() answers (or throws, for an Error; 'hang': nothing until aborted), and how often it was asked. */
  details: ModelDetails | Error | 'hang' | undefined = undefined;
  describeCalls = 0;
  describe(_model: string, opts: CallOptions = {}): Promise<ModelDetails | undefined> {
    this.describeCalls++;
    const d = this.details;
    if (d === 'hang')
      return new Promise((_resolve, reject) =>
        opts.signal?.addEventListener('abort', () =>
          reject(new Error('aborted', { cause: opts.signal!.reason })),
        ),
      );
    return d instanceof Error ? Promise.reject(d) : Promise.resolve(d);
  }
  close() {
    return Promise.resolve();
  }

  /** Calls not yet settled, oldest first. */
  open(): PendingCall[] {
    return this.calls.filter((c) => !c.settled);
  }
}

function completion(text: string, worker: string): ChatCompletion {
  return {
    id: `c-${worker}`,
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: 10,
      completion_tokens: text.split(' ').length,
      total_tokens: 10 + text.split(' ').length,
    },
  };
}

function chunk(delta: ChatChunk['choices'][number]['delta'], finish: string | null): ChatChunk {
  return {
    id: 'x',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The config's defaults, with active probes off unless a test turns them on. */
export function settings(over: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), healthCheckInterval: 0, ...over };
}

export function worker(id: string, over: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    id,
    type: 'openai',
    host: '127.0.0.1',
    port: 1,
    baseUrl: 'http://127.0.0.1:1',
    model: 'm',
    models: ['m'],
    maxConcurrentRequests: 2,
    capSource: 'config',
    weight: 1,
    api: 'openai',
    timeouts: { connectMs: 1000, firstTokenMs: 1000, stallMs: 1000, totalMs: 1000 },
    ...over,
  };
}

export const hello: ChatRequest = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 };

/** Lets pending promise callbacks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setImmediate(r));
}
