import type { Command } from '../src/commands/command.ts';
import { parseChangeArgs, type ChangeArgs } from '../src/commands/change-args.ts';

/** `/vip promote <node> [vip]`: fix (a) — raise the node's priority so the VIP stays with it. */
export const promoteCommand: Command<ChangeArgs> = {
  name: 'promote',
  usage: 'promote <node> [vip]',
  summary: "raise the node's priority on the VIP's instance (highest peer + promoteStep) and apply — needs an approver",
  examples: ['/vip promote node2', '/vip promote node2 primary'],
  access: 'operators',
  parseArgs: (tokens, config) => parseChangeArgs(tokens, config, { usage: 'promote <node> [vip]', allowVip: true, allowForce: false }),
  handle(args, _input, config) {
    const vip = args.vip ?? config.clusters.find((c) => c.name === args.cluster)!.vips[0]!.name;
    return {
      kind: 'job',
      job: { name: 'plan-request', data: { action: 'promote', cluster: args.cluster, node: args.node, vip, force: false } },
      ack: `:clipboard: Planning: promote ${args.node} for the ${vip} VIP. The plan will be posted here for approval.`,
    };
  },
};
