import cliProgress from 'cli-progress';
import type { BenchmarkRun, LevelStart } from './run.ts';

export interface ProgressOptions {
  /** Where progress goes (the CLI passes stderr, so stdout stays clean for results). */
  stream: NodeJS.WritableStream;
  /** A live bar when true; plain lines at every 25% of a level otherwise. */
  isTTY: boolean;
}

function label(e: LevelStart): string {
  if (e.phase === 'rate') return `rate ${e.rate ?? 0}/s`;
  if (e.phase === 'concurrency') return `concurrency ${e.concurrency}`;
  if (e.phase === 'solo') return `solo ${e.workers.join(',')}`;
  return `${e.workers.length} worker${e.workers.length === 1 ? '' : 's'}`;
}

/** Live progress of a run: requests done, req/s so far, errors. Listens to the run's events only. */
export function trackProgress(run: BenchmarkRun, o: ProgressOptions): void {
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let done = 0;
  let errors = 0;
  let t0 = 0;
  let name = '';
  let nextLine = 0;
  const rps = () => {
    const s = (performance.now() - t0) / 1000;
    return s > 0 ? (done / s).toFixed(1) : '0.0';
  };
  run.on('level:start', (e) => {
    total = e.total;
    done = errors = 0;
    t0 = performance.now();
    name = label(e);
    nextLine = Math.ceil(total / 4);
    if (o.isTTY) {
      bar = new cliProgress.SingleBar(
        {
          stream: o.stream,
          format: `${name.padEnd(16)} {bar} {value}/{total} | {rps} req/s | {errors} errors`,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { rps: '0.0', errors: 0 });
    }
  });
  run.on('request', (r) => {
    done++;
    if (!r.ok) errors++;
    if (bar) bar.update(done, { rps: rps(), errors });
    else if (done >= nextLine || done === total) {
      o.stream.write(`  [${name}] ${done}/${total} requests, ${rps()} req/s, ${errors} errors\n`);
      nextLine = Math.min(total, done + Math.ceil(total / 4));
    }
  });
  // First in line, so the bar is gone before anything prints the level's results under it.
  run.prependListener('level:end', () => {
    bar?.stop();
    bar = undefined;
  });
}
