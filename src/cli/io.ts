import { readFileSync } from 'node:fs';

/** Exit codes of every `fleet` command. */
export const ExitCode = {
  Ok: 0,
  /** The job ran but something failed (unhealthy fleet, failed tasks). */
  Failure: 1,
  /** Bad input: flags, config, files. Nothing was sent. */
  Usage: 2,
  /** Interrupted by SIGINT. */
  Interrupted: 130,
} as const;

/** What commands may touch of the process: output streams, env, and the exit code they want. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  isTTY: boolean;
  /** Standard input (interactive commands). */
  input: NodeJS.ReadableStream;
  version: string;
  /** Set by a command that finished but wants a non-zero exit. */
  exitCode?: number;
}

/** For commands that run until stopped: the first SIGINT or SIGTERM, its listeners removed. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function processIo(): Io {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
    input: process.stdin,
    version: packageVersion(),
  };
}
