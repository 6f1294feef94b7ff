/**
 * `{ ...obj, ...fields }`: a shallow copy of `obj`'s own enumerable string keys, then `fields` on top
 * (same keys keep their place, new ones come last).
 *
 * Why not the spread itself: in Node 20's V8, an object literal that *starts* with a spread is made
 * by cloning the source's hidden class, and that clone cannot keep transitions. So every property
 * the literal adds that the source lacks (`{ ...req, stream: false }`) creates a new hidden class for
 * that one object: a runtime call, a map and its descriptors in old space (garbage until a full GC),
 * and megamorphic code wherever the result goes (JSON.stringify, property reads). Measured on the
 * gateway's path, 1,000 req/s: ~300 bytes of old-space garbage and a slow runtime call per request
 * (docs/performance.md "Gateway"). Copying into an empty literal keeps one hidden class for all.
 *
 * A key named `__proto__` (JSON.parse makes it an own property) is copied as data, as a spread does,
 * not through the prototype setter.
 */
export function copyWith<T extends object, F extends object>(obj: T, fields: F): T & F {
  const out: Record<string, unknown> = {};
  copyInto(out, obj);
  copyInto(out, fields);
  return out as T & F; // as TypeScript types `{ ...obj, ...fields }` for a generic T
}

function copyInto(out: Record<string, unknown>, from: object): void {
  const src = from as Record<string, unknown>;
  for (const k in src) {
    if (!Object.hasOwn(src, k)) continue;
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: src[k], enumerable: true, writable: true, configurable: true });
    else out[k] = src[k];
  }
}

/** A plain JSON object (not null, not an array): what a parsed body's fields are checked against. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string with something in it, else undefined: a field a server may leave empty or out. */
export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A finite number, else undefined: a numeric field a server may leave out or fill with anything. */
export function finiteNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
