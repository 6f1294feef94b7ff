import { createRandom, seedFrom, type Random } from '../core/random.ts';

/**
 * Generated text. Every token is one three-letter word with a leading space (4 characters), so the
 * text of N tokens is about 4N characters and estimateTokens() of it gives back N: what the client
 * counts matches the usage the simulator reports.
 */
const WORDS = (
  'the cat sat ran big red dog hat sun sky sea map box cup pen key car bus owl fox ' +
  'bee ant elk yak emu cow pig hen ram ewe day one two six ten far new old hot icy ' +
  'wet dry fun joy art law war oak elm ivy fig nut pea yam jam tea pie bun egg ice'
).split(' ');
const TOKENS = WORDS.map((w) => ` ${w}`);

/** N tokens of deterministic text drawn from `random` (the first without its leading space). */
export function generateTokens(random: Random, n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = TOKENS[Math.floor(random.next() * TOKENS.length)] as string;
  if (n > 0) out[0] = (out[0] as string).slice(1);
  return out;
}

/** A function call's arguments as tokens of up to 4 characters (what estimateTokens counts). */
export function textTokens(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(text.slice(i, i + 4));
  return out;
}

export const EMBEDDING_DIMENSIONS = 384;

/** A deterministic unit vector for a text: the same input always embeds the same way. */
export function embedText(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const r = createRandom(seedFrom(text));
  const v = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = r.next() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) v[i] = Math.round(((v[i] as number) / norm) * 1e6) / 1e6;
  return v;
}
