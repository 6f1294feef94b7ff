/**
 * The simulated KV (prefix) cache: an LRU set of previous prompts with a capacity in tokens.
 * A new prompt skips prefill for the longest leading prefix it shares with ANY cached prompt.
 *
 * Exact and cheap: the prompts are also kept sorted, and the longest common prefix of a string
 * with any member of a sorted set is the longer of its common prefixes with its two neighbours
 * in sort order. So a lookup is one binary search and two prefix compares, however many
 * prompts are cached.
 *
 * Each entry costs its full token count (shared prefixes are not deduplicated), a simplification
 * that makes the cache slightly smaller than a paged one of the same capacity.
 */
export class PrefixCache {
  readonly #capacity: number;
  #used = 0;
  /** Recency order: first = least recently used. Value = the prompt's tokens. */
  readonly #lru = new Map<string, number>();
  readonly #sorted: string[] = [];

  /** @param capacityTokens 0 disables the cache. */
  constructor(capacityTokens: number) {
    this.#capacity = capacityTokens;
  }

  get usedTokens(): number {
    return this.#used;
  }

  get size(): number {
    return this.#lru.size;
  }

  /**
   * Tokens of `prompt` already cached: floor(shared chars / 4), and never the whole prompt (the
   * last token is always evaluated, as llama.cpp does, to produce the first output's logits).
   * Touches the matching entry, so a prefix in use stays cached.
   */
  lookup(prompt: string, promptTokens: number): number {
    if (this.#capacity === 0 || this.#sorted.length === 0 || promptTokens <= 0) return 0;
    const i = this.#search(prompt);
    let best = 0;
    let bestEntry: string | undefined;
    for (const j of [i - 1, i]) {
      const other = this.#sorted[j];
      if (other === undefined) continue;
      const n = commonPrefixLength(prompt, other);
      if (n > best) {
        best = n;
        bestEntry = other;
      }
    }
    if (bestEntry !== undefined) this.#touch(bestEntry);
    return Math.min(Math.floor(best / 4), promptTokens - 1);
  }

  /** Records a prompt whose KV now exists; evicts least recently used prompts beyond capacity. */
  insert(prompt: string, promptTokens: number): void {
    if (this.#capacity === 0 || promptTokens > this.#capacity || promptTokens <= 0) return;
    if (this.#lru.has(prompt)) {
      this.#touch(prompt);
      return;
    }
    this.#lru.set(prompt, promptTokens);
    this.#sorted.splice(this.#search(prompt), 0, prompt);
    this.#used += promptTokens;
    while (this.#used > this.#capacity) {
      const oldest = this.#lru.keys().next();
      if (oldest.done === true) break;
      this.#remove(oldest.value);
    }
  }

  clear(): void {
    this.#lru.clear();
    this.#sorted.length = 0;
    this.#used = 0;
  }

  #touch(prompt: string): void {
    const tokens = this.#lru.get(prompt);
    if (tokens === undefined) return;
    this.#lru.delete(prompt);
    this.#lru.set(prompt, tokens);
  }

  #remove(prompt: string): void {
    const tokens = this.#lru.get(prompt) ?? 0;
    this.#lru.delete(prompt);
    this.#used -= tokens;
    const i = this.#search(prompt);
    if (this.#sorted[i] === prompt) this.#sorted.splice(i, 1);
  }

  /** First index whose prompt is >= `s` (lower bound). */
  #search(s: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#sorted[mid] as string) < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
