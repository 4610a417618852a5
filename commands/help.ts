import type { AnyCommand, Command } from '../src/commands/command.ts';
import { allNodeNames } from '../src/commands/resolve-target.ts';

/** `/vip help`: usage with examples, built from the registered commands so it never drifts. */
export function createHelpCommand(others: readonly AnyCommand[]): Command<void> {
  return {
    name: 'help',
    usage: 'help',
    summary: 'this help',
    examples: ['/vip help'],
    access: 'anyone',
    parseArgs() {},
    handle(_args, _input, config) {
      const lines = others.map((c) => `• \`/vip ${c.usage}\` — ${c.summary}\n    e.g. ${c.examples.map((e) => `\`${e}\``).join(', ')}`);
      const text = [
        '*vipbot* — keepalived VIPs on the Data Guard pairs',
        ...lines,
        '• `/vip help` — this help',
        `Clusters: ${config.clusters.map((c) => c.name).join(', ')} · nodes: ${allNodeNames(config).join(', ')}`,
      ].join('\n');
      return { kind: 'reply', text };
    },
  };
}
