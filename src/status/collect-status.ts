/**
 * Live status for a target: fan out to the selected clusters' nodes (bounded), then analyse each pair.
 * A node target still collects its whole cluster, since the warnings are about the pair. Identical
 * requests arriving together share one fresh collection (see fresh-single-flight.ts).
 */
import { knownNamesAdvice, type Target } from '../commands/resolve-target.ts';
import { allNodes, type ClusterConfig, type VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import { mapWithConcurrency } from '../hosts/fan-out.ts';
import type { StatusCollector } from '../jobs/job.ts';
import { analyseCluster } from '../keepalived/analyse-cluster.ts';
import type { NodeFacts, VipStatus } from '../model.ts';
import { collectNodeFacts, type NodeRunner, type TrackScriptMemo } from './collect-node-facts.ts';
import { freshSingleFlight } from './fresh-single-flight.ts';

const NODE_CONCURRENCY = 32;

export function createStatusCollector(config: VipbotConfig, runner: NodeRunner): StatusCollector {
  const memo: TrackScriptMemo = new Map();
  const gather = async (clusters: readonly ClusterConfig[], signal?: AbortSignal): Promise<Map<string, NodeFacts>> => {
    const nodes = allNodes(config).filter((n) => clusters.includes(n.cluster));
    const settled = await mapWithConcurrency(nodes, NODE_CONCURRENCY, (n) => collectNodeFacts(runner, n, { ...(signal ? { signal } : {}), memo }), signal);
    const facts = new Map<string, NodeFacts>();
    settled.forEach((s, i) => {
      const n = nodes[i]!;
      facts.set(n.node.name, s.ok ? s.value : { node: n.node.name, host: n.node.host, reachable: false, error: String(s.error), trackScripts: [] });
    });
    return facts;
  };
  // Shared runs are not tied to one caller's abort signal: other callers still want the result.
  const collectShared = freshSingleFlight(async (key: string): Promise<VipStatus> => {
    const clusters = config.clusters.filter((c) => key === '*' || c.name === key);
    const facts = await gather(clusters);
    return {
      clusters: clusters.map((c) => analyseCluster(c, c.nodes.map((n) => facts.get(n.name)!))),
      collectedAt: new Date().toISOString(),
    };
  });
  return {
    async collectFacts(clusterName: string, signal?: AbortSignal): Promise<NodeFacts[]> {
      const cluster = config.clusters.find((c) => c.name === clusterName);
      if (!cluster) throw new VipbotError('unknown_target', `No cluster is called ${clusterName}.`, knownNamesAdvice(config));
      const facts = await gather([cluster], signal);
      return cluster.nodes.map((n) => facts.get(n.name)!);
    },
    async collect(target: Target, signal?: AbortSignal): Promise<VipStatus> {
      signal?.throwIfAborted();
      return collectShared(target.kind === 'cluster' ? target.name : target.kind === 'node' ? target.cluster : '*');
    },
  };
}
