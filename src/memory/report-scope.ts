/**
 * Which nodes a `/vip memory [cluster|node]` report covers, and how to name that scope in the title.
 */
import type { Target } from '../commands/resolve-target.ts';
import type { VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import { knownNamesAdvice } from '../commands/resolve-target.ts';

export interface ReportScope {
  /** Node names in config order. */
  nodes: string[];
  /** `all clusters`, `cluster orcl`, `node1 (orcl)`. */
  title: string;
}

/** The nodes of a target (already matched against the config by the command). */
export function reportScope(config: VipbotConfig, target: Target): ReportScope {
  if (target.kind === 'all') return { nodes: config.clusters.flatMap((c) => c.nodes.map((n) => n.name)), title: 'all clusters' };
  if (target.kind === 'cluster') {
    const cluster = config.clusters.find((c) => c.name === target.name);
    if (!cluster) throw new VipbotError('unknown_target', `No cluster is called \`${target.name}\`.`, knownNamesAdvice(config));
    return { nodes: cluster.nodes.map((n) => n.name), title: `cluster ${cluster.name}` };
  }
  const cluster = config.clusters.find((c) => c.nodes.some((n) => n.name === target.name));
  if (!cluster) throw new VipbotError('unknown_target', `No node is called \`${target.name}\`.`, knownNamesAdvice(config));
  return { nodes: [target.name], title: `${target.name} (${cluster.name})` };
}

/** Node name → cluster name, for labels. */
export function clusterOfNode(config: VipbotConfig): (node: string) => string | undefined {
  const map = new Map(config.clusters.flatMap((c) => c.nodes.map((n) => [n.name, c.name] as const)));
  return (node) => map.get(node);
}

/** The zone reports and charts use: the daily summary's, else UTC. */
export function reportTimezone(config: VipbotConfig): string {
  return config.memory.dailySummary?.timezone ?? 'UTC';
}
