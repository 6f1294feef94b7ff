import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LatencyHistogram } from '../core/histogram.ts';
import type { SelfCheck } from './types.ts';

/** What the process looked like while a level ran. */
export interface ProcessLoad {
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Percent of one core used (user + system) over the wall time. */
  cpuPercent: number;
}

/** Starts watching the process; the returned function stops and reports. Injected in tests. */
export type ProcessMonitor = () => () => ProcessLoad;

/** Event-loop delay (perf_hooks, 5 ms sampling) and process CPU time. */
export const processMonitor: ProcessMonitor = () => {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    h.disable();
    const cpu = process.cpuUsage(cpu0);
    const wall = Math.max(1e-6, performance.now() - t0);
    return {
      // The histogram is in ns and includes the 5 ms sampling interval itself only as an offset.
      eventLoopDelayP99Ms: h.count > 0 ? h.percentile(99) / 1e6 : 0,
      eventLoopDelayMaxMs: h.count > 0 ? h.max / 1e6 : 0,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    };
  };
};

/**
 * Judges whether the load generator, not the fleet, limited a level. Lag is measured against
 * what matters: a 5 ms hiccup is noise for a 2 s LLM request but dominates a 1 ms one, so the
 * bounds are relative to the level's median latency with an absolute floor.
 */
export function judgeSelfCheck(
  load: ProcessLoad,
  dispatchLagMs: readonly number[],
  medianE2eMs: number,
): SelfCheck {
  const h = new LatencyHistogram();
  for (const l of dispatchLagMs) h.record(l);
  const lagP99 = h.percentile(99);
  const bound = Math.max(20, 0.1 * medianE2eMs);
  const reasons: string[] = [];
  if (lagP99 > bound)
    reasons.push(
      `the load generator sent requests late (dispatch lag p99 ${lagP99.toFixed(1)} ms > ${bound.toFixed(0)} ms)`,
    );
  if (load.eventLoopDelayP99Ms > Math.max(50, bound))
    reasons.push(
      `the benchmark's event loop was blocked (delay p99 ${load.eventLoopDelayP99Ms.toFixed(1)} ms)`,
    );
  if (load.cpuPercent > 95)
    reasons.push(
      `the benchmark process used ${load.cpuPercent.toFixed(0)}% of a CPU core: it was the bottleneck`,
    );
  return {
    valid: reasons.length === 0,
    event_loop_delay_p99_ms: round(load.eventLoopDelayP99Ms, 2),
    event_loop_delay_max_ms: round(load.eventLoopDelayMaxMs, 2),
    dispatch_lag_p99_ms: round(lagP99, 3),
    client_cpu_percent: round(load.cpuPercent, 1),
    reasons,
  };
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
