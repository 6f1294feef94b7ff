import type { Command } from 'commander';
import { createFleet } from '../../fleet/index.ts';
import type { WorkerStats } from '../../fleet/types.ts';
import { ExitCode, type Io } from '../io.ts';
import { CONFIG_FLAG, loadFleetConfig, SETTINGS_FLAG, type ConfigFlags } from '../load.ts';

const TEST_PROMPT = 'Reply with one short sentence: what is the capital of France?';

interface TestFlags extends ConfigFlags {
  prompt: string;
  maxTokens: string;
  model?: string;
}

/** `fleet test`: probe every worker, print the older tool's lines, then send one request. */
export function registerTestCommand(program: Command, io: Io): void {
  program
    .command('test')
    .description('check every worker (reachable, model loaded, slots) and send one test request')
    .option(...CONFIG_FLAG)
    .option(...SETTINGS_FLAG)
    .option('-p, --prompt <text>', 'the test prompt', TEST_PROMPT)
    .option('--max-tokens <n>', 'max tokens of the test answer', '32')
    .option('-m, --model <name>', "model to ask (default: each worker's own)")
    .action(async (flags: TestFlags) => {
      io.exitCode = await runTest(flags, io);
    });
}

async function runTest(flags: TestFlags, io: Io): Promise<number> {
  const config = await loadFleetConfig(flags, io);
  const settings = { ...config.settings, healthCheckInterval: 0 };
  const fleet = createFleet({ workers: config.workers, settings });
  try {
    const stats = await fleet.ready();
    io.out(
      `Testing ${stats.workers.length} worker${stats.workers.length === 1 ? '' : 's'} from ${config.source.config}\n\n`,
    );
    for (const w of stats.workers) io.out(workerLine(w) + '\n');
    const healthy = stats.workers.filter((w) => w.state === 'healthy' || w.state === 'degraded').length;
    io.out(`\nHealthy workers: ${healthy}/${stats.workers.length}\n`);
    if (healthy === 0) {
      io.err('No worker is healthy: nothing to test. Fix the reasons above, then run `fleet test` again.\n');
      return ExitCode.Failure;
    }
    io.out(`\nTest request: "${flags.prompt}"\n`);
    const stream = fleet.chatStream(
      { messages: [{ role: 'user', content: flags.prompt }], max_tokens: Number(flags.maxTokens) || 32 },
      flags.model === undefined ? {} : { model: flags.model },
    );
    let text = '';
    try {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    } catch (err) {
      io.out(`  failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return ExitCode.Failure;
    }
    const m = await stream.meta;
    const secs = m.latencyMs / 1000;
    const tps =
      m.outputTokens && m.ttftMs !== undefined && m.latencyMs > m.ttftMs
        ? m.outputTokens / ((m.latencyMs - m.ttftMs) / 1000)
        : 0;
    io.out(
      `  answered by ${m.worker} in ${secs.toFixed(2)}s` +
        (m.ttftMs === undefined
          ? ''
          : ` (TTFT ${(m.ttftMs / 1000).toFixed(2)}s, ${m.outputTokens ?? 0} tokens, ${tps.toFixed(1)} tok/s)`) +
        (m.attempts > 1 ? ` after ${m.attempts - 1} retr${m.attempts === 2 ? 'y' : 'ies'}` : '') +
        `\n  ${JSON.stringify(text.trim())}\n`,
    );
    return ExitCode.Ok;
  } finally {
    await fleet.close();
  }
}

/** `imac-office (✓) 192.168.1.105:1234 - 0% load`, plus type, model, slots and round-trip time. */
export function workerLine(w: WorkerStats): string {
  const ok = w.state === 'healthy' || w.state === 'degraded';
  const where = w.url.replace(/^https?:\/\//, '');
  const load = w.cap > 0 ? Math.round((w.inFlight / w.cap) * 100) : 0;
  const head = `${w.id} (${ok ? '✓' : '✗'}) ${where} - ${load}% load`;
  if (!ok) return `${head}  ${w.type}  ${w.model}  DOWN: ${w.reason || 'unreachable'}`;
  const slots =
    w.detectedSlots === undefined
      ? `cap ${w.cap} (${w.capSource})`
      : `cap ${w.cap} (${w.capSource}), server slots ${w.detectedSlots}`;
  const rtt = w.lastProbeMs === undefined ? '' : `  ${Math.round(w.lastProbeMs)} ms`;
  return `${head}  ${w.type}  ${w.model}  ${slots}${rtt}`;
}
