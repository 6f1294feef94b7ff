import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';

type Json = Record<string, unknown>;

/** How many items, how many bytes of them, and for how long the gateway keeps them. */
export interface ResponseItemLimits {
  maxItems: number;
  maxBytes: number;
  ttlMs: number;
}

export const RESPONSE_ITEM_LIMITS: ResponseItemLimits = {
  maxItems: 10_000,
  maxBytes: 32 * 1024 * 1024,
  ttlMs: 60 * 60_000,
};

/**
 * The output items of recent `/v1/responses` answers (messages, function calls, reasoning), by id,
 * so that a later request can refer to one with `{"type": "item_reference", "id": ...}` instead of
 * sending it again: the Vercel AI SDK's OpenAI provider does so for every earlier assistant turn
 * unless told `store: false`. Only items are kept, not responses (`previous_response_id` stays a
 * 400), in memory, oldest dropped first: at most `maxItems`, `maxBytes` of JSON, `ttlMs` old.
 *
 * Each item belongs to a scope (the API key that asked, hashed): ids come from the workers' answer
 * ids, which can be guessed, and one client must not read another's conversation by naming them.
 */
export class ResponseItems {
  readonly #clock: Clock;
  readonly #limits: ResponseItemLimits;
  /** In insertion order: the oldest first. */
  readonly #items = new Map<string, { item: Json; scope: string; at: number; bytes: number }>();
  #bytes = 0;

  constructor(clock: Clock, limits: ResponseItemLimits = RESPONSE_ITEM_LIMITS) {
    this.#clock = clock;
    this.#limits = limits;
  }

  get size(): number {
    return this.#items.size;
  }

  remember(items: readonly Json[], scope: string): void {
    const now = this.#clock.now();
    for (const item of items) {
      const id = item['id'];
      if (typeof id !== 'string') continue;
      this.#drop(id);
      const bytes = JSON.stringify(item).length;
      this.#items.set(id, { item, scope, at: now, bytes });
      this.#bytes += bytes;
    }
    const { maxItems, maxBytes, ttlMs } = this.#limits;
    for (const [id, e] of this.#items) {
      if (this.#items.size <= maxItems && this.#bytes <= maxBytes && now - e.at <= ttlMs) break;
      this.#drop(id);
    }
  }

  /** The item, or undefined when it was never given out in this scope, was dropped, or is too old. */
  get(id: string, scope: string): Json | undefined {
    const e = this.#items.get(id);
    if (e === undefined || e.scope !== scope) return undefined;
    if (this.#clock.now() - e.at > this.#limits.ttlMs) {
      this.#drop(id);
      return undefined;
    }
    return e.item;
  }

  #drop(id: string): void {
    const e = this.#items.get(id);
    if (e === undefined) return;
    this.#bytes -= e.bytes;
    this.#items.delete(id);
  }
}

/** The scope of a request's items: its API key, hashed (the key itself is not kept), or none. */
export function keyScope(key: string | undefined): string {
  return key === undefined ? '' : createHash('sha256').update(key).digest('base64');
}
