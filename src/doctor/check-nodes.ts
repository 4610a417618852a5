/**
 * Node and cluster checks for `vipbot doctor`, from the same facts `/vip status` collects: SSH reachable
 * with a known, matching host key; sudo rights (with `ssh.sudo`); keepalived's version; the config read
 * and parsed; every track script present and executable; and, per cluster, the pair's configs consistent.
 */
import type { ClusterConfig, ResolvedNode } from '../config/config.ts';
import { analyseCluster } from '../keepalived/analyse-cluster.ts';
import { parseKeepalivedConf } from '../keepalived/parse-conf.ts';
import type { NodeFacts } from '../model.ts';
import { fail, pass, warn, type CheckGroup, type CheckResult } from './doctor.ts';

/** How the doctor reaches a node; the CLI implements it over the SSH pool. */
export interface NodeDoctorProbe {
  facts(node: ResolvedNode): Promise<NodeFacts>;
  /** `keepalived --version` output; undefined when it could not be run. */
  keepalivedVersion(node: ResolvedNode): Promise<string | undefined>;
  /** With `ssh.sudo`: the node commands `sudo -n -l` would not allow (argv text each); empty = all allowed. */
  sudoRefusals(node: ResolvedNode, facts: NodeFacts): Promise<string[]>;
}

/** `message — advice` (VipbotError.toUserText) split back into what happened and the fix. */
function splitAdvice(text: string): { detail: string; fix: string | undefined } {
  const at = text.indexOf(' — ');
  return at < 0 ? { detail: text, fix: undefined } : { detail: text.slice(0, at), fix: text.slice(at + 3) };
}

/** Checks of one node; `onFacts` receives the facts (or undefined when none could be had) for the cluster check. */
export function nodeChecks(node: ResolvedNode, probe: NodeDoctorProbe, onFacts: (facts: NodeFacts | undefined) => void): CheckGroup {
  const name = node.node.name;
  const where = `${node.ssh.user}@${node.node.host}:${node.ssh.port}`;
  return {
    name: `node ${name}`,
    async run(): Promise<CheckResult[]> {
      const facts = await probe.facts(node).catch((err: unknown) => {
        onFacts(undefined);
        throw err;
      });
      onFacts(facts);
      if (!facts.reachable) {
        const { detail, fix } = splitAdvice(facts.error ?? 'unreachable');
        if (facts.errorCode === 'ssh_sudo_denied') return [fail(`${name} sudo`, detail, sudoFix(node))];
        const check = facts.errorCode?.startsWith('ssh_host_key') ? `${name} host key` : `${name} ssh`;
        return [fail(check, detail, fix ?? `check that ${where} is reachable and sshd runs`)];
      }
      const results: CheckResult[] = [pass(`${name} ssh`, `connected as ${where}; host key matches ${node.ssh.knownHostsPath}`)];
      if (node.ssh.sudo) results.push(await sudoCheck(node, probe, facts));
      results.push(await versionCheck(node, probe));
      results.push(...configChecks(node, facts));
      return results;
    },
  };
}

function sudoFix(node: ResolvedNode): string {
  return `install the output of \`vipbot sudoers --user ${node.ssh.user} ${node.node.name}\` as /etc/sudoers.d/vipbot on ${node.node.host} (visudo -cf checks it)`;
}

async function sudoCheck(node: ResolvedNode, probe: NodeDoctorProbe, facts: NodeFacts): Promise<CheckResult> {
  const name = `${node.node.name} sudo`;
  const fix = sudoFix(node);
  if (facts.errorCode === 'ssh_sudo_denied') return fail(name, splitAdvice(facts.error ?? 'sudo refused').detail, fix);
  const refused = await probe.sudoRefusals(node, facts);
  if (refused.length === 0) return pass(name, `sudo -n allows every node command for ${node.ssh.user}`);
  return fail(name, `sudo -n would refuse ${refused.length} node command(s): ${refused.slice(0, 3).join('; ')}${refused.length > 3 ? '; …' : ''}`, fix);
}

async function versionCheck(node: ResolvedNode, probe: NodeDoctorProbe): Promise<CheckResult> {
  const name = `${node.node.name} keepalived version`;
  const text = await probe.keepalivedVersion(node);
  const version = /Keepalived v?(\d+)\.(\d+)\.(\d+)/i.exec(text ?? '');
  if (!version) return fail(name, `keepalived --version gave no version${text ? `: ${text.split('\n')[0]?.slice(0, 120)}` : ''}`, 'install keepalived 2.x (apt-get install keepalived / dnf install keepalived)');
  const major = Number(version[1]);
  if (major < 2) return warn(name, `keepalived ${version.slice(1).join('.')}: vipbot is tested with 2.x`, 'upgrade keepalived to 2.x');
  return pass(name, `keepalived ${version.slice(1).join('.')}`);
}

function configChecks(node: ResolvedNode, facts: NodeFacts): CheckResult[] {
  const name = node.node.name;
  const path = node.keepalived.configPath;
  if (facts.configText === undefined) {
    return [fail(`${name} keepalived config`, `cannot read ${path}: ${facts.error ?? 'no output'}`, `check keepalived.configPath (now ${path}) and that ${node.ssh.user} may read it`)];
  }
  let conf;
  try {
    conf = parseKeepalivedConf(facts.configText);
  } catch (err) {
    return [fail(`${name} keepalived config`, `${path} does not parse: ${err instanceof Error ? err.message : String(err)}`, `fix ${path} on ${name} (keepalived -t -f ${path} shows the same line)`)];
  }
  const results: CheckResult[] = [];
  const missing = node.cluster.vips.filter((v) => !conf.instances.some((i) => i.name === v.instance)).map((v) => v.instance);
  results.push(
    missing.length === 0
      ? pass(`${name} keepalived config`, `${path}: ${conf.instances.length} vrrp_instance(s), ${conf.scripts.length} vrrp_script(s)`)
      : fail(`${name} keepalived config`, `${path} has no vrrp_instance ${missing.join(', ')}`, `name the instances in vipbot.yaml as in ${path} (vips[].instance), or add them to the file`),
  );
  for (const script of facts.trackScripts) {
    const spec = conf.scripts.find((s) => s.name === script.name);
    const label = `${name} track script ${spec?.script ?? script.name}`;
    // Not run because keepalived would refuse it (missing, not executable, unsafe path): its reason and fix.
    if (script.refused) {
      results.push(fail(label, `not run: ${script.refused.reason}`, script.refused.fix));
    } else if (script.error && /not found|not executable/.test(script.error)) {
      const notFound = /not found/.test(script.error);
      results.push(fail(label, script.error, notFound ? `install the script on ${name} (the vrrp_script ${script.name} names it)` : `chmod 755 ${spec?.argv[0] ?? 'the script'} on ${name}`));
    } else if (script.error) {
      results.push(warn(label, script.error));
    } else {
      results.push(pass(label, `present and executable (exit ${String(script.exitCode)} now${spec?.user ? `, as ${spec.user}` : ''})`));
    }
  }
  return results;
}

/** The pair's configs consistent (virtual_router_id, VIP, unicast peers), from the nodes' facts once they are in. */
export function clusterChecks(cluster: ClusterConfig, facts: () => Promise<NodeFacts[]>): CheckGroup {
  return {
    name: `cluster ${cluster.name}`,
    async run(): Promise<CheckResult[]> {
      const known = (await facts()).filter((f) => cluster.nodes.some((n) => n.name === f.node));
      const read = known.filter((f) => f.configText !== undefined);
      const name = `${cluster.name} configs consistent`;
      if (read.length < cluster.nodes.length) {
        return [warn(name, `only ${read.length} of ${cluster.nodes.length} nodes' configs could be read; see the node checks above`)];
      }
      const mismatches = analyseCluster(cluster, known).warnings.filter((w) => w.code === 'config_mismatch' || w.code === 'priority_tie');
      if (mismatches.length === 0) return [pass(name, `${cluster.nodes.map((n) => n.name).join(' and ')} agree on router ids, VIPs and unicast peers`)];
      return mismatches.map((w) => fail(name, w.message, w.fixes?.join(' or ') ?? `edit ${cluster.nodes.map((n) => n.name).join('/')}'s keepalived.conf so they agree (vipbot render shows the intended files)`));
    },
  };
}
