import { createHash } from 'node:crypto';
import type { ChatMessage } from '../core/openai.ts';

/**
 * The affinity key of a chat request: a hash of every message but the last. Turns of one
 * conversation share it, so they go back to the worker whose prompt cache holds the history.
 * A single-message request has no shared prefix and gets no key (any worker is as good).
 */
export function affinityKeyOf(messages: readonly ChatMessage[]): string | undefined {
  if (messages.length < 2) return undefined;
  const h = createHash('sha1');
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    h.update(m.role);
    h.update('\0');
    h.update(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
    h.update('\x01');
  }
  return h.digest('base64url').slice(0, 16);
}
