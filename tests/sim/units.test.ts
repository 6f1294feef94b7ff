import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../src/core/errors.ts';
import {
  parseSimSpecs,
  PrefixCache,
  resolveSimOptions,
  SIM_DEFAULTS,
  startSimWorker,
} from '../../src/sim/index.ts';

describe('PrefixCache', () => {
  it('finds the longest shared prefix with any cached prompt, in whole tokens', () => {
    const c = new PrefixCache(10_000);
    c.insert('aaaabbbbcccc', 3);
    c.insert('aaaabbbbdddd', 3);
    c.insert('zzzz', 1);
    expect(c.lookup('aaaabbbbccxx', 3)).toBe(2); // 10 shared chars -> 2 whole tokens
    expect(c.lookup('aaaabbbbddddeeee', 4)).toBe(3);
    expect(c.lookup('qqqq', 1)).toBe(0);
    // Never the whole prompt: the last token is always evaluated.
    expect(c.lookup('aaaabbbbcccc', 3)).toBe(2);
  });

  it('evicts least recently used prompts beyond its capacity, and counts a lookup as a use', () => {
    const c = new PrefixCache(10);
    c.insert('a'.repeat(16), 4);
    c.insert('b'.repeat(16), 4);
    expect(c.lookup(`${'a'.repeat(16)}x`, 5)).toBe(4); // touches the a-prompt
    c.insert('c'.repeat(16), 4); // 12 > 10: evicts the least recently used, the b-prompt
    expect(c.usedTokens).toBe(8);
    expect(c.lookup(`${'b'.repeat(16)}x`, 5)).toBe(0);
    expect(c.lookup(`${'a'.repeat(16)}x`, 5)).toBe(4);
    expect(c.size).toBe(2);
  });

  it('is disabled by capacity 0 and ignores prompts larger than the capacity', () => {
    const off = new PrefixCache(0);
    off.insert('abcdabcd', 2);
    expect(off.lookup('abcdabcd', 2)).toBe(0);
    const small = new PrefixCache(2);
    small.insert('abcdabcdabcd', 3);
    expect(small.size).toBe(0);
  });
});

describe('resolveSimOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveSimOptions();
    expect(o).toMatchObject({
      type: 'openai',
      id: 'sim-1',
      models: ['sim-model'],
      slots: 4,
      maxQueue: 64,
      prefillTps: 2000,
      decodeTps: 50,
      batchSlowdown: 0.05,
      cacheTokens: 32768,
      speed: 1,
      timeScale: 1,
      outputTokens: 32,
      coldStartMs: 0,
      contextLength: 8192,
      seed: 1,
      host: '127.0.0.1',
      port: 0,
    });
    expect(o.fixedLatencyMs).toBeUndefined();
    expect(SIM_DEFAULTS.streamTickMs).toBe(20);
  });

  it.each([
    [{ slots: 0 }, 'sim worker "sim-1": slots: expected an integer >= 1, got 0 (number)'],
    [
      { type: 'tgi' },
      'sim worker "sim-1": type: expected one of openai, lm_studio, ollama, llama_cpp, vllm, mlx, exo, got "tgi" (string)',
    ],
    [{ id: 'w', timeScale: -1 }, 'sim worker "w": timeScale: expected a number >= 0, got -1 (number)'],
    [{ models: [] }, 'sim worker "sim-1": models: expected a non-empty list of names'],
    [{ faults: { hangRate: 1.5 } }, 'faults.hangRate: expected a fraction from 0 to 1, got 1.5 (number)'],
    [{ decodeTps: 0 }, 'decodeTps: expected a number > 0 (or Infinity), got 0 (number)'],
    [{ port: 70000 }, 'port: expected an integer 0-65535, got 70000 (number)'],
  ])('rejects %j naming the field', (opts, message) => {
    let err: unknown;
    try {
      resolveSimOptions(opts as never);
    } catch (e) {
      err = e;
    }
    expect(isFleetError(err, 'FLEET_INPUT_INVALID')).toBe(true);
    expect((err as Error).message).toContain(message);
  });

  it('never echoes an API key in its errors', () => {
    expect(() => resolveSimOptions({ apiKey: '' })).toThrow(/apiKey: expected a non-empty string/);
  });

  it('startSimWorker rejects bad options before listening', async () => {
    await expect(startSimWorker({ slots: -1 })).rejects.toThrow(/slots/);
  });
});

describe('parseSimSpecs', () => {
  it('reads JSON or YAML, camelCase or snake_case, a list or {workers: [...]}', () => {
    const yaml = [
      'workers:',
      '  - id: fast',
      '    decode_tps: 80',
      '    faults: { error_rate: 0.1 }',
      '  - model: small',
      '',
    ].join('\n');
    expect(parseSimSpecs(yaml, 'sim.yaml')).toEqual([
      { id: 'fast', decodeTps: 80, faults: { errorRate: 0.1 } },
      { models: ['small'] },
    ]);
    expect(parseSimSpecs('[{"slots": 5, "timeScale": 0.1}]', 'sim.json')).toEqual([
      { slots: 5, timeScale: 0.1 },
    ]);
  });

  it('names the file, the worker and the key that is wrong', () => {
    expect(() => parseSimSpecs('[{"slot": 5}]', 'sim.json')).toThrow(
      /^sim\.json: workers\[0\]\.slot: unknown key/,
    );
    expect(() => parseSimSpecs('[{"faults": {"boom": 1}}]', 'f.json')).toThrow(
      /f\.json: workers\[0\]\.faults\.boom: unknown key/,
    );
    expect(() => parseSimSpecs('{"workers": []}', 'e.json')).toThrow(
      /e\.json: workers: expected a non-empty list/,
    );
    expect(() => parseSimSpecs('[{', 'bad.json')).toThrow(/bad\.json: parse:/);
  });
});
