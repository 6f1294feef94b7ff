import type { Random } from './random.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A random id such as `chatcmpl-3fK...`, drawn from an injected Random. */
export function randomId(random: Random, prefix = '', length = 24): string {
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random.next() * ALPHABET.length)];
  return out;
}

/** A monotonically increasing id source (`req-1`, `req-2`, ...), cheap on hot paths. */
export function sequentialIds(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}
