#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader: no build step between `npm ci` and `fleet`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
