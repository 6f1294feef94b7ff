import type { Backend } from '../backends/types.ts';
import { Cancel } from '../core/cancel.ts';
import type { ModelDetails } from '../core/capabilities.ts';
import type { Clock } from '../core/clock.ts';
import type { WorkerRuntime } from './worker.ts';

/** How long a server's answer is kept. */
const KEEP_MS = 5 * 60_000;
/** How long "cannot say" or a failure is kept: a worker that was loading is asked again soon. */
const KEEP_UNKNOWN_MS = 30_000;
/** Longest wait for one worker's answer. */
const ASK_TIMEOUT_MS = 5_000;

interface Kept {
  /** Clock time after which the worker is asked again (Infinity while the answer is awaited). */
  until: number;
  answer: Promise<ModelDetails | undefined>;
  /** The answer once it came (undefined before, and when the worker could not say). */
  settled: ModelDetails | undefined;
}

/**
 * What the fleet can say about a model (the gateway's Ollama `/api/show`): the workers serving it
 * are asked (Backend.describe) in parallel, and their answers merged.
 *
 * - Capabilities: those every worker that knows them has, so a client offered tools gets a worker
 *   that takes them. A worker's configured `capabilities` stand in for its server's answer; a
 *   worker whose server cannot say (vLLM, llama.cpp, MLX, exo) and has none configured is left out.
 * - Details (family, size, quantisation, context, template): from the first worker that has each.
 *
 * Workers that are down are not asked. Answers are kept per backend (a reloaded worker has a new
 * one): 5 minutes, or 30 s when the server could not say or failed.
 */
export class ModelDescriber {
  readonly #clock: Clock;
  readonly #kept = new WeakMap<Backend, Map<string, Kept>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Undefined when no worker could say anything about the model. */
  async describe(model: string, workers: readonly WorkerRuntime[]): Promise<ModelDetails | undefined> {
    const asked = askable(workers);
    return merge(asked, await Promise.all(asked.map((w) => this.#ask(w, model).answer)));
  }

  /**
   * What is known now, without waiting: the answers already in, merged as `describe` merges them.
   * Workers not asked yet (or not lately) are asked in the background, for the next call. For
   * listings (`/api/tags`, `/api/ps`), which clients call often and must not wait on a worker.
   */
  known(model: string, workers: readonly WorkerRuntime[]): ModelDetails | undefined {
    const asked = askable(workers);
    return merge(
      asked,
      asked.map((w) => this.#ask(w, model).settled),
    );
  }

  #ask(w: WorkerRuntime, model: string): Kept {
    let byModel = this.#kept.get(w.backend);
    if (byModel === undefined) this.#kept.set(w.backend, (byModel = new Map<string, Kept>()));
    const now = this.#clock.now();
    const kept = byModel.get(model);
    if (kept !== undefined && kept.until > now) return kept;
    const ac = new Cancel();
    const timer = this.#clock.setTimeout(() => ac.abort(new Error('no answer in time')), ASK_TIMEOUT_MS);
    const entry: Kept = { until: Infinity, answer: Promise.resolve(undefined), settled: kept?.settled };
    // A failure counts as "cannot say": asked again after KEEP_UNKNOWN_MS.
    entry.answer = w.backend
      .describe(model, { signal: ac })
      .catch(() => undefined)
      .then((d) => {
        this.#clock.clearTimeout(timer);
        entry.until = this.#clock.now() + (d?.capabilities !== undefined ? KEEP_MS : KEEP_UNKNOWN_MS);
        entry.settled = d;
        return d;
      });
    byModel.set(model, entry);
    return entry;
  }
}

/** The workers to ask: those up, and those down whose config says what their models can do. */
const askable = (workers: readonly WorkerRuntime[]) =>
  workers.filter((w) => w.state !== 'down' || w.config.capabilities !== undefined);

/**
 * The workers' answers as one: the capabilities all that know them have (a worker's configured
 * ones first), each detail from the first worker that has it.
 */
function merge(
  workers: readonly WorkerRuntime[],
  answers: ReadonlyArray<ModelDetails | undefined>,
): ModelDetails | undefined {
  let out: ModelDetails | undefined;
  let caps: string[] | undefined;
  workers.forEach((w, i) => {
    const a = answers[i];
    const known = w.config.capabilities ?? a?.capabilities;
    if (known !== undefined) caps = caps === undefined ? [...known] : caps.filter((c) => known.includes(c));
    // Each detail from the first worker that has it (the fields are never set to undefined).
    if (a !== undefined) out = Object.assign({}, a, out);
  });
  return caps === undefined ? out : Object.assign(out ?? {}, { capabilities: caps });
}
