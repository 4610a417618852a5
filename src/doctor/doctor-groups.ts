/**
 * Which checks `vipbot doctor` runs for a config: config, Redis, Slack, each node, then each cluster
 * (the cluster check waits for its nodes' facts, so the pair is read once).
 */
import { allNodes, type VipbotConfig } from '../config/config.ts';
import type { NodeFacts } from '../model.ts';
import { clusterChecks, nodeChecks, type NodeDoctorProbe } from './check-nodes.ts';
import { redisChecks, type RedisInfoSource } from './check-redis.ts';
import { configuredChannels, slackChecks, type SlackProbe } from './check-slack.ts';
import { pass, type CheckGroup } from './doctor.ts';

export interface DoctorDeps {
  config: VipbotConfig;
  configPath: string;
  redis: RedisInfoSource;
  /** Where Redis is, for messages (host:port or the Sentinel set); never the password. */
  redisWhere: string;
  /** Undefined when SLACK_BOT_TOKEN is not set. */
  slack: SlackProbe | undefined;
  probe: NodeDoctorProbe;
}

export function doctorGroups(deps: DoctorDeps): CheckGroup[] {
  const { config } = deps;
  const nodes = allNodes(config);
  const facts = new Map<string, Promise<NodeFacts | undefined>>();
  const settle = new Map<string, (f: NodeFacts | undefined) => void>();
  for (const n of nodes) facts.set(n.node.name, new Promise((resolve) => settle.set(n.node.name, resolve)));
  const groups: CheckGroup[] = [
    {
      name: 'config',
      run: () => Promise.resolve([pass('config', `${deps.configPath}: ${config.clusters.length} cluster(s), ${nodes.length} node(s)`)]),
    },
    redisChecks(deps.redis, deps.redisWhere),
    slackChecks(deps.slack, configuredChannels(config)),
    ...nodes.map((n) => nodeChecks(n, deps.probe, (f) => settle.get(n.node.name)?.(f))),
    ...config.clusters.map((cluster) =>
      clusterChecks(cluster, async () => {
        const all = await Promise.all(cluster.nodes.map((n) => facts.get(n.name) ?? Promise.resolve(undefined)));
        return all.filter((f): f is NodeFacts => f !== undefined);
      }),
    ),
  ];
  return groups;
}
