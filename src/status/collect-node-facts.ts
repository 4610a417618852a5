/**
 * Gathers one node's raw facts over SSH for the analysis: its keepalived.conf, `systemctl show`,
 * `ip -o addr`, and the exit code of every track script the cluster's VIP instances use, run exactly
 * as keepalived runs it (run-track-scripts.ts). A node that cannot be reached becomes a fact
 * (reachable: false with the coded reason), never an exception: one bad host must not hide the others.
 *
 * Which track scripts to run is only known after reading the config. To keep a warm status near one
 * round trip, last time's look-ups and its runs as non-root users are started together with the reads
 * (all read-only); the fresh plan reuses those that are still the same command, and its verdict
 * decides which results count. A script run as root is never started before it is checked.
 */
import type { ClusterConfig, ResolvedNode, SshSettings } from '../config/config.ts';
import { describeError, isVipbotError } from '../errors.ts';
import { listAddresses, readConfig, serviceShow, type NodeCommand } from '../hosts/node-commands.ts';
import { parseKeepalivedConf } from '../keepalived/parse-conf.ts';
import type { NodeFacts } from '../model.ts';
import { runTrackScripts, type RunCommand } from './run-track-scripts.ts';

/** The part of the SSH pool this needs. */
export interface NodeRunner {
  run(target: { name: string; host: string; ssh: SshSettings }, cmd: NodeCommand, opts?: { signal?: AbortSignal }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Per node, what its track scripts took last time. */
export type TrackScriptMemo = Map<string, TrackScriptMemoEntry>;

export interface TrackScriptMemoEntry {
  /** Every command issued for the track scripts (look-ups and runs): `vipbot sudoers` allows exactly these. */
  commands: NodeCommand[];
  /** Look-ups and non-root runs that may start before the config is read next time. */
  prefetch: NodeCommand[];
}

type Target = { name: string; host: string; ssh: SshSettings };
type Result = Awaited<ReturnType<RunCommand>>;

export async function collectNodeFacts(runner: NodeRunner, node: ResolvedNode, options: { signal?: AbortSignal; memo?: TrackScriptMemo } = {}): Promise<NodeFacts> {
  const target: Target = { name: node.node.name, host: node.node.host, ssh: node.ssh };
  const base = { node: node.node.name, host: node.node.host };
  const opts = options.signal ? { signal: options.signal } : {};
  // One collection's commands by what they run: a prefetched command is reused, never run twice.
  const started = new Map<string, Promise<Result>>();
  const run: RunCommand = (cmd) => {
    const key = commandKey(cmd);
    let promise = started.get(key);
    if (!promise) {
      promise = runner.run(target, cmd, opts);
      started.set(key, promise);
    }
    return promise;
  };
  for (const cmd of options.memo?.get(node.node.name)?.prefetch ?? []) run(cmd).catch(() => undefined);
  let config, show, addr;
  try {
    [config, show, addr] = await Promise.all([
      runner.run(target, readConfig(node.keepalived.configPath), opts),
      runner.run(target, serviceShow(node.keepalived.service), opts),
      runner.run(target, listAddresses(), opts),
    ]);
  } catch (err) {
    await Promise.allSettled(started.values());
    return { ...base, reachable: false, error: describeError(err), ...(isVipbotError(err) ? { errorCode: err.code } : {}), trackScripts: [] };
  }
  const facts: NodeFacts = {
    ...base,
    reachable: true,
    ...(show.code === 0 ? { systemctlShow: show.stdout } : {}),
    ...(config.code === 0 ? { configText: config.stdout } : {}),
    ...(addr.code === 0 ? { ipAddr: addr.stdout } : {}),
    trackScripts: [],
  };
  const problems: string[] = [];
  if (config.code !== 0) problems.push(`cannot read ${node.keepalived.configPath}: ${firstLine(config.stderr) || `exit ${String(config.code)}`}`);
  if (show.code !== 0) problems.push(`systemctl show failed: ${firstLine(show.stderr) || `exit ${String(show.code)}`}`);
  if (addr.code !== 0) problems.push(`ip -o addr failed: ${firstLine(addr.stderr) || `exit ${String(addr.code)}`}`);
  if (facts.configText !== undefined) {
    const scripts = await trackScriptsOf(node.cluster, facts.configText, problems, run);
    if (scripts) {
      facts.trackScripts = scripts.results;
      // The runs first: they are what a warm status waits for.
      const prefetch = [...scripts.earlyRunnable, ...scripts.commands.filter((c) => c.id !== 'run-track-script')];
      options.memo?.set(node.node.name, { commands: scripts.commands, prefetch });
    }
  }
  await Promise.allSettled(started.values());
  if (problems.length) facts.error = problems.join('; ');
  return facts;
}

async function trackScriptsOf(cluster: ClusterConfig, configText: string, problems: string[], run: RunCommand) {
  let conf;
  try {
    conf = parseKeepalivedConf(configText);
  } catch (err) {
    problems.push(describeError(err));
    return undefined;
  }
  const wanted = new Set(cluster.vips.map((v) => v.instance));
  const names = new Set(conf.instances.filter((i) => wanted.has(i.name)).flatMap((i) => i.trackScripts.map((t) => t.name)));
  return runTrackScripts(run, conf, conf.scripts.filter((s) => names.has(s.name)));
}

function commandKey(cmd: NodeCommand): string {
  return JSON.stringify([cmd.id, cmd.argv, cmd.runAs ?? '', cmd.runGroup ?? '']);
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
