import type { Command } from '../src/commands/command.ts';
import { parseChangeArgs, type ChangeArgs } from '../src/commands/change-args.ts';

/** `/vip start <node>`: start keepalived on the node again. */
export const startCommand: Command<ChangeArgs> = {
  name: 'start',
  usage: 'start <node>',
  summary: 'start keepalived on the node (the plan says if that moves a VIP) — needs an approver',
  examples: ['/vip start node1'],
  access: 'operators',
  parseArgs: (tokens, config) => parseChangeArgs(tokens, config, { usage: 'start <node>', allowVip: false, allowForce: false }),
  handle(args) {
    return {
      kind: 'job',
      job: { name: 'plan-request', data: { action: 'start', cluster: args.cluster, node: args.node, force: false } },
      ack: `:clipboard: Planning: start keepalived on ${args.node}. The plan will be posted here for approval.`,
    };
  },
};
