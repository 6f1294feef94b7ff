/*
 * Where in a parsed JSON document something is wrong, for error messages: a validator's path as
 * `messages[0].role`, the value found there, and that value as a short bit of JSON.
 */

/** A path such as zod's `['messages', 0, 'role']` as `messages[0].role` ('' for the top level). */
export function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** The value at `path` in `root` (undefined when it is not there). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** A value as JSON, cut to `max` characters. */
export function preview(v: unknown, max = 60): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
