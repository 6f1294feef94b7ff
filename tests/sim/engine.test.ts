import { describe, expect, it } from 'vitest';
import { Engine, type EngineConfig, type EngineJob, type Sequence } from '../../src/sim/engine.ts';
import { PrefixCache } from '../../src/sim/prefix-cache.ts';
import { ManualClock } from './helpers.ts';

/** The performance model, driven by a manual clock: exact times, no real waiting. */

interface Rec {
  job: EngineJob;
  seq?: Sequence;
  started?: number;
  first?: number;
  done?: number;
  deliveredAt?: number;
  ticks: number[];
}

function setup(cfg: Partial<EngineConfig> = {}, cacheTokens = 0) {
  const clock = new ManualClock();
  const engine = new Engine(
    {
      slots: 4,
      maxQueue: 8,
      prefillPerMs: Infinity,
      decodePerMs: 0.1, // 100 tokens/s
      batchSlowdown: 0,
      fixedMs: undefined,
      tickMs: 20,
      ...cfg,
    },
    clock,
    new PrefixCache(cacheTokens),
  );
  const job = (
    outputTokens: number,
    opts: { promptTokens?: number; text?: string; ticks?: boolean } = {},
  ): Rec => {
    const rec: Rec = { ticks: [] } as unknown as Rec;
    rec.job = {
      promptText: opts.text ?? '',
      promptTokens: opts.promptTokens ?? 10,
      outputTokens,
      hang: false,
      wantsTicks: opts.ticks ?? false,
      onStart: (s) => {
        rec.seq = s;
        rec.started = s.startedAt;
      },
      onFirstToken: (s) => {
        rec.first = s.firstTokenAt;
      },
      onTick: () => {
        rec.ticks.push(clock.now());
      },
      onDone: (s) => {
        rec.done = s.doneAt;
        rec.deliveredAt = clock.now();
      },
    };
    return rec;
  };
  return { clock, engine, job };
}

describe('sim engine (exact model times)', () => {
  it('prefills then decodes one sequence at the configured rates', () => {
    const { clock, engine, job } = setup({ prefillPerMs: 2, decodePerMs: 0.05 }); // 2000 tok/s, 50 tok/s
    const a = job(100, { promptTokens: 100 });
    const t0 = clock.now();
    engine.submit(a.job);
    clock.advance(5000);
    expect(a.started).toBe(t0);
    expect(a.first).toBeCloseTo(t0 + 50 + 20, 6); // 100 prompt tokens = 50 ms, first token = 20 ms
    expect(a.done).toBeCloseTo(t0 + 50 + 2000, 6); // 100 tokens at 50/s = 2 s
    expect(engine.counters.decodeTokens).toBe(100);
    expect(engine.counters.prefillTokens).toBe(100);
  });

  it('slows every decoding sequence by batchSlowdown per extra sequence, recomputed when n changes', () => {
    const { clock, engine, job } = setup({ batchSlowdown: 0.5 });
    const t0 = clock.now();
    const a = job(100);
    const b = job(50);
    engine.submit(a.job);
    clock.advance(200); // A alone: 20 tokens
    engine.submit(b.job);
    expect(engine.tokensOf(a.seq!)).toBe(20);
    clock.advance(5000);
    // Two running: 0.1 / 1.5 tok/ms each. B's 50 tokens take 750 ms; A then has 70 and runs alone.
    expect(b.done).toBeCloseTo(t0 + 200 + 750, 6);
    expect(a.done).toBeCloseTo(t0 + 950 + 300, 6);
  });

  it('runs `slots` at once, queues FIFO, refuses beyond maxQueue, and starts the next at the exact finish time', () => {
    const { clock, engine, job } = setup({ slots: 1, maxQueue: 1 });
    const t0 = clock.now();
    const a = job(10);
    const b = job(10);
    const c = job(10);
    expect(engine.submit(a.job)).toBeDefined();
    expect(engine.submit(b.job)).toBeDefined();
    expect(engine.submit(c.job)).toBeUndefined();
    expect(engine.running).toBe(1);
    expect(engine.queued).toBe(1);
    clock.advance(1000);
    expect(a.done).toBeCloseTo(t0 + 100, 6);
    expect(b.started).toBeCloseTo(t0 + 100, 6);
    expect(b.done).toBeCloseTo(t0 + 200, 6);
    expect(engine.counters.maxRunning).toBe(1);
    expect(engine.counters.maxQueued).toBe(1);
  });

  it('keeps exact times when a timer fires late (no drift)', () => {
    const { clock, engine, job } = setup({ slots: 1 });
    const t0 = clock.now();
    const a = job(10);
    const b = job(10);
    engine.submit(a.job);
    engine.submit(b.job);
    clock.jump(130); // the timer for A's end (t0+100) has not fired yet: it will fire 30 ms late
    clock.advance(0);
    expect(a.done).toBeCloseTo(t0 + 100, 6);
    expect(a.deliveredAt).toBeCloseTo(t0 + 130, 6);
    expect(b.started).toBeCloseTo(t0 + 100, 6); // B's slot was free from t0+100, not from the late timer
    clock.advance(1000);
    expect(b.done).toBeCloseTo(t0 + 200, 6);
  });

  it('frees a slot at once when a sequence is cancelled', () => {
    const { clock, engine, job } = setup({ slots: 1 });
    const t0 = clock.now();
    const a = job(100);
    const b = job(10);
    engine.submit(a.job);
    const bSeq = engine.submit(b.job)!;
    clock.advance(250);
    engine.cancel(a.seq!);
    expect(a.seq!.phase).toBe('cancelled');
    expect(engine.counters.decodeTokens).toBe(25);
    expect(bSeq.phase).toBe('decode');
    expect(b.started).toBeCloseTo(t0 + 250, 6);
    clock.advance(1000);
    expect(a.done).toBeUndefined();
    expect(b.done).toBeCloseTo(t0 + 350, 6);
  });

  it('removes a cancelled queued sequence from the queue', () => {
    const { clock, engine, job } = setup({ slots: 1 });
    const a = job(10);
    const b = job(10);
    const c = job(10);
    engine.submit(a.job);
    const bSeq = engine.submit(b.job)!;
    engine.submit(c.job);
    engine.cancel(bSeq);
    expect(engine.queued).toBe(1);
    clock.advance(1000);
    expect(b.started).toBeUndefined();
    expect(c.done).toBeDefined();
  });

  it('fixed latency: every request takes exactly fixedMs, tokens spread evenly, whatever the batch', () => {
    const { clock, engine, job } = setup({ fixedMs: 500, slots: 5 });
    const t0 = clock.now();
    const jobs = [job(10), job(40), job(1), job(100), job(7)];
    for (const j of jobs) engine.submit(j.job);
    clock.advance(250);
    expect(engine.tokensOf(jobs[1]!.seq!)).toBe(20);
    clock.advance(1000);
    for (const j of jobs) expect(j.done).toBeCloseTo(t0 + 500, 6);
    expect(jobs[1]!.first).toBeCloseTo(t0 + 500 / 40, 6);
  });

  it('instant mode answers synchronously without arming any timer', () => {
    const { clock, engine, job } = setup({ decodePerMs: Infinity, prefillPerMs: Infinity });
    const a = job(32);
    engine.submit(a.job);
    expect(a.done).toBe(clock.now());
    expect(clock.pending).toBe(0);
    expect(engine.running).toBe(0);
  });

  it('skips prefill for the cached prefix of a previous prompt', () => {
    const { clock, engine, job } = setup({ prefillPerMs: 1, decodePerMs: Infinity }, 100_000);
    const doc = 'x'.repeat(4000); // 1000 tokens
    const a = job(1, { text: doc + 'first question', promptTokens: 1004 });
    engine.submit(a.job);
    clock.advance(2000);
    const t1 = clock.now();
    const b = job(1, { text: doc + 'second question', promptTokens: 1004 });
    engine.submit(b.job);
    clock.advance(2000);
    expect(a.done! - a.started!).toBeCloseTo(1004, 6);
    expect(b.seq!.cachedTokens).toBe(1000);
    expect(b.done! - t1).toBeCloseTo(4, 6);
    expect(engine.counters.cacheHits).toBe(1);
    expect(engine.counters.cacheHitTokens).toBe(1000);
  });

  it('ticks streaming sequences on a coarse period and stops ticking when idle', () => {
    const { clock, engine, job } = setup({ decodePerMs: 0.05, tickMs: 20 });
    const a = job(10, { ticks: true }); // 200 ms of decode
    engine.submit(a.job);
    clock.advance(1000);
    expect(a.ticks.length).toBeGreaterThanOrEqual(8);
    expect(a.ticks.length).toBeLessThanOrEqual(11);
    expect(clock.pending).toBe(0);
  });
});
