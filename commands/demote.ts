import type { Command } from '../src/commands/command.ts';
import { parseChangeArgs, type ChangeArgs } from '../src/commands/change-args.ts';

/** `/vip demote <node> [--force]`: fix (b) — stop keepalived on the node so it cannot take a VIP back. */
export const demoteCommand: Command<ChangeArgs> = {
  name: 'demote',
  usage: 'demote <node> [--force]',
  summary: 'stop keepalived on the node (refused when a VIP it holds would go nowhere, unless --force) — needs an approver',
  examples: ['/vip demote node1'],
  access: 'operators',
  parseArgs: (tokens, config) => parseChangeArgs(tokens, config, { usage: 'demote <node> [--force]', allowVip: false, allowForce: true }),
  handle(args) {
    return {
      kind: 'job',
      job: { name: 'plan-request', data: { action: 'demote', cluster: args.cluster, node: args.node, force: args.force } },
      ack: `:clipboard: Planning: stop keepalived on ${args.node}${args.force ? ' (--force)' : ''}. The plan will be posted here for approval.`,
    };
  },
};
