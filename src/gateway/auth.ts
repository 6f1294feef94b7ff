import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks a presented API key against the configured ones in constant time: both sides are hashed
 * to 32 bytes first (so lengths never leak) and every configured key is compared, match or not.
 */
export class KeyChecker {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.filter((k) => k !== '').map(digest);
  }

  /** False when no key is configured: the gateway is open. */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  check(presented: string | undefined): boolean {
    if (presented === undefined || presented === '') return false;
    const d = digest(presented);
    let ok = false;
    for (const k of this.#digests) ok = timingSafeEqual(d, k) || ok;
    return ok;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The key a request presents: `Authorization: Bearer K`, else `x-api-key: K` (Anthropic-style clients). */
export function presentedKey(header: (name: string) => string | undefined): string | undefined {
  const auth = header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return m?.[1];
  }
  return header('x-api-key');
}

/** Hosts that only this machine can reach; anything else needs a key or an explicit `insecure`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
