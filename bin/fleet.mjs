#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8 (MB): V8's young generation otherwise grows to 16 MB per semi-space under
// steady load and keeps it. `fleet serve` with 1,000 open streams peaked at 149-158 MB RSS with the
// default and 135-137 MB with 8 (alternating runs; over a day of runs, median ~137 MB), with the
// same added latency and throughput; 4 was worse (161 MB) (docs/performance.md "Gateway"). V8 sizes
// the young generation when the process starts, so it has to be a node option: here, in
// package.json's scripts, and for `node bin/fleet.mjs` by hand (or NODE_OPTIONS).
// Runs the compiled CLI from dist/ (`npm run build`; `npm ci` builds it through `prepare`) when it is
// up to date with src/; otherwise the TypeScript in src/ through tsx's loader. Same code either way:
// the build starts faster and needs ~35 MB less memory (no loader, no compiler in the process).
import { setFlagsFromString } from 'node:v8';
import { distIsFresh } from './fresh.mjs';

// No allocation-site pretenuring. Under steady load V8 decided to allocate some per-request
// objects straight in the old generation; those old copies then kept each request's young
// objects (buffers, exchanges) alive through every scavenge until a full GC. Measured with
// `npm run bench:gateway` (docs/performance.md "Gateway"): scavenge survivors 550 -> 120 KB,
// added p99 15-45 -> 2-4 ms, RSS peak with 1,000 streams ~195 -> ~165 MB. Set before any
// of our code runs; V8 reads the flag at each GC.
setFlagsFromString('--no-allocation-site-pretenuring');
// Scavenges on this thread alone. Our scavenges are small (~0.4 MB survives one at 1,000 req/s), and
// a helper thread must first get a CPU that the workers or the clients are using: at 1,000 req/s
// on 2 cores, scavenge pauses p50/p90 0.9/1.7 ms with helpers, 0.7/1.1 without, and the gateway's
// added p99 a median 0.81 -> 0.50 ms over 7 and 8 alternating runs (docs/performance.md,
// "Gateway", eighth sitting). Major GCs still mark concurrently.
setFlagsFromString('--no-parallel-scavenge');
// A full GC once the old generation is 1.5 times what the last one left, not V8's 1.1-4 times by
// its own measure. Under load, requests in flight at two scavenges are promoted and die there
// (~30 KB a scavenge at 64 concurrent); with V8's factor the old generation grew from 18 to 41 MB
// before a full GC took it back, and the RSS with it. With 1,000 streams open on top, the gateway
// peaked at 128-153 MB (8 runs) by where that cycle stood, and at 130-136 MB (3 runs) with this.
// Latency and CPU per request did not move (docs/performance.md, "Gateway", eighth sitting).
setFlagsFromString('--heap-growing-percent=50');

let main;
if (distIsFresh()) ({ main } = await import('../dist/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
