/**
 * The node commands one `/vip status` runs on a host, and the floor: the bot's SSH layer alone
 * (SshPool, connections already open) running exactly those commands on every host at once.
 *
 * Per node a warm status runs read-config, service-show and list-addresses together with the track
 * scripts it found last time (src/status/collect-node-facts.ts), so all of them are in flight at
 * once. The track scripts come from each host's keepalived.conf, selected as the status does: the
 * vrrp_scripts tracked by the cluster's VIP instances, run as their `user`.
 */
import { allNodes, type ResolvedNode, type VipbotConfig } from '../src/config/config.ts';
import { listAddresses, readConfig, runTrackScript, serviceShow, wrapCommand, type NodeCommand } from '../src/hosts/node-commands.ts';
import { SshPool, sshTargetFor, type SshTarget } from '../src/hosts/ssh-pool.ts';
import { parseKeepalivedConf } from '../src/keepalived/parse-conf.ts';

export interface NodeWork {
  node: ResolvedNode;
  target: SshTarget;
  commands: NodeCommand[];
}

/** Reads each host's keepalived.conf once (over `pool`) and builds the status's command list per node. */
export async function statusWork(config: VipbotConfig, pool: SshPool): Promise<NodeWork[]> {
  return Promise.all(allNodes(config).map(async (node): Promise<NodeWork> => {
    const target = sshTargetFor(node);
    const conf = await pool.run(target, readConfig(node.keepalived.configPath));
    if (conf.code !== 0) throw new Error(`cannot read ${node.keepalived.configPath} on ${node.node.name}: ${conf.stderr.trim()}`);
    const parsed = parseKeepalivedConf(conf.stdout);
    const wanted = new Set(node.cluster.vips.map((v) => v.instance));
    const scriptNames = new Set(parsed.instances.filter((i) => wanted.has(i.name)).flatMap((i) => i.trackScripts.map((t) => t.name)));
    const scripts = parsed.scripts.filter((s) => scriptNames.has(s.name)).map((s) => runTrackScript(s.user, s.argv));
    return {
      node,
      target,
      commands: [readConfig(node.keepalived.configPath), serviceShow(node.keepalived.service), listAddresses(), ...scripts],
    };
  }));
}

/** The exact strings the pool gives to SSH exec for a node's commands (node-commands' wrapCommand). */
export function wrappedCommands(work: NodeWork): string[] {
  return work.commands.map((cmd) => wrapCommand(cmd, { sudo: work.target.ssh.sudo, timeoutMs: work.target.ssh.commandTimeout }));
}

/** One floor round: every command on every node at once over the pool's open connections; ms. */
export async function floorRound(pool: SshPool, work: readonly NodeWork[]): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(work.map((w) => Promise.all(w.commands.map((cmd) => pool.run(w.target, cmd)))));
  const elapsed = performance.now() - started;
  results.forEach((node, i) => {
    // Reads must succeed; track scripts answer with their exit code (the standby check fails on a primary).
    node.slice(0, 3).forEach((r, j) => {
      if (r.code !== 0) throw new Error(`floor: ${work[i]?.commands[j]?.id} on ${work[i]?.node.node.name} exited ${String(r.code)}: ${r.stderr.trim()}`);
    });
  });
  return elapsed;
}
