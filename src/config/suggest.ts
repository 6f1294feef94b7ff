/**
 * "Did you mean" for misspelt keys and types: a typo should cost the user one glance, not a
 * trip to the docs. Matches ignoring case and separators first (`maxConcurrentRequests`,
 * `llama.cpp`), then by edit distance.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const norm = normalise(input);
  const exact = candidates.find((c) => normalise(c) === norm);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(norm, normalise(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Short names tolerate fewer edits, so `id` never "suggests" `api`.
  const limit = Math.max(1, Math.min(3, Math.floor(norm.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

function normalise(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Edit distance counting a swap of neighbours as one edit (`prot` -> `port`): optimal string alignment. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
