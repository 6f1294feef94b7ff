import type { Scheduler } from './scheduler.ts';
import type { FleetStats, WorkerStats } from './types.ts';
import type { WorkerRuntime } from './worker.ts';

/** One stats model for the CLI, JSON results, Prometheus and the dashboard. */
export function snapshotStats(
  workers: readonly WorkerRuntime[],
  scheduler: Scheduler,
  now: number,
  since: number,
): FleetStats {
  const elapsedMs = Math.max(0, now - since);
  const started = workers.reduce((n, w) => n + w.started, 0);
  const ws = workers.map((w) => workerStats(w, now, started));
  const sum = (f: (s: WorkerStats) => number) => ws.reduce((a, s) => a + f(s), 0);
  return {
    elapsedMs,
    queue: { depth: scheduler.queued, maxDepth: scheduler.maxQueued, wait: scheduler.queueWait.summary() },
    totals: {
      started: sum((s) => s.started),
      completed: sum((s) => s.completed),
      failed: sum((s) => s.failed),
      retried: sum((s) => s.retried),
      cancelled: sum((s) => s.cancelled),
      hedges: sum((s) => s.hedges),
      hedgeWins: sum((s) => s.hedgeWins),
      inFlight: sum((s) => s.inFlight),
      cap: sum((s) => s.cap),
    },
    workers: ws,
  };
}

function workerStats(w: WorkerRuntime, now: number, fleetStarted: number): WorkerStats {
  const elapsed = Math.max(1e-9, now - w.statsSince);
  const { busyMs, slotMs } = w.integralsAt(now);
  return {
    id: w.id,
    type: w.config.type,
    url: w.config.baseUrl,
    model: w.config.model,
    models: [...w.models],
    state: w.state,
    reason: w.reason,
    circuit: w.circuit,
    inFlight: w.inFlight,
    cap: w.cap,
    capSource:
      w.config.capSource === 'default' && w.detectedSlots !== undefined ? 'probe' : w.config.capSource,
    detectedSlots: w.detectedSlots,
    maxInFlight: w.maxInFlight,
    started: w.started,
    share: fleetStarted === 0 ? 0 : w.started / fleetStarted,
    completed: w.completed,
    failed: w.failed,
    retried: w.retried,
    cancelled: w.cancelled,
    hedges: w.hedges,
    hedgeWins: w.hedgeWins,
    errors: Object.fromEntries(w.errors),
    latency: w.latency.summary(),
    ttft: w.ttft.summary(),
    promptTokens: w.promptTokens,
    outputTokens: w.outputTokens,
    tokensPerSecond: (w.outputTokens / elapsed) * 1000,
    utilisation: Math.min(1, busyMs / elapsed),
    slotOccupancy: Math.min(1, slotMs / (elapsed * Math.max(1, w.cap))),
    learned: { prefillTps: w.rates.prefillTps, decodeTps: w.rates.decodeTps, samples: w.rates.samples },
    lastProbeMs: w.lastProbeMs,
  };
}
