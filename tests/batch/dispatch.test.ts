import { describe, expect, it } from 'vitest';
import {
  freeSlotOnLeastLoaded,
  inEndgame,
  runningMean,
  shouldSpill,
  type WorkerLoad,
} from '../../src/batch/dispatch.ts';

// The guide's job on Mac-Studio-like workers: 6 s to prefill a paper, 3.6 s per answer.
const est = { prefillMs: 6000, answerMs: 3600 };
const worker = (over: Partial<WorkerLoad> = {}): WorkerLoad => ({
  id: 'w1',
  alive: true,
  cap: 5,
  inFlight: 5,
  freeSlots: 0,
  queued: 0,
  prefilling: 0,
  ...over,
});

describe('batch dispatch', () => {
  it('keeps a running mean', () => {
    const m = runningMean();
    for (const x of [2, 4, 9]) m.add(x);
    expect(m.n).toBe(3);
    expect(m.mean).toBe(5);
  });

  it('enters the endgame once the work left per slot is within a new document critical path', () => {
    // 15 slots, 15 in flight. 20 new documents (100 tasks): (20 x 6 + 107.5 x 3.6) / 15 = 33.8 s > 16.8 s.
    expect(inEndgame(est, { newDocs: 20, waiting: 100, inFlight: 15 }, 15)).toBe(false);
    // 3 new documents (15 tasks) and 20 released prompts: (3 x 6 + 42.5 x 3.6) / 15 = 11.4 s <= 6 + 3 x 3.6.
    expect(inEndgame(est, { newDocs: 3, waiting: 35, inFlight: 15 }, 15)).toBe(true);
    // The same work left on 5 slots is three times as long: not yet.
    expect(inEndgame(est, { newDocs: 3, waiting: 35, inFlight: 5 }, 5)).toBe(false);
    // Never before both times are measured, and never with no new document left.
    expect(inEndgame(undefined, { newDocs: 1, waiting: 5, inFlight: 0 }, 15)).toBe(false);
    expect(inEndgame(est, { newDocs: 0, waiting: 5, inFlight: 5 }, 15)).toBe(false);
  });

  it('sends a last document only when a worker with a free slot has about the least work left', () => {
    const busy = worker({ id: 'a', freeSlots: 1, inFlight: 4, queued: 12 });
    const light = worker({ id: 'b', inFlight: 5, queued: 0 });
    // a: 16 answers over 5 slots = 11.5 s left; b: 3.6 s: a runs its own prompts, b takes the document.
    expect(freeSlotOnLeastLoaded([busy, light], est)).toBe(false);
    // a: 7 answers = 5.0 s, within half an answer (1.8 s) of b's 3.6 s.
    expect(freeSlotOnLeastLoaded([{ ...busy, queued: 3 }, light], est)).toBe(true);
    // A document prefilling on a counts too: 6 s more over 5 slots puts it out of reach.
    expect(freeSlotOnLeastLoaded([{ ...busy, queued: 3, prefilling: 1 }, light], est)).toBe(false);
    // One free worker about as light as the least loaded is enough.
    expect(freeSlotOnLeastLoaded([busy, { ...light, freeSlots: 1, inFlight: 4 }], est)).toBe(true);
    // A dead worker's (empty) queue does not count as the least loaded.
    expect(freeSlotOnLeastLoaded([busy, { ...light, alive: false, inFlight: 0 }], est)).toBe(true);
  });

  it('spills a released prompt only when waiting clearly costs more than a prefill elsewhere', () => {
    // 10 waiting on 5 slots: 2 rounds (7.2 s) < 6 + 2 x 3.6: wait for the cache.
    expect(shouldSpill(worker({ queued: 10 }), est, false)).toBe(false);
    // 16 waiting: 4 rounds (14.4 s) > 13.2 s: run it elsewhere.
    expect(shouldSpill(worker({ queued: 16 }), est, false)).toBe(true);
    // A cheap prefill makes spilling worth it sooner.
    expect(shouldSpill(worker({ queued: 10 }), { prefillMs: 500, answerMs: 3600 }, false)).toBe(false);
    expect(shouldSpill(worker({ queued: 11 }), { prefillMs: 500, answerMs: 3600 }, false)).toBe(true);
    // Its worker is gone, or nothing at all is running: go.
    expect(shouldSpill(worker({ alive: false }), est, false)).toBe(true);
    expect(shouldSpill(undefined, est, false)).toBe(true);
    expect(shouldSpill(worker({ queued: 1 }), est, true)).toBe(true);
    // Before anything is measured: more waiting than slots.
    expect(shouldSpill(worker({ queued: 5 }), undefined, false)).toBe(false);
    expect(shouldSpill(worker({ queued: 6 }), undefined, false)).toBe(true);
  });
});
