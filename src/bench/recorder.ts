import type { Clock } from '../core/clock.ts';
import { toFleetError } from '../core/errors.ts';
import type { ChatChunk, ChatRequest } from '../core/openai.ts';
import type { Fleet } from '../fleet/index.ts';
import type { BenchPrompt } from './types.ts';

/** What one request measured. Times are clock ms. */
export interface Sample {
  index: number;
  /** When it was due (open loop: the schedule; closed loop: when its caller was free). */
  scheduledAt: number;
  sentAt: number;
  endAt: number;
  ok: boolean;
  error?: string;
  worker: string | undefined;
  /** ms, scheduled send -> first content chunk (streams). */
  ttftMs?: number;
  /** ms, scheduled send -> last token. */
  e2eMs: number;
  /** ms per output token after the first. */
  tpotMs?: number;
  /** ms gaps between successive content chunks. */
  itlMs: number[];
  outputTokens: number;
  promptTokens?: number;
  attempts: number;
  queuedMs: number;
  chunks: number;
}

function hasContent(c: ChatChunk): boolean {
  for (const ch of c.choices) {
    const d = ch.delta;
    if (
      (typeof d.content === 'string' && d.content !== '') ||
      (d.reasoning !== undefined && d.reasoning !== '')
    )
      return true;
  }
  return false;
}

export interface SendOptions {
  fleet: Fleet;
  clock: Clock;
  prompt: BenchPrompt;
  maxTokens: number;
  stream: boolean;
  index: number;
  scheduledAt: number;
}

/**
 * Sends one request through the fleet and measures it (DESIGN.md "Measurement", vLLM's
 * definitions): TTFT = send -> first chunk with content; E2E = send -> last token;
 * TPOT = (E2E - TTFT) / (output tokens - 1); ITL = gaps between content chunks. "Send" is the
 * scheduled time, so time spent waiting for the client or the fleet's queue is never hidden.
 */
export async function sendAndRecord(o: SendOptions): Promise<Sample> {
  const { clock, fleet } = o;
  const req: ChatRequest = { messages: o.prompt.messages, max_tokens: o.prompt.maxTokens ?? o.maxTokens };
  const sentAt = clock.now();
  const base = { index: o.index, scheduledAt: o.scheduledAt, sentAt };
  if (!o.stream) {
    try {
      const r = await fleet.chat(req);
      const endAt = clock.now();
      return {
        ...base,
        endAt,
        ok: true,
        worker: r.worker,
        e2eMs: endAt - o.scheduledAt,
        itlMs: [],
        outputTokens: r.outputTokens ?? 0,
        ...(r.promptTokens === undefined ? {} : { promptTokens: r.promptTokens }),
        attempts: r.attempts,
        queuedMs: r.queuedMs,
        chunks: 0,
      };
    } catch (e) {
      return failure(base, clock.now(), o.scheduledAt, e, 0, []);
    }
  }
  const s = fleet.chatStream(req);
  let first: number | undefined;
  let last: number | undefined;
  let chunks = 0;
  let usageTokens: number | undefined;
  const itl: number[] = [];
  try {
    for await (const c of s) {
      if (c.usage) usageTokens = c.usage.completion_tokens;
      if (!hasContent(c)) continue;
      const now = clock.now();
      if (first === undefined) first = now;
      else if (last !== undefined) itl.push(now - last);
      last = now;
      chunks++;
    }
  } catch (e) {
    return failure(base, clock.now(), o.scheduledAt, e, chunks, itl, s.worker);
  }
  const endAt = clock.now();
  const meta = await s.meta;
  const out = usageTokens ?? meta.outputTokens ?? chunks;
  const e2eMs = endAt - o.scheduledAt;
  const sample: Sample = {
    ...base,
    endAt,
    ok: true,
    worker: meta.worker,
    e2eMs,
    itlMs: itl,
    outputTokens: out,
    ...(meta.promptTokens === undefined ? {} : { promptTokens: meta.promptTokens }),
    attempts: meta.attempts,
    queuedMs: meta.queuedMs,
    chunks,
  };
  if (first !== undefined) {
    sample.ttftMs = first - o.scheduledAt;
    if (out > 1) sample.tpotMs = (e2eMs - sample.ttftMs) / (out - 1);
  }
  return sample;
}

function failure(
  base: { index: number; scheduledAt: number; sentAt: number },
  endAt: number,
  scheduledAt: number,
  e: unknown,
  chunks: number,
  itl: number[],
  worker?: string,
): Sample {
  const err = toFleetError(e);
  return {
    ...base,
    endAt,
    ok: false,
    error: err.code,
    worker: err.worker ?? worker,
    e2eMs: endAt - scheduledAt,
    itlMs: itl,
    outputTokens: 0,
    attempts: 1,
    queuedMs: 0,
    chunks,
  };
}
