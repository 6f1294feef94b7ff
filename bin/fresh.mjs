// Whether dist/ (npm run build) is at least as new as every file in src/: bin/fleet.mjs runs it
// then, and the TypeScript sources through tsx otherwise, so an edit is never masked by an old build.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    const t = e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

export function distIsFresh() {
  if (process.env.FLEET_FROM_SOURCE === '1') return false;
  try {
    return statSync(new URL('dist/.built', root)).mtimeMs >= newestSource(new URL('src/', root));
  } catch {
    return false; // not built
  }
}
