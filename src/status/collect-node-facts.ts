/**
 * Gathers one node's raw facts over SSH for the analysis: its keepalived.conf, `systemctl show`,
 * `ip -o addr`, and the exit code of every track script the cluster's VIP instances use, run as the
 * user their vrrp_script names. A node that cannot be reached becomes a fact (reachable: false with
 * the coded reason), never an exception: one bad host must not hide the others.
 */
import type { ClusterConfig, ResolvedNode, SshSettings } from '../config/config.ts';
import { describeError, isVipbotError } from '../errors.ts';
import { listAddresses, readConfig, runTrackScript, serviceShow, type NodeCommand } from '../hosts/node-commands.ts';
import { parseKeepalivedConf } from '../keepalived/parse-conf.ts';
import type { NodeFacts, TrackScriptResult } from '../model.ts';

/** The part of the SSH pool this needs. */
export interface NodeRunner {
  run(target: { name: string; host: string; ssh: SshSettings }, cmd: NodeCommand, opts?: { signal?: AbortSignal }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Exit codes from `timeout`/the shell that mean the script did not run to an answer. */
const NOT_AN_ANSWER: Record<number, string> = { 124: 'timed out', 126: 'not executable', 127: 'not found', 137: 'killed after timeout' };

export async function collectNodeFacts(runner: NodeRunner, node: ResolvedNode, signal?: AbortSignal): Promise<NodeFacts> {
  const target = { name: node.node.name, host: node.node.host, ssh: node.ssh };
  const base = { node: node.node.name, host: node.node.host };
  const opts = signal ? { signal } : {};
  let config, show, addr;
  try {
    [config, show, addr] = await Promise.all([
      runner.run(target, readConfig(node.keepalived.configPath), opts),
      runner.run(target, serviceShow(node.keepalived.service), opts),
      runner.run(target, listAddresses(), opts),
    ]);
  } catch (err) {
    return { ...base, reachable: false, error: describeError(err), trackScripts: [] };
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
    facts.trackScripts = await runTrackScripts(runner, target, node.cluster, facts.configText, problems, opts);
  }
  if (problems.length) facts.error = problems.join('; ');
  return facts;
}

async function runTrackScripts(
  runner: NodeRunner,
  target: { name: string; host: string; ssh: SshSettings },
  cluster: ClusterConfig,
  configText: string,
  problems: string[],
  opts: { signal?: AbortSignal },
): Promise<TrackScriptResult[]> {
  let conf;
  try {
    conf = parseKeepalivedConf(configText);
  } catch (err) {
    problems.push(describeError(err));
    return [];
  }
  const wanted = new Set(cluster.vips.map((v) => v.instance));
  const names = new Set(conf.instances.filter((i) => wanted.has(i.name)).flatMap((i) => i.trackScripts.map((t) => t.name)));
  const scripts = conf.scripts.filter((s) => names.has(s.name));
  return Promise.all(
    scripts.map(async (script): Promise<TrackScriptResult> => {
      try {
        const res = await runner.run(target, runTrackScript(script.user, script.argv), opts);
        const reason = res.code === null ? 'no exit code' : NOT_AN_ANSWER[res.code];
        return { name: script.name, exitCode: res.code, ...(reason ? { error: `${script.script}: ${reason}${res.stderr ? ` (${firstLine(res.stderr)})` : ''}` } : {}) };
      } catch (err) {
        // A refused argv (odd characters in the script line) is a config problem, not an SSH one.
        return { name: script.name, exitCode: null, error: isVipbotError(err) ? err.toUserText() : describeError(err) };
      }
    }),
  );
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
