import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ChatMessage } from '../../core/openai.ts';
import { createFleet } from '../../fleet/index.ts';
import { ExitCode, type Io } from '../io.ts';
import { CONFIG_FLAG, loadFleetConfig, SETTINGS_FLAG, type ConfigFlags } from '../load.ts';

interface ChatFlags extends ConfigFlags {
  model?: string;
  system?: string;
  maxTokens: string;
}

/** `fleet chat`: an interactive prompt loop over the whole fleet, streaming each answer. */
export function registerChatCommand(program: Command, io: Io): void {
  program
    .command('chat')
    .description(
      'interactive chat with the fleet: streams each answer and shows the worker, TTFT and tokens/s',
    )
    .option(...CONFIG_FLAG)
    .option(...SETTINGS_FLAG)
    .option('-m, --model <name>', "model to use (default: each worker's own)")
    .option('--system <text>', 'system prompt')
    .option('--max-tokens <n>', 'max tokens per answer', '512')
    .addHelpText(
      'after',
      '\nIn the loop: /reset forgets the conversation, /stats shows the fleet, /exit (or Ctrl-D) quits.',
    )
    .action(async (flags: ChatFlags) => {
      io.exitCode = await runChat(flags, io);
    });
}

async function runChat(flags: ChatFlags, io: Io): Promise<number> {
  const config = await loadFleetConfig(flags, io);
  const fleet = createFleet(config);
  const history: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
  const maxTokens = Number(flags.maxTokens) || 512;
  let rl: ReturnType<typeof createInterface> | undefined;
  try {
    const st = await fleet.ready();
    const up = st.workers.filter((w) => w.state === 'healthy' || w.state === 'degraded').length;
    io.err(`fleet: ${up}/${st.workers.length} workers healthy. Type a message; /exit to quit.\n`);
    if (up === 0) {
      for (const w of st.workers) io.err(`  ${w.id}: ${w.reason || w.state}\n`);
      return ExitCode.Failure;
    }
    io.out('> ');
    // Created only now: lines piped in before the loop starts would otherwise be lost.
    rl = createInterface({ input: io.input, terminal: false });
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        history.length = flags.system ? 1 : 0;
        io.out('(conversation cleared)\n> ');
        continue;
      }
      if (text === '/stats') {
        for (const w of fleet.stats().workers)
          io.out(`  ${w.id}: ${w.state}, ${w.completed} done, ${w.inFlight}/${w.cap} in flight\n`);
        io.out('> ');
        continue;
      }
      if (text === '') {
        io.out('> ');
        continue;
      }
      history.push({ role: 'user', content: text });
      const stream = fleet.chatStream(
        { messages: history, max_tokens: maxTokens },
        flags.model === undefined ? {} : { model: flags.model },
      );
      let answer = '';
      try {
        for await (const c of stream) {
          const d = c.choices[0]?.delta.content ?? '';
          answer += d;
          io.out(d);
        }
        const m = await stream.meta;
        const decodeS = m.ttftMs === undefined ? 0 : (m.latencyMs - m.ttftMs) / 1000;
        const tps = decodeS > 0 && m.outputTokens ? m.outputTokens / decodeS : 0;
        io.out(
          `\n[${m.worker} · TTFT ${((m.ttftMs ?? m.latencyMs) / 1000).toFixed(2)}s · ${tps.toFixed(1)} tok/s · ${m.outputTokens ?? 0} tokens]\n> `,
        );
        history.push({ role: 'assistant', content: answer });
      } catch (err) {
        history.pop();
        io.out(`\n[error: ${err instanceof Error ? err.message : String(err)}]\n> `);
      }
    }
    io.out('\n');
    return ExitCode.Ok;
  } finally {
    rl?.close();
    await fleet.close();
  }
}
