// npm run build: compiles src/ to dist/ (tsc, tsconfig.build.json), copies the dashboard's static
// assets, and writes dist/.built last, which bin/fleet.mjs compares with the sources' times.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(new URL('dist/', root), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
cpSync(new URL('src/dashboard/assets/', root), new URL('dist/dashboard/assets/', root), { recursive: true });
writeFileSync(new URL('dist/.built', root), `${new Date().toISOString()}\n`);
