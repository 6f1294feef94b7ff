import { describe, expect, it } from 'vitest';
import {
  backlogMs,
  finishMs,
  inEndgame,
  lightestFree,
  MAX_OPEN_FOR_SPILL,
  mustSpill,
  placeLastDocument,
  runningMean,
  worthMoving,
  worthSpilling,
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

  it('enters the endgame once the work left per slot is within a prefill and four answers', () => {
    // 15 slots, 15 in flight. 20 new documents (100 tasks): (20 x 6 + 107.5 x 3.6) / 15 = 33.8 s > 20.4 s.
    expect(inEndgame(est, { newDocs: 20, waiting: 100, inFlight: 15 }, 15)).toBe(false);
    // 6 new documents (30 tasks) and 30 released prompts: (6 x 6 + 67.5 x 3.6) / 15 = 18.6 s <= 6 + 4 x 3.6.
    expect(inEndgame(est, { newDocs: 6, waiting: 60, inFlight: 15 }, 15)).toBe(true);
    // The same work left on 5 slots is three times as long: not yet.
    expect(inEndgame(est, { newDocs: 6, waiting: 60, inFlight: 5 }, 5)).toBe(false);
    // Never before both times are measured, and never with no new document left.
    expect(inEndgame(undefined, { newDocs: 1, waiting: 5, inFlight: 0 }, 15)).toBe(false);
    expect(inEndgame(est, { newDocs: 0, waiting: 5, inFlight: 5 }, 15)).toBe(false);
  });

  it('counts a backlog at each worker’s own speed, and from what its requests have left when known', () => {
    // 5 in flight + 10 queued answers over 5 slots: 3 answers = 10.8 s.
    expect(backlogMs(worker({ queued: 10 }), est)).toBeCloseTo(10_800);
    // A worker measured at half the speed takes twice as long.
    const slow = { prefillMs: 12_000, answerMs: 7200 };
    expect(backlogMs(worker({ queued: 10, est: slow }), est)).toBeCloseTo(21_600);
    // Its requests almost done (0.5 s each left): 2.5 s + 7.2 s.
    expect(backlogMs(worker({ queued: 10, running: [500, 500, 500, 500, 500] }), est)).toBeCloseTo(7700);
    // A document prefilling counts a prefill more.
    expect(backlogMs(worker({ prefilling: 1 }), est)).toBeCloseTo(4800);
  });

  it('finds when the last slot is done, slot by slot', () => {
    // Two slots free in 1 s and 2 s, three free now: 6 queued answers fill 5 slots, the 6th waits
    // for the first slot to free again (at 3.6 s) and ends at 7.2 s.
    const w = worker({ inFlight: 2, freeSlots: 3, queued: 6, running: [1000, 2000] });
    expect(finishMs(w, est)).toBeCloseTo(7200);
    // One prompt fewer: every slot runs one answer; the one that started at 2 s ends last, at 5.6 s.
    expect(finishMs(w, est, { remove: 0 })).toBeCloseTo(5600);
    // Prompts held back until their document is prefilled start then.
    expect(finishMs(worker({ inFlight: 0, freeSlots: 5, queued: 2, readyIn: [4000, 4000] }), est)).toBe(7600);
    // A spill started now on a free slot.
    expect(finishMs(worker({ inFlight: 0, freeSlots: 5 }), est, { add: 9600 })).toBe(9600);
    expect(finishMs(worker({ inFlight: 0, freeSlots: 5 }), est)).toBe(0);
  });

  it('puts a last document on the free worker whose work ends first, or holds it', () => {
    const busy = worker({ id: 'a', freeSlots: 1, inFlight: 4, queued: 12 });
    const light = worker({ id: 'b', inFlight: 5, queued: 0 });
    // a: 16 answers over 5 slots = 11.5 s left; b: 3.6 s but no free slot: hold it for b.
    expect(placeLastDocument([busy, light], est)).toBeUndefined();
    // a: 7 answers = 5.0 s, within half an answer (1.8 s) of b's 3.6 s: a takes it now.
    expect(placeLastDocument([{ ...busy, queued: 3 }, light], est)).toBe('a');
    // A document prefilling on a counts too: 6 s more over 5 slots puts it out of reach.
    expect(placeLastDocument([{ ...busy, queued: 3, prefilling: 1 }, light], est)).toBeUndefined();
    // Among free workers, the one whose work ends first.
    expect(placeLastDocument([busy, { ...light, freeSlots: 1, inFlight: 4 }], est)).toBe('b');
    expect(lightestFree([busy, { ...light, freeSlots: 1, inFlight: 4 }], est)?.id).toBe('b');
    // A dead worker's (empty) queue does not count as the least loaded.
    expect(placeLastDocument([busy, { ...light, alive: false, inFlight: 0 }], est)).toBe('a');
    // Before anything is measured, the free worker with the lowest share of its slots in use.
    expect(lightestFree([busy, { ...light, id: 'c', freeSlots: 3, inFlight: 2 }], undefined)?.id).toBe('c');
    expect(lightestFree([{ ...busy, freeSlots: 0 }], est)).toBeUndefined();
  });

  it('sends a prompt away whatever it costs only when its worker is gone or nothing runs', () => {
    expect(mustSpill(worker({ alive: false }), est, false)).toBe(true);
    expect(mustSpill(undefined, est, false)).toBe(true);
    expect(mustSpill(worker({ queued: 1 }), est, true)).toBe(true);
    expect(mustSpill(worker({ queued: 40 }), est, false)).toBe(false);
    // Before anything is measured: more waiting than slots.
    expect(mustSpill(worker({ queued: 5 }), undefined, false)).toBe(false);
    expect(mustSpill(worker({ queued: 6 }), undefined, false)).toBe(true);
  });

  it('spills a prompt, paying a prefill, only when that ends the pair of workers sooner', () => {
    // The owner has 5 in flight and 20 queued: 18 s of work. An idle worker ends a spill in 9.6 s.
    const owner = worker({ id: 'o', queued: 20 });
    const idle = worker({ id: 'f', inFlight: 0, freeSlots: 5 });
    expect(worthSpilling(idle, owner, est)).toBe(true);
    // The owner ends in 7.2 s (5 queued): a spill (9.6 s) would end after it.
    expect(worthSpilling(idle, { ...owner, queued: 5 }, est)).toBe(false);
    // A free worker about as busy as the owner would end later than the owner by taking it.
    expect(worthSpilling({ ...idle, inFlight: 4, freeSlots: 1, queued: 19 }, owner, est)).toBe(false);
    // Not into a prefix cache that already holds more documents waiting than MAX_OPEN_FOR_SPILL.
    expect(worthSpilling({ ...idle, openDocs: MAX_OPEN_FOR_SPILL + 1 }, owner, est)).toBe(false);
    expect(worthSpilling({ ...idle, openDocs: MAX_OPEN_FOR_SPILL }, owner, est)).toBe(true);
  });

  it('moves a prompt whose document the free worker holds only when that ends the later of the two sooner', () => {
    // The owner's slots all run for 3 s more and 1 prompt waits: it ends at 6.6 s. A free worker
    // whose other slots end at 3 s runs it now and ends at 3.6 s.
    const owner = worker({ id: 'o', queued: 1, running: [3000, 3000, 3000, 3000, 3000] });
    const free = worker({ id: 'f', inFlight: 4, freeSlots: 1, running: [3000, 3000, 3000, 3000] });
    expect(worthMoving(free, owner, est)).toBe(true);
    // 10 waiting: two full rounds; taking one leaves 9, still two rounds: no sooner.
    expect(worthMoving(free, { ...owner, queued: 10 }, est)).toBe(false);
    // 6 waiting: taking one spares the owner its last round of a single prompt.
    expect(worthMoving(free, { ...owner, queued: 6 }, est)).toBe(true);
    // The free worker has a round of its own waiting: it would end later than the owner.
    expect(worthMoving({ ...free, queued: 5 }, owner, est)).toBe(false);
  });
});
