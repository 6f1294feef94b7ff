import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BIN } from './run.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
};
/** The node options on bin/fleet.mjs's `#!/usr/bin/env -S node ...` line. */
const shebangOptions = /^#!\/usr\/bin\/env -S node((?: --[\w=-]+)*)\n/.exec(readFileSync(BIN, 'utf8'))?.[1];

describe('bin/fleet.mjs', () => {
  it('runs as an executable through its #! line, with node options', async () => {
    expect(shebangOptions).toContain('--max-semi-space-size=');
    const { stdout } = await promisify(execFile)(BIN, ['--version'], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('is started by every npm script with the same node options as its #! line', () => {
    const scripts = Object.entries(pkg.scripts).filter(([, cmd]) => cmd.includes('bin/fleet.mjs'));
    expect(scripts.map(([name]) => name)).toEqual(expect.arrayContaining(['fleet', 'start']));
    for (const [name, cmd] of scripts)
      expect({ name, cmd }).toEqual({
        name,
        cmd: expect.stringContaining(`node${shebangOptions} bin/fleet.mjs`) as string,
      });
  });
});
