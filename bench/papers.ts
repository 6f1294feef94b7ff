/** The synthetic papers of `npm run bench:batch` (and its virtual-time model, bench/batch-model.ts). */
const WORDS = [
  'model',
  'data',
  'result',
  'method',
  'signal',
  'network',
  'sample',
  'theory',
  'error',
  'value',
  'bound',
];

/** A paper of about `tokens` tokens (4 characters each), the same for the same seed. */
export function paper(seed: number, tokens: number): string {
  let s = `Paper ${seed}: on the ${WORDS[seed % WORDS.length]} of things.\n\n`;
  let x = seed * 7919 + 1;
  while (s.length < tokens * 4) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += WORDS[x % WORDS.length]! + (x % 23 === 0 ? '.\n\n' : ' ');
  }
  return s;
}
