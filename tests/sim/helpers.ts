/* eslint-disable @typescript-eslint/no-unsafe-return --
   these tests walk parsed JSON responses by path and let expect() judge the shape. */
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import { parseSse, type SseEvent } from '../../src/core/sse.ts';
import { request } from 'undici';
import { startSimWorker, type SimWorker, type SimWorkerOptions } from '../../src/sim/index.ts';

/** Workers started through `sim()` are closed by `closeAll()` (call it in afterEach). */
const open: SimWorker[] = [];

export async function sim(opts: SimWorkerOptions = {}): Promise<SimWorker> {
  const w = await startSimWorker(opts);
  open.push(w);
  return w;
}

export async function closeAll(): Promise<void> {
  const ws = open.splice(0);
  await Promise.all(ws.map((w) => w.close()));
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Real ms from send to the whole body. */
  ms: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, walked by path in tests
  json(): any;
}

/** One request through undici (keep-alive, far less client overhead than fetch). */
export async function http(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<HttpResult> {
  const t0 = performance.now();
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(url, {
    method: (init.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const text = await res.body.text();
  const ms = performance.now() - t0;
  return { status: res.statusCode, headers: res.headers, text, ms, json: () => JSON.parse(text) };
}

export function chat(content: string, extra: Record<string, unknown> = {}) {
  return { messages: [{ role: 'user', content }], ...extra };
}

export interface TimedEvent extends SseEvent {
  /** Real ms since the request was sent. */
  at: number;
}

/** Sends a streaming request and collects every SSE event with its arrival time. */
export async function streamEvents(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | undefined; events: TimedEvent[]; ms: number }> {
  const t0 = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const events: TimedEvent[] = [];
  for await (const e of parseSse(res.body)) events.push({ ...e, at: performance.now() - t0 });
  const ct = res.headers['content-type'];
  return {
    status: res.statusCode,
    contentType: Array.isArray(ct) ? ct[0] : ct,
    events,
    ms: performance.now() - t0,
  };
}

/** The content of every SSE `data:` chunk that carries text. */
export function contentOf(events: SseEvent[]): string {
  let s = '';
  for (const e of events) {
    if (e.event !== 'message' || e.data === '[DONE]') continue;
    const d = JSON.parse(e.data);
    s += d.choices?.[0]?.delta?.content ?? d.choices?.[0]?.text ?? '';
  }
  return s;
}

/** Parsed `data:` payloads of a stream, [DONE] excluded. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, walked by path in tests
export function chunks(events: SseEvent[]): any[] {
  return events.filter((e) => e.event === 'message' && e.data !== '[DONE]').map((e) => JSON.parse(e.data));
}

/** A manual clock: time moves only through advance(), firing due timers in order. */
export class ManualClock implements Clock {
  #now = 1000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return 1_700_000_000_000 + this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h !== undefined) this.#timers.delete(h as unknown as number);
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward by `ms`, firing every timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const t of this.#timers)
        if (t[1].at <= end && (first === undefined || t[1].at < first[1].at)) first = t;
      if (first === undefined) break;
      this.#timers.delete(first[0]);
      this.#now = Math.max(this.#now, first[1].at);
      first[1].fn();
    }
    this.#now = end;
  }
  /** Sets the time without firing timers (to model a late timer). */
  jump(ms: number): void {
    this.#now += ms;
  }
}

/** Opens `n` keep-alive connections to the worker, so timed requests pay no connect or first-use cost. */
export async function warm(url: string, n = 1): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => http(`${url}/sim/stats`)));
}
