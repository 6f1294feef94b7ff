import type { Clock } from '../core/clock.ts';
import { toFleetError } from '../core/errors.ts';
import type { ChatMessage, Usage } from '../core/openai.ts';
import type { Fleet } from '../fleet/index.ts';
import type { TaskRecord } from './journal.ts';
import type { Task } from './plan.ts';
import { buildCombineMessages, buildMessages } from './template.ts';

export interface ExecuteContext {
  fleet: Fleet;
  clock: Clock;
  sharedSystem: string | undefined;
  model: string | undefined;
  /** Send affinity keys (the document) with every request. */
  affinity: boolean;
  signal: AbortSignal;
}

interface Answer {
  text: string;
  model: string | undefined;
  worker: string;
  usage: Usage | undefined;
  attempts: number;
  ttftMs: number | undefined;
  queuedMs: number;
}

/** One streamed request; `onFirstToken` fires with the worker once the model started answering. */
async function ask(
  ctx: ExecuteContext,
  task: Task,
  messages: ChatMessage[],
  affinityKey: string | undefined,
  onFirstToken?: (worker: string) => void,
  preferWorker?: string,
): Promise<Answer> {
  const req = {
    messages,
    max_tokens: task.prompt.maxTokens,
    ...(task.prompt.temperature === undefined ? {} : { temperature: task.prompt.temperature }),
  };
  const stream = ctx.fleet.chatStream(req, {
    priority: 'batch',
    signal: ctx.signal,
    expectedOutputTokens: task.prompt.maxTokens,
    ...(affinityKey === undefined ? {} : { affinityKey }),
    ...(preferWorker === undefined ? {} : { preferWorker }),
    ...(ctx.model === undefined ? {} : { model: ctx.model }),
  });
  let text = '';
  let model: string | undefined;
  let usage: Usage | undefined;
  let first = onFirstToken;
  for await (const chunk of stream) {
    model ??= chunk.model || undefined;
    if (chunk.usage) usage = chunk.usage;
    const delta = chunk.choices[0]?.delta;
    if (delta?.content) text += delta.content;
    if (first && (delta?.content || delta?.reasoning) && stream.worker !== undefined) {
      first(stream.worker);
      first = undefined;
    }
  }
  const meta = await stream.meta;
  return {
    text,
    model,
    worker: meta.worker,
    usage,
    attempts: meta.attempts,
    ttftMs: meta.ttftMs,
    queuedMs: meta.queuedMs,
  };
}

/**
 * Runs one task: one request, or for a chunked document one per part (each part its own affinity
 * key) and a combining request. Resolves to the record to journal, also on failure; rejects only
 * when `ctx.signal` was aborted (an interrupted task is not a result). `preferWorker` names the
 * worker for a single request (RequestOptions.preferWorker); a chunked task's parts go where the
 * fleet puts them.
 */
export async function executeTask(
  ctx: ExecuteContext,
  task: Task,
  onFirstToken?: (worker: string) => void,
  preferWorker?: string,
): Promise<TaskRecord> {
  const t0 = ctx.clock.now();
  const base = {
    taskId: task.id,
    file: task.doc.file,
    promptIndex: task.prompt.index,
    promptName: task.prompt.name,
    promptTemplate: task.prompt.template,
    prompt: task.shown,
    ...(task.notice === undefined ? {} : { notice: task.notice }),
  };
  const key = ctx.affinity ? `${task.doc.file}#${task.doc.hash.slice(0, 12)}` : undefined;
  const answers: Answer[] = [];
  const input = { prompt: task.prompt, sharedSystem: ctx.sharedSystem, vars: task.doc.vars };
  try {
    if (task.parts.length === 1) {
      const messages = buildMessages({
        ...input,
        content: task.parts[0]!,
        ...(task.truncated && task.notice !== undefined ? { notice: task.notice } : {}),
      });
      answers.push(await ask(ctx, task, messages, key, onFirstToken, preferWorker));
    } else {
      for (const [i, part] of task.parts.entries()) {
        const messages = buildMessages({
          ...input,
          content: part,
          part: { index: i, count: task.parts.length },
        });
        answers.push(await ask(ctx, task, messages, key === undefined ? undefined : `${key}#${i}`));
      }
      const combine = buildCombineMessages(
        input,
        answers.map((a) => a.text),
      );
      answers.push(await ask(ctx, task, combine, undefined));
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const e = toFleetError(err);
    return {
      ...base,
      ok: false,
      error: `${e.code}: ${e.message}`,
      ...(e.worker === undefined ? {} : { worker: e.worker }),
      requests: answers.length + 1,
      attempts: answers.reduce((n, a) => n + a.attempts, 0) + 1,
      latencyS: (ctx.clock.now() - t0) / 1000,
      queuedS: 0,
      timestamp: new Date(ctx.clock.wallNow()).toISOString(),
    };
  }
  const last = answers[answers.length - 1]!;
  const sum = (f: (u: Usage) => number | undefined) =>
    answers.reduce((n, a) => n + (a.usage ? (f(a.usage) ?? 0) : 0), 0);
  return {
    ...base,
    ok: true,
    response: last.text,
    ...(last.model === undefined ? {} : { model: last.model }),
    worker: last.worker,
    promptTokens: sum((u) => u.prompt_tokens),
    completionTokens: sum((u) => u.completion_tokens),
    cachedTokens: sum((u) => u.prompt_tokens_details?.cached_tokens),
    requests: answers.length,
    attempts: answers.reduce((n, a) => n + a.attempts, 0),
    latencyS: (ctx.clock.now() - t0) / 1000,
    ...(last.ttftMs === undefined ? {} : { ttftS: last.ttftMs / 1000 }),
    queuedS: answers.reduce((n, a) => n + a.queuedMs, 0) / 1000,
    timestamp: new Date(ctx.clock.wallNow()).toISOString(),
  };
}
