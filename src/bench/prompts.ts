import { readFile } from 'node:fs/promises';
import { FleetError } from '../core/errors.ts';
import type { ChatMessage } from '../core/openai.ts';
import type { Random } from '../core/random.ts';
import type { BenchPrompt } from './types.ts';

/** Yields the next prompt; a counter makes each one unique. */
export type PromptSource = { describe: string; next(): BenchPrompt };

const CAPITALS = ['France', 'Japan', 'Kenya', 'Peru', 'Canada', 'Egypt', 'Norway', 'Chile', 'India', 'Spain'];
const TERMS = ['photosynthesis', 'inflation', 'a prime number', 'gravity', 'an algorithm', 'a metaphor'];
const TERMS2 = ['democracy', 'entropy', 'a vaccine', 'osmosis', 'a sonnet', 'latency'];

/**
 * The older tool's short-answer prompts (capitals, definitions, arithmetic: 10-50 token answers).
 * Each starts with the run id and a counter so no two share a prefix: a server's prompt cache can
 * not answer one from another and inflate the result.
 */
export function builtinPrompts(runId: string, random: Random): PromptSource {
  let n = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random.next() * xs.length)] as T;
  return {
    describe: 'built-in short-answer prompts',
    next() {
      const tag = `[${runId}#${++n}]`;
      const kind = Math.floor(random.next() * 3);
      let q: string;
      if (kind === 0) q = `What is the capital of ${pick(CAPITALS)}? Answer in one word.`;
      else if (kind === 1) q = `Define ${pick([...TERMS, ...TERMS2])} in one sentence.`;
      else {
        const a = 2 + Math.floor(random.next() * 97);
        const b = 2 + Math.floor(random.next() * 97);
        q = `What is ${a} + ${b}? Reply with the number only.`;
      }
      return { messages: [{ role: 'user', content: `${tag} ${q}` }] };
    },
  };
}

const WORDS = ['alpha', 'river', 'stone', 'cloud', 'maple', 'orbit', 'lemon', 'pixel', 'delta', 'ember'];

/**
 * Synthetic prompts of about `inputTokens` tokens (4 characters per token, the estimate used
 * everywhere) asking for `outputTokens` tokens. Unique leading tag per prompt, as above.
 */
export function syntheticPrompts(
  runId: string,
  random: Random,
  inputTokens: number,
  outputTokens: number | undefined,
): PromptSource {
  let n = 0;
  return {
    describe: `synthetic: ~${inputTokens} input tokens${outputTokens === undefined ? '' : `, ${outputTokens} output tokens`}`,
    next() {
      let text = `[${runId}#${++n}] Continue this text:`;
      const target = inputTokens * 4;
      while (text.length < target) text += ' ' + (WORDS[Math.floor(random.next() * WORDS.length)] ?? 'word');
      const p: BenchPrompt = { messages: [{ role: 'user', content: text.slice(0, Math.max(target, 1)) }] };
      if (outputTokens !== undefined) p.maxTokens = outputTokens;
      return p;
    },
  };
}

function bad(file: string, line: number, what: string): never {
  throw new FleetError('FLEET_INPUT_INVALID', `${file}:${line}: ${what}`);
}

/**
 * Reads `--prompts FILE.jsonl`: one JSON object per line, `{"prompt": "..."}` or
 * `{"messages": [...]}`, optionally `"max_tokens"`. Blank lines are skipped. Used in order and
 * cycled; each use gets a unique tag so repeats are not served from a cache.
 */
export async function filePrompts(file: string, runId: string): Promise<PromptSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `--prompts ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  const list: BenchPrompt[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      bad(file, i + 1, 'not valid JSON; expected {"prompt": "..."} or {"messages": [...]}');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      bad(file, i + 1, 'expected an object like {"prompt": "..."}');
    const o = v as Record<string, unknown>;
    let messages: ChatMessage[];
    if (typeof o['prompt'] === 'string' && o['prompt'] !== '') {
      messages = [{ role: 'user', content: o['prompt'] }];
    } else if (Array.isArray(o['messages']) && o['messages'].length > 0) {
      for (const [j, m] of (o['messages'] as unknown[]).entries()) {
        const mm = m as Record<string, unknown> | null;
        if (typeof mm !== 'object' || mm === null || typeof mm['role'] !== 'string')
          bad(file, i + 1, `messages[${j}]: expected {"role": ..., "content": ...}`);
      }
      messages = o['messages'] as ChatMessage[];
    } else {
      bad(file, i + 1, 'needs a non-empty "prompt" string or a "messages" list');
    }
    const p: BenchPrompt = { messages };
    const mt = o['max_tokens'];
    if (mt !== undefined) {
      if (typeof mt !== 'number' || !Number.isInteger(mt) || mt < 1)
        bad(file, i + 1, `max_tokens: expected an integer >= 1, got ${JSON.stringify(mt)}`);
      p.maxTokens = mt;
    }
    list.push(p);
  }
  if (list.length === 0) bad(file, 1, 'no prompts in the file');
  let n = 0;
  return {
    describe: `${file} (${list.length} prompts)`,
    next() {
      const base = list[n % list.length] as BenchPrompt;
      const tag = `[${runId}#${++n}] `;
      const [first, ...rest] = base.messages;
      const tagged =
        first && typeof first.content === 'string'
          ? ({ ...first, content: tag + first.content } as ChatMessage)
          : first;
      const p: BenchPrompt = { messages: tagged ? [tagged, ...rest] : [] };
      if (base.maxTokens !== undefined) p.maxTokens = base.maxTokens;
      return p;
    },
  };
}
