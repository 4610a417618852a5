import type { Command } from '../src/commands/command.ts';
import { knownNamesAdvice, resolveTarget, type Target } from '../src/commands/resolve-target.ts';
import { formatDuration } from '../src/config/duration.ts';
import { VipbotError } from '../src/errors.ts';
import { DEFAULT_WINDOW, looksLikeWindow, parseMemoryWindow, SUGGESTED_WINDOWS, type MemoryWindow } from '../src/memory/memory-window.ts';

export interface MemoryArgs {
  window: MemoryWindow;
  target: Target;
}

/**
 * `/vip memory [window] [cluster|node]`: keepalived memory over the window (default 7d) — unit memory
 * vs RSS vs VSZ, growth per day, a verdict, and a PNG chart in the thread. The window and the name may
 * come in either order; a word starting with a digit is a window and must fit its grammar.
 */
export const memoryCommand: Command<MemoryArgs> = {
  name: 'memory',
  usage: 'memory [window] [cluster|node]',
  summary: `keepalived memory over the window (default ${DEFAULT_WINDOW}): unit memory vs RSS, trend per day, a verdict, a chart`,
  examples: ['/vip memory', '/vip memory 24h', '/vip memory 30d orcl', '/vip memory 2w node1'],
  access: 'viewers',
  parseArgs(tokens, config) {
    if (tokens.length > 2) {
      throw new VipbotError('bad_arguments', '`memory` takes at most a window and one cluster or node name.', `Usage: \`/vip memory [${SUGGESTED_WINDOWS.join('|')}] [cluster|node]\`. ${knownNamesAdvice(config)}`);
    }
    let window: MemoryWindow | undefined;
    let name: string | undefined;
    for (const token of tokens) {
      if (looksLikeWindow(token)) {
        if (window) throw new VipbotError('bad_arguments', 'Give one window, not two.', `e.g. \`/vip memory ${DEFAULT_WINDOW}\`.`);
        window = parseMemoryWindow(token, config.memory.retention);
      } else {
        if (name !== undefined) throw new VipbotError('bad_arguments', '`memory` takes one cluster or node name.', knownNamesAdvice(config));
        name = token;
      }
    }
    return { window: window ?? parseMemoryWindow(DEFAULT_WINDOW, Math.max(config.memory.retention, 7 * 86_400_000)), target: resolveTarget(config, name) };
  },
  handle(args, _input, config) {
    const what = args.target.kind === 'all' ? 'all clusters' : args.target.kind === 'cluster' ? `cluster ${args.target.name}` : `${args.target.name} (cluster ${args.target.cluster})`;
    return {
      kind: 'job',
      job: { name: 'memory-report', data: { window: args.window, target: args.target } },
      ack: `:hourglass_flowing_sand: Reading keepalived memory of ${what} over the last ${args.window.label} (samples every ${formatDuration(config.memory.sampleEvery)})…`,
    };
  },
};
