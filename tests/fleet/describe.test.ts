import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.ts';
import { Fleet } from '../../src/fleet/fleet.ts';
import type { WorkerConfig } from '../../src/config/types.ts';
import { ManualClock } from '../sim/helpers.ts';
import { flush, ScriptedBackend, settings, worker } from './helpers.ts';

function makeFleet(workers: WorkerConfig[]) {
  const clock = new ManualClock();
  const backends = new Map<string, ScriptedBackend>();
  const fleet = new Fleet(
    { workers, settings: settings() },
    {
      clock,
      random: createRandom(1),
      probe: false,
      createBackend: (w) => {
        const b = new ScriptedBackend(w.id);
        backends.set(w.id, b);
        return b;
      },
    },
  );
  return { fleet, clock, b: (id: string) => backends.get(id)! };
}

describe('Fleet.describeModel', () => {
  it('keeps an answer 5 minutes, and "cannot say" or a failure 30 s', async () => {
    const { fleet, clock, b } = makeFleet([worker('a')]);
    b('a').details = { capabilities: ['completion', 'tools'], family: 'qwen3' };
    expect(await fleet.describeModel('m')).toEqual({
      capabilities: ['completion', 'tools'],
      family: 'qwen3',
    });
    clock.advance(4 * 60_000);
    b('a').details = { capabilities: ['completion'] };
    expect((await fleet.describeModel('m'))?.capabilities).toEqual(['completion', 'tools']);
    expect(b('a').describeCalls).toBe(1);
    clock.advance(61_000);
    expect((await fleet.describeModel('m'))?.capabilities).toEqual(['completion']);
    expect(b('a').describeCalls).toBe(2);

    clock.advance(5 * 60_000 + 1);
    b('a').details = new Error('connection refused');
    expect(await fleet.describeModel('m')).toBeUndefined();
    b('a').details = { capabilities: ['completion', 'vision'] };
    clock.advance(29_000);
    expect(await fleet.describeModel('m')).toBeUndefined();
    clock.advance(1_001);
    expect((await fleet.describeModel('m'))?.capabilities).toEqual(['completion', 'vision']);
    expect(b('a').describeCalls).toBe(4);
  });

  it('asks each worker once while an answer is awaited, and gives up on one after 5 s', async () => {
    const { fleet, clock, b } = makeFleet([worker('a'), worker('b')]);
    b('a').details = 'hang';
    b('b').details = { capabilities: ['completion', 'tools'], contextLength: 8192 };
    const first = fleet.describeModel('m');
    const second = fleet.describeModel('m');
    await flush();
    expect(b('a').describeCalls).toBe(1);
    clock.advance(5_000);
    // The silent worker is left out; the other's answer stands alone.
    expect(await first).toEqual({ capabilities: ['completion', 'tools'], contextLength: 8192 });
    expect(await second).toEqual(await first);
    expect(clock.pending).toBe(0);
  });

  it("merges the workers' answers: capabilities all of them have, each detail from the first that has it", async () => {
    const { fleet, b } = makeFleet([
      worker('a'),
      worker('b'),
      worker('c', { capabilities: ['completion', 'tools', 'vision'] }),
      worker('d'),
    ]);
    b('a').details = { capabilities: ['completion', 'tools', 'thinking'], family: 'qwen3' };
    b('b').details = { family: 'other', parameterSize: '8B' }; // cannot say what it can do
    b('c').details = { capabilities: ['completion'] }; // its config says more, and counts
    b('d').details = undefined;
    expect(await fleet.describeModel('m')).toEqual({
      capabilities: ['completion', 'tools'],
      family: 'qwen3',
      parameterSize: '8B',
    });
  });

  it('known() never waits: what has come so far, and the workers asked for next time', async () => {
    const { fleet, clock, b } = makeFleet([worker('a')]);
    b('a').details = { capabilities: ['completion'], family: 'qwen3' };
    expect(fleet.knownModelDetails('m')).toBeUndefined();
    expect(b('a').describeCalls).toBe(1);
    await flush();
    expect(fleet.knownModelDetails('m')).toEqual({ capabilities: ['completion'], family: 'qwen3' });
    expect(b('a').describeCalls).toBe(1);
    // Once the answer is old, it is asked again; the old answer stands until the new one comes.
    clock.advance(5 * 60_000 + 1);
    b('a').details = 'hang';
    expect(fleet.knownModelDetails('m')?.family).toBe('qwen3');
    expect(b('a').describeCalls).toBe(2);
  });

  it('does not ask workers that are down, unless their config says', async () => {
    const { fleet, b } = makeFleet([worker('a'), worker('b', { capabilities: ['completion', 'embedding'] })]);
    for (const w of fleet.workers) w.state = 'down';
    b('a').details = { capabilities: ['completion', 'tools'] };
    expect(await fleet.describeModel('m')).toEqual({ capabilities: ['completion', 'embedding'] });
    expect(b('a').describeCalls).toBe(0);
    // Nobody can say: undefined (the gateway then says "completion").
    const { fleet: f2 } = makeFleet([worker('x')]);
    expect(await f2.describeModel('m')).toBeUndefined();
  });
});
