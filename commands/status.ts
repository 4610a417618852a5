import type { Command } from '../src/commands/command.ts';
import { knownNamesAdvice, resolveTarget, type Target } from '../src/commands/resolve-target.ts';
import { VipbotError } from '../src/errors.ts';

/** `/vip status [cluster|node]`: who holds each VIP, keepalived state, priorities, checks, warnings. */
export const statusCommand: Command<Target> = {
  name: 'status',
  usage: 'status [cluster|node]',
  summary: 'who holds each VIP, keepalived state, configured state/priority, track scripts, warnings',
  examples: ['/vip status', '/vip status orcl', '/vip status node2'],
  access: 'viewers',
  parseArgs(tokens, config) {
    if (tokens.length > 1) throw new VipbotError('bad_arguments', '`status` takes at most one cluster or node name.', knownNamesAdvice(config));
    return resolveTarget(config, tokens[0]);
  },
  handle(target) {
    const what = target.kind === 'all' ? 'all clusters' : target.kind === 'cluster' ? `cluster ${target.name}` : `${target.name} (cluster ${target.cluster})`;
    return { kind: 'job', job: { name: 'status', data: { target } }, ack: `:hourglass_flowing_sand: Checking ${what}…` };
  },
};
