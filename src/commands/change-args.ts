import type { VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import { resolveNodeName } from './resolve-target.ts';

/** Arguments of promote/demote/start after matching against the config. */
export interface ChangeArgs {
  node: string;
  cluster: string;
  vip?: string;
  force: boolean;
}

/**
 * `<node> [vip] [--force]`: the node must exist, the VIP (promote only) must belong to its cluster,
 * and the only flag is `--force` (demote only).
 */
export function parseChangeArgs(tokens: string[], config: VipbotConfig, opts: { usage: string; allowVip: boolean; allowForce: boolean }): ChangeArgs {
  const flags = tokens.filter((t) => t.startsWith('--'));
  const words = tokens.filter((t) => !t.startsWith('--'));
  for (const flag of flags) {
    if (!(opts.allowForce && flag === '--force')) throw new VipbotError('bad_arguments', `\`${flag}\` is not an option here.`, `Usage: \`/vip ${opts.usage}\`.`);
  }
  const [nodeName, vipName, ...extra] = words;
  if (!nodeName) throw new VipbotError('bad_arguments', 'Which node?', `Usage: \`/vip ${opts.usage}\`.`);
  if (extra.length > 0 || (vipName !== undefined && !opts.allowVip)) throw new VipbotError('bad_arguments', 'Too many arguments.', `Usage: \`/vip ${opts.usage}\`.`);
  const { node, cluster } = resolveNodeName(config, nodeName);
  const vips = config.clusters.find((c) => c.name === cluster)!.vips;
  if (vipName !== undefined && !vips.some((v) => v.name === vipName)) {
    throw new VipbotError('unknown_vip', `Cluster ${cluster} has no VIP called \`${vipName}\`.`, `Its VIPs: ${vips.map((v) => v.name).join(', ')}.`);
  }
  return { node, cluster, ...(vipName ? { vip: vipName } : {}), force: flags.includes('--force') };
}
