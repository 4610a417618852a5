/**
 * The node commands one `/vip status` runs on a host, and the floor: the bot's SSH layer alone
 * (SshPool, connections already open) running exactly those commands on every host at once.
 *
 * Per node a warm status runs read-config, service-show and list-addresses together with what it
 * issued for the track scripts last time (src/status/collect-node-facts.ts): the look-ups of the users,
 * groups and paths keepalived's script rules need, and the runs as those users — all in flight at
 * once. That list is taken from one real collection (its memo), so the floor and parallel-ssh run
 * exactly the commands the bot runs.
 */
import { allNodes, type ResolvedNode, type VipbotConfig } from '../src/config/config.ts';
import { listAddresses, readConfig, serviceShow, wrapCommand, type NodeCommand } from '../src/hosts/node-commands.ts';
import { SshPool, sshTargetFor, type SshTarget } from '../src/hosts/ssh-pool.ts';
import { collectNodeFacts, type TrackScriptMemo } from '../src/status/collect-node-facts.ts';

export interface NodeWork {
  node: ResolvedNode;
  target: SshTarget;
  commands: NodeCommand[];
}

/** Collects each host's facts once (over `pool`) and keeps the commands that collection issued per node. */
export async function statusWork(config: VipbotConfig, pool: SshPool): Promise<NodeWork[]> {
  const memo: TrackScriptMemo = new Map();
  return Promise.all(allNodes(config).map(async (node): Promise<NodeWork> => {
    const target = sshTargetFor(node);
    const facts = await collectNodeFacts(pool, node, { memo });
    if (facts.configText === undefined) throw new Error(`cannot read ${node.keepalived.configPath} on ${node.node.name}: ${facts.error ?? 'unreachable'}`);
    const scriptCommands = memo.get(node.node.name)?.commands ?? [];
    return {
      node,
      target,
      commands: [readConfig(node.keepalived.configPath), serviceShow(node.keepalived.service), listAddresses(), ...scriptCommands],
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
