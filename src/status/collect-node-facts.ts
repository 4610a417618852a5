/**
 * Gathers one node's raw facts over SSH for the analysis: its keepalived.conf, `systemctl show`,
 * `ip -o addr`, and the exit code of every track script the cluster's VIP instances use, run as the
 * user their vrrp_script names. A node that cannot be reached becomes a fact (reachable: false with
 * the coded reason), never an exception: one bad host must not hide the others.
 *
 * Which track scripts to run is only known after reading the config. To keep a warm status at one
 * round trip, the scripts found last time are started together with the reads (they are read-only
 * checks); if the config now names other scripts, those are run in a second round.
 */
import type { ClusterConfig, ResolvedNode, SshSettings } from '../config/config.ts';
import { describeError, isVipbotError } from '../errors.ts';
import { listAddresses, readConfig, runTrackScript, serviceShow, type NodeCommand } from '../hosts/node-commands.ts';
import { parseKeepalivedConf, type VrrpScript } from '../keepalived/parse-conf.ts';
import type { NodeFacts, TrackScriptResult } from '../model.ts';

/** The part of the SSH pool this needs. */
export interface NodeRunner {
  run(target: { name: string; host: string; ssh: SshSettings }, cmd: NodeCommand, opts?: { signal?: AbortSignal }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Track scripts seen per node in its last config: name, user and argv. */
export type TrackScriptMemo = Map<string, TrackScriptSpec[]>;

interface TrackScriptSpec { name: string; script: string; user?: string; argv: string[] }

/** Exit codes that mean the script did not run to an answer (timeouts surface as errors instead). */
const NOT_AN_ANSWER: Record<number, string> = { 126: 'not executable', 127: 'not found' };

type Target = { name: string; host: string; ssh: SshSettings };

export async function collectNodeFacts(runner: NodeRunner, node: ResolvedNode, options: { signal?: AbortSignal; memo?: TrackScriptMemo } = {}): Promise<NodeFacts> {
  const target: Target = { name: node.node.name, host: node.node.host, ssh: node.ssh };
  const base = { node: node.node.name, host: node.node.host };
  const opts = options.signal ? { signal: options.signal } : {};
  const guessed = options.memo?.get(node.node.name) ?? [];
  const early = new Map(guessed.map((spec) => [specKey(spec), runScript(runner, target, spec, opts)]));
  let config, show, addr;
  try {
    [config, show, addr] = await Promise.all([
      runner.run(target, readConfig(node.keepalived.configPath), opts),
      runner.run(target, serviceShow(node.keepalived.service), opts),
      runner.run(target, listAddresses(), opts),
    ]);
  } catch (err) {
    await Promise.allSettled(early.values());
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
    const specs = trackScriptsOf(node.cluster, facts.configText, problems);
    options.memo?.set(node.node.name, specs);
    // Results of guessed scripts count only when the config still names them exactly so.
    facts.trackScripts = await Promise.all(specs.map((spec) => early.get(specKey(spec)) ?? runScript(runner, target, spec, opts)));
  }
  await Promise.allSettled(early.values());
  if (problems.length) facts.error = problems.join('; ');
  return facts;
}

function trackScriptsOf(cluster: ClusterConfig, configText: string, problems: string[]): TrackScriptSpec[] {
  let conf;
  try {
    conf = parseKeepalivedConf(configText);
  } catch (err) {
    problems.push(describeError(err));
    return [];
  }
  const wanted = new Set(cluster.vips.map((v) => v.instance));
  const names = new Set(conf.instances.filter((i) => wanted.has(i.name)).flatMap((i) => i.trackScripts.map((t) => t.name)));
  return conf.scripts.filter((s) => names.has(s.name)).map((s: VrrpScript) => ({ name: s.name, script: s.script, argv: [...s.argv], ...(s.user ? { user: s.user } : {}) }));
}

function specKey(spec: TrackScriptSpec): string {
  return JSON.stringify([spec.name, spec.user ?? '', spec.argv]);
}

async function runScript(runner: NodeRunner, target: Target, spec: TrackScriptSpec, opts: { signal?: AbortSignal }): Promise<TrackScriptResult> {
  try {
    const res = await runner.run(target, runTrackScript(spec.user, spec.argv), opts);
    const reason = res.code === null ? 'no exit code' : NOT_AN_ANSWER[res.code];
    return { name: spec.name, exitCode: res.code, ...(reason ? { error: `${spec.script}: ${reason}${res.stderr ? ` (${firstLine(res.stderr)})` : ''}` } : {}) };
  } catch (err) {
    // Timed out, refused argv (odd characters in the script line), or the connection dropped.
    return { name: spec.name, exitCode: null, error: `${spec.script}: ${describeError(err)}` };
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
