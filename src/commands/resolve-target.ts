import type { VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';

/** What a `[cluster|node]` argument selects. */
export type Target = { kind: 'all' } | { kind: 'cluster'; name: string } | { kind: 'node'; name: string; cluster: string };

/** Matches a cluster or node name against the config; unknown names get the list of known ones. */
export function resolveTarget(config: VipbotConfig, name: string | undefined): Target {
  if (name === undefined) return { kind: 'all' };
  const cluster = config.clusters.find((c) => c.name === name);
  if (cluster) return { kind: 'cluster', name };
  for (const c of config.clusters) {
    if (c.nodes.some((n) => n.name === name)) return { kind: 'node', name, cluster: c.name };
  }
  throw new VipbotError('unknown_target', `No cluster or node is called \`${name}\`.`, knownNamesAdvice(config));
}

/** Matches a node name; unknown names get the list of known nodes. */
export function resolveNodeName(config: VipbotConfig, name: string): { node: string; cluster: string } {
  for (const c of config.clusters) {
    if (c.nodes.some((n) => n.name === name)) return { node: name, cluster: c.name };
  }
  throw new VipbotError('unknown_node', `No node is called \`${name}\`.`, `Known nodes: ${allNodeNames(config).join(', ')}.`);
}

export function allNodeNames(config: VipbotConfig): string[] {
  return config.clusters.flatMap((c) => c.nodes.map((n) => n.name));
}

export function knownNamesAdvice(config: VipbotConfig): string {
  return `Known clusters: ${config.clusters.map((c) => c.name).join(', ')}; nodes: ${allNodeNames(config).join(', ')}.`;
}
