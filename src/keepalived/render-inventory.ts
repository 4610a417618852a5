/**
 * `vipbot render`: the inventory (vipbot.yaml) turned into each node's keepalived.conf. A cluster
 * without a `render` block is refused with what to add; a target narrows to one cluster or node.
 */
import type { ClusterConfig, VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import { renderKeepalivedConfig, type RenderVip } from './render-conf.ts';

export interface RenderedNodeConfig {
  cluster: string;
  node: string;
  text: string;
}

function renderVips(cluster: ClusterConfig): RenderVip[] {
  return cluster.vips.map((v) => {
    if (v.routerId === undefined || v.track === undefined || v.master === undefined) {
      // Config validation requires these with a render block; this guards callers that build configs by hand.
      throw new VipbotError('render_incomplete', `VIP ${v.name} of cluster ${cluster.name} has no routerId, track or master`, 'add them to the VIP in vipbot.yaml (SPEC §9, `vipbot render`)');
    }
    return {
      name: v.name,
      instance: v.instance,
      address: v.prefixLength === undefined ? v.address : `${v.address}/${v.prefixLength}`,
      routerId: v.routerId,
      track: v.track,
      master: v.master,
    };
  });
}

export function renderCluster(cluster: ClusterConfig): RenderedNodeConfig[] {
  const settings = cluster.render;
  if (!settings) {
    throw new VipbotError(
      'render_not_configured',
      `cluster ${cluster.name} has no render block`,
      `add one, e.g. render: { interface: eth0, scriptUser: oracle }, and routerId, track and master to each of its VIPs (README, "vipbot render")`,
    );
  }
  const vips = renderVips(cluster);
  const nodes = cluster.nodes.map((n) => ({ name: n.name, host: n.host }));
  return nodes.map((node) => ({
    cluster: cluster.name,
    node: node.name,
    text: renderKeepalivedConfig({ cluster: cluster.name, node, nodes, vips, settings }),
  }));
}

/** Every node's file, or one cluster's, or one node's (`name` is matched against clusters, then nodes). */
export function renderInventory(config: VipbotConfig, name?: string): RenderedNodeConfig[] {
  if (name === undefined) return config.clusters.flatMap(renderCluster);
  const cluster = config.clusters.find((c) => c.name === name);
  if (cluster) return renderCluster(cluster);
  const owner = config.clusters.find((c) => c.nodes.some((n) => n.name === name));
  if (owner) return renderCluster(owner).filter((r) => r.node === name);
  const known = config.clusters.flatMap((c) => [c.name, ...c.nodes.map((n) => n.name)]);
  throw new VipbotError('unknown_target', `no cluster or node is called ${name}`, `use one of: ${known.join(', ')}`);
}
