/**
 * Turns one cluster's raw node facts into the `vip_status` view (SPEC §4, §6): who holds each VIP, each
 * node's keepalived and per-instance state, and the warnings an on-call engineer must see, most severe
 * first. Pure: the same facts always give the same status.
 *
 * keepalived behaviour this relies on (2.x):
 * - no `state` means BACKUP, no `priority` means 100;
 * - a track script with weight 0 (the default) puts the instance in FAULT when it exits non-zero; with a
 *   weight, success adds a positive weight and failure subtracts a negative one, clamped to 1..254;
 * - `nopreempt` is cleared when the initial state is MASTER ("nopreempt will not work with initial
 *   state MASTER - clearing"), so only a BACKUP with nopreempt really refrains from preempting;
 * - a `track_script` naming an undefined vrrp_script is ignored with a log line nobody reads.
 */
import { isIP } from 'node:net';
import type { ClusterConfig, NodeConfig, VipConfig } from '../config/config.ts';
import { describeError } from '../errors.ts';
import type { ClusterStatus, InstanceStatus, NodeFacts, NodeStatus, StatusWarning, TrackScriptResult, VipStatusEntry, WarningCode } from '../model.ts';
import { parseIpAddr, normaliseIpAddress } from './parse-ip-addr.ts';
import { parseKeepalivedConf, type KeepalivedConf, type VrrpInstance, type VrrpScript } from './parse-conf.ts';
import { parseSystemctlShow, summariseService, type ServiceSummary } from './parse-systemctl-show.ts';

/** Warning codes, most severe first: the order warnings are listed in. */
export const WARNING_ORDER: readonly WarningCode[] = [
  'split_brain',
  'vip_missing',
  'node_unreachable',
  'keepalived_down',
  'preempt_hazard',
  'config_mismatch',
  'check_failed',
  'priority_tie',
];

/** keepalived's defaults when a vrrp_instance leaves these out. */
const DEFAULT_STATE = 'BACKUP';
const DEFAULT_PRIORITY = 100;

/** Exit codes that mean the script never answered: timeout(1) 124, not executable 126, not found 127, killed 137. */
const NOT_AN_ANSWER: Record<number, string> = { 124: 'timed out', 126: 'not executable', 127: 'not found', 137: 'killed after timeout' };

/** `refused`: not run, because keepalived would not run it either (it then drops it from the instance). */
type CheckOutcome = 'pass' | 'fail' | 'error' | 'unknown' | 'refused';

interface TrackedCheck {
  name: string;
  script: VrrpScript | undefined;
  weight: number;
  result: TrackScriptResult | undefined;
  outcome: CheckOutcome;
}

/** Everything read from one node, parsed once. */
interface NodeView {
  config: NodeConfig;
  facts: NodeFacts | undefined;
  reachable: boolean;
  service: ServiceSummary | undefined;
  conf: KeepalivedConf | undefined;
  confError: string | undefined;
  /** Normalised addresses on the node; undefined when they could not be listed. */
  addresses: Set<string> | undefined;
  addrError: string | undefined;
}

interface InstanceView {
  vip: VipConfig;
  instance: VrrpInstance | undefined;
  status: InstanceStatus;
  checks: TrackedCheck[];
}

/**
 * Analyses one cluster. `facts` may come in any order and may miss nodes (a missing node counts as
 * unreachable). The clock argument is accepted for callers that pass one; the result does not depend on time.
 */
export function analyseCluster(cluster: ClusterConfig, facts: NodeFacts[], _now?: Date): ClusterStatus {
  const views = cluster.nodes.map((node) => readNode(node, facts.find((f) => f.node === node.name)));
  const instanceNames = unique(cluster.vips.map((v) => v.instance));
  const perNode = views.map((view) => instanceNames.map((name) => analyseInstance(view, cluster.vips.filter((v) => v.instance === name))));

  const nodes: NodeStatus[] = views.map((view, i) => {
    const errors = unique([view.facts?.error, view.confError, view.addrError].filter((e): e is string => !!e));
    const error = errors.filter((e) => !errors.some((other) => other !== e && other.includes(e))).join('; ');
    return {
      name: view.config.name,
      host: view.config.host,
      reachable: view.reachable,
      keepalived: view.service?.keepalived ?? 'unknown',
      instances: perNode[i]!.map((iv) => iv.status),
      ...(error ? { error } : {}),
    };
  });

  const vips: VipStatusEntry[] = cluster.vips.map((vip) => ({
    name: vip.name,
    instance: vip.instance,
    address: vip.address,
    holders: views.filter((v) => holdsAddress(v, vip.address)).map((v) => v.config.name),
  }));

  const warnings = collectWarnings(cluster, views, perNode, vips);
  return { name: cluster.name, vips, nodes, warnings };
}

function readNode(config: NodeConfig, facts: NodeFacts | undefined): NodeView {
  const view: NodeView = { config, facts, reachable: !!facts?.reachable, service: undefined, conf: undefined, confError: undefined, addresses: undefined, addrError: undefined };
  if (!facts?.reachable) return view;
  if (facts.systemctlShow !== undefined) view.service = summariseService(parseSystemctlShow(facts.systemctlShow));
  if (facts.configText !== undefined) {
    try {
      view.conf = parseKeepalivedConf(facts.configText);
    } catch (err) {
      view.confError = describeError(err);
    }
  }
  if (facts.ipAddr !== undefined) {
    try {
      view.addresses = new Set(parseIpAddr(facts.ipAddr).map((a) => a.address));
    } catch (err) {
      view.addrError = describeError(err);
    }
  }
  return view;
}

function holdsAddress(view: NodeView, address: string): boolean {
  return view.reachable && !!view.addresses?.has(normaliseIpAddress(address));
}

function classify(result: TrackScriptResult | undefined): CheckOutcome {
  if (!result) return 'unknown';
  if (result.refused) return 'refused';
  if (result.error !== undefined || result.exitCode === null || NOT_AN_ANSWER[result.exitCode]) return 'error';
  return result.exitCode === 0 ? 'pass' : 'fail';
}

function analyseInstance(view: NodeView, vips: VipConfig[]): InstanceView {
  const vip = vips[0]!;
  const name = vip.instance;
  const holdsVip = vips.some((v) => holdsAddress(view, v.address));
  const instance = view.conf?.instances.find((i) => i.name === name);
  if (!view.reachable || !instance) {
    const runtimeState = !view.reachable ? 'UNKNOWN' : view.service?.keepalived === 'inactive' ? 'STOPPED' : holdsVip ? 'MASTER' : 'UNKNOWN';
    return {
      vip,
      instance,
      checks: [],
      status: { name, state: 'UNKNOWN', priority: null, holdsVip, checksPass: null, runtimeState },
    };
  }
  const results = view.facts?.trackScripts ?? [];
  // keepalived ignores a track_script entry whose vrrp_script does not exist, and removes one it refuses
  // to run (script security, a missing user): neither counts here.
  const checks: TrackedCheck[] = instance.trackScripts
    .map((ref) => {
      const script = view.conf!.scripts.find((s) => s.name === ref.name);
      const result = results.find((r) => r.name === ref.name);
      return { name: ref.name, script, weight: ref.weight ?? script?.weight ?? 0, result, outcome: classify(result) };
    });
  const counted = checks.filter((c) => c.script && c.outcome !== 'refused');
  const priority = instance.priority ?? DEFAULT_PRIORITY;
  const checksPass = counted.some((c) => c.outcome === 'fail') ? false : counted.every((c) => c.outcome === 'pass') ? true : null;
  const fault = counted.some((c) => c.weight === 0 && c.outcome === 'fail');
  const effectivePriority = computeEffectivePriority(priority, counted);

  let runtimeState: NonNullable<InstanceStatus['runtimeState']>;
  if (view.service?.keepalived === 'inactive') runtimeState = 'STOPPED';
  else if (holdsVip) runtimeState = 'MASTER';
  else if (view.service?.keepalived !== 'active' || !view.addresses) runtimeState = 'UNKNOWN';
  else if (fault) runtimeState = 'FAULT';
  else runtimeState = 'BACKUP';

  return {
    vip,
    instance,
    checks,
    status: {
      name,
      state: instance.state ?? DEFAULT_STATE,
      priority,
      ...(effectivePriority !== undefined ? { effectivePriority } : {}),
      holdsVip,
      checksPass,
      runtimeState,
      checks: counted.map((c) => ({ name: c.name, exitCode: c.result?.exitCode ?? null, pass: c.outcome === 'pass' })),
    },
  };
}

/** Priority after weighted track scripts; undefined when none is weighted or a weighted result is unknown. */
function computeEffectivePriority(priority: number, checks: TrackedCheck[]): number | undefined {
  const weighted = checks.filter((c) => c.weight !== 0);
  if (weighted.length === 0) return undefined;
  if (weighted.some((c) => c.outcome !== 'pass' && c.outcome !== 'fail')) return undefined;
  // The address owner (255) is never adjusted.
  if (priority === 255) return 255;
  let effective = priority;
  for (const c of weighted) {
    if (c.weight > 0 && c.outcome === 'pass') effective += c.weight;
    if (c.weight < 0 && c.outcome === 'fail') effective += c.weight;
  }
  return Math.min(254, Math.max(1, effective));
}

function collectWarnings(cluster: ClusterConfig, views: NodeView[], perNode: InstanceView[][], vips: VipStatusEntry[]): StatusWarning[] {
  const found: StatusWarning[] = [];
  const warn = (code: WarningCode, message: string, nodes: string[], fixes?: string[]) => {
    found.push({ code, message, nodes, ...(fixes ? { fixes } : {}) });
  };
  const instancesFor = (vip: VipConfig) => views.map((view, i) => ({ view, iv: perNode[i]!.find((iv) => iv.status.name === vip.instance)! }));
  const label = (vip: VipConfig) => `VIP ${vip.name} (${vip.address})`;
  /** The same inside parentheses, where nested ones would read badly. */
  const ref = (vip: VipConfig) => `VIP ${vip.name}, ${vip.address}`;

  // split_brain, vip_missing, preempt_hazard: per VIP
  cluster.vips.forEach((vip, vi) => {
    const holders = vips[vi]!.holders;
    if (holders.length >= 2) {
      warn('split_brain', `${label(vip)} is up on ${list(holders)} at once (split brain): clients may reach either database. Check that the nodes receive each other's VRRP adverts (virtual_router_id, unicast_peer, firewall).`, holders);
    }
    const known = views.filter((v) => v.reachable && v.addresses);
    const unknown = views.filter((v) => !(v.reachable && v.addresses)).map((v) => v.config.name);
    if (holders.length === 0 && known.length > 0) {
      const reasons = instancesFor(vip).filter(({ view }) => view.reachable && view.addresses).map(({ view, iv }) => `${view.config.name}: ${whyNotHolding(view, iv)}`);
      const where = unknown.length === 0 ? `on any node (${reasons.join('; ')})` : `on any reachable node (${reasons.join('; ')}); it may be up on ${list(unknown)}, which could not be checked`;
      warn('vip_missing', `${label(vip)} is not up ${where}.`, views.map((v) => v.config.name));
    }
    if (holders.length === 1) {
      const holderName = holders[0]!;
      const entries = instancesFor(vip);
      const holder = entries.find(({ view }) => view.config.name === holderName)!;
      const holderPriority = holder.iv.status.priority;
      if (holderPriority !== null) {
        for (const { view, iv } of entries) {
          const other = view.config.name;
          if (other === holderName || !iv.instance || iv.status.priority === null || iv.status.priority <= holderPriority) continue;
          if (iv.instance.nopreempt && (iv.instance.state ?? DEFAULT_STATE) !== 'MASTER') continue;
          const failing = iv.checks.filter((c) => c.script && c.outcome !== 'pass').map((c) => c.name);
          const when = view.service?.keepalived !== 'active'
            ? 'as soon as keepalived starts there'
            : failing.length > 0
              ? `as soon as its track script ${list(failing)} passes (e.g. when its database starts in that role again)`
              : 'at its next advert';
          warn(
            'preempt_hazard',
            `${other} has priority ${iv.status.priority} for ${vip.instance}, above ${holderName}'s ${holderPriority}, so it will take ${label(vip)} from ${holderName} ${when}. ` +
              `Fix: /vip promote ${holderName} ${vip.name} (raise ${holderName} above ${iv.status.priority}) or /vip demote ${other} (stop keepalived on ${other}).`,
            [other, holderName],
            [`/vip promote ${holderName} ${vip.name}`, `/vip demote ${other}`],
          );
        }
      }
    }
  });

  // node_unreachable, keepalived_down: per node
  for (const view of views) {
    const name = view.config.name;
    if (!view.reachable) {
      // Same code either way (SPEC §4), but say which it is: a host that answers while sudo refuses
      // the bot needs its sudoers fixed, not its network checked.
      const how = view.facts?.errorCode === 'ssh_sudo_denied' ? 'answers over SSH, but its facts could not be read' : 'is unreachable';
      warn('node_unreachable', `${name} (${view.config.host}) ${how}: ${view.facts?.error ?? (view.facts ? 'no reason given' : 'no facts were collected')}. Its keepalived state and VIPs are unknown.`, [name]);
    } else if (view.service?.keepalived === 'inactive') {
      const state = [view.service.activeState, view.service.subState && view.service.subState !== view.service.activeState ? `(${view.service.subState})` : undefined].filter(Boolean).join(' ');
      warn('keepalived_down', `keepalived is not running on ${name} (${view.config.host}): ${state}. VIPs cannot move to ${name}; start it with /vip start ${name}.`, [name], [`/vip start ${name}`]);
    }
  }

  // config_mismatch
  for (const view of views) {
    if (view.confError) warn('config_mismatch', `keepalived.conf on ${view.config.name} cannot be parsed: ${view.confError}`, [view.config.name]);
  }
  for (const vip of cluster.vips) {
    const entries = instancesFor(vip).filter(({ view }) => view.conf);
    for (const { view, iv } of entries) {
      const name = view.config.name;
      if (!iv.instance) {
        const defined = view.conf!.instances.map((i) => i.name);
        warn('config_mismatch', `keepalived.conf on ${name} has no vrrp_instance ${vip.instance} (${ref(vip)} in vipbot.yaml); it defines ${defined.length ? defined.join(', ') : 'no vrrp_instance'}.`, [name]);
      } else if (!iv.instance.virtualIpaddresses.some((a) => normaliseIpAddress(a) === normaliseIpAddress(vip.address))) {
        warn('config_mismatch', `vrrp_instance ${vip.instance} on ${name} does not list ${vip.address} (VIP ${vip.name} in vipbot.yaml) in virtual_ipaddress; it lists ${iv.instance.virtualIpaddresses.join(', ') || 'nothing'}.`, [name]);
      }
    }
    const present = entries.filter(({ iv }) => iv.instance).map(({ view, iv }) => ({ view, inst: iv.instance! }));
    if (present.length >= 2) {
      const ids = present.map(({ inst }) => inst.virtualRouterId ?? 'unset');
      if (new Set(ids).size > 1) {
        warn('config_mismatch', `virtual_router_id of ${vip.instance} differs: ${present.map(({ view }, k) => `${view.config.name} ${ids[k]}`).join(', ')}. The nodes ignore each other's adverts and may both take ${label(vip)}.`, present.map(({ view }) => view.config.name));
      }
      const sets = present.map(({ inst }) => unique(inst.virtualIpaddresses.map(normaliseIpAddress)).sort().join(', '));
      const allListVip = present.every(({ inst }) => inst.virtualIpaddresses.some((a) => normaliseIpAddress(a) === normaliseIpAddress(vip.address)));
      if (allListVip && new Set(sets).size > 1) {
        warn('config_mismatch', `virtual_ipaddress of ${vip.instance} differs: ${present.map(({ view }, k) => `${view.config.name} ${sets[k]}`).join('; ')}.`, present.map(({ view }) => view.config.name));
      }
      if (present.some(({ inst }) => inst.unicastPeers.length > 0)) checkUnicastPeers(vip, present, warn);
    }
    for (const { view, iv } of entries) {
      for (const check of iv.checks.filter((c) => !c.script)) {
        warn('config_mismatch', `vrrp_instance ${vip.instance} on ${view.config.name} tracks ${check.name}, but no vrrp_script ${check.name} is defined: keepalived ignores it, so ${label(vip)} does not follow that check.`, [view.config.name]);
      }
    }
  }

  // check_failed
  for (const [i, view] of views.entries()) {
    if (!view.reachable) continue;
    const name = view.config.name;
    if (view.facts?.configText === undefined) {
      warn('check_failed', `keepalived.conf on ${name} could not be read${view.facts?.error ? `: ${view.facts.error}` : ''}. Its configured states and priorities are unknown.`, [name]);
    }
    if (view.service?.keepalived === 'unknown' || !view.service) {
      const seen = view.service?.activeState ? `ActiveState=${view.service.activeState}` : 'systemctl show gave no ActiveState';
      warn('check_failed', `keepalived's service state on ${name} is unknown (${seen}).`, [name]);
    }
    if (!view.addresses) {
      warn('check_failed', `addresses on ${name} could not be listed${view.addrError ? `: ${view.addrError}` : ' (ip -o addr show gave no output)'}; whether it holds a VIP is unknown.`, [name]);
    }
    const reported = new Set<string>();
    for (const iv of perNode[i]!) {
      for (const check of iv.checks) {
        if (check.outcome === 'refused' && !reported.has(check.name)) {
          reported.add(check.name);
          const refused = check.result!.refused!;
          const how = [check.script?.script, check.result?.runAs ? `as ${check.result.runAs}` : undefined].filter(Boolean).join(', ');
          const then = `keepalived does not track it then, so ${label(iv.vip)} does not follow that check`;
          const what = `track script ${check.name}${how ? ` (${how})` : ''}`;
          warn('check_failed', `${what} is not run on ${name}: ${refused.reason}; ${then}. Fix: ${refused.fix}.`, [name]);
        }
        if (check.outcome !== 'error' || reported.has(check.name)) continue;
        reported.add(check.name);
        const code = check.result?.exitCode;
        const why = [code === null || code === undefined ? 'no exit code' : `exit ${code}${NOT_AN_ANSWER[code] ? ` (${NOT_AN_ANSWER[code]})` : ''}`, check.result?.error].filter(Boolean).join(': ');
        const how = check.script ? ` (${check.script.script || 'no script line'}${check.script.user ? `, as ${check.script.user}` : ''})` : '';
        warn('check_failed', `track script ${check.name}${how} could not be run on ${name}: ${why}. Its result says nothing about the database role; check that the script exists and is executable${check.script?.user ? ` by ${check.script.user}` : ''}.`, [name]);
      }
    }
  }

  // priority_tie: per instance
  for (const instance of unique(cluster.vips.map((v) => v.instance))) {
    const vip = cluster.vips.find((v) => v.instance === instance)!;
    const byPriority = new Map<number, string[]>();
    instancesFor(vip).forEach(({ view, iv }) => {
      if (!iv.instance || iv.status.priority === null) return;
      byPriority.set(iv.status.priority, [...(byPriority.get(iv.status.priority) ?? []), view.config.name]);
    });
    for (const [priority, tied] of byPriority) {
      if (tied.length < 2) continue;
      warn('priority_tie', `${list(tied)} have the same priority ${priority} for ${instance} (${ref(vip)}): on a tie VRRP elects the node with the higher IP address, not the one with the right database role. Give them different priorities.`, tied);
    }
  }

  return WARNING_ORDER.flatMap((code) => found.filter((w) => w.code === code));
}

function checkUnicastPeers(
  vip: VipConfig,
  present: { view: NodeView; inst: VrrpInstance }[],
  warn: (code: WarningCode, message: string, nodes: string[]) => void,
): void {
  for (const { view, inst } of present) {
    const name = view.config.name;
    const peers = inst.unicastPeers.map(normaliseIpAddress);
    for (const partner of present) {
      if (partner.view === view) continue;
      const other = partner.view.config.name;
      const src = partner.inst.unicastSrcIp;
      // Without unicast_src_ip keepalived sends from the interface's primary address; the configured
      // host is the best guess we have, and only usable when it is an address.
      const expected = src ?? (isIP(partner.view.config.host) ? partner.view.config.host : undefined);
      if (expected === undefined || peers.includes(normaliseIpAddress(expected))) continue;
      const whose = src ? `${other}'s unicast_src_ip ${src}` : `${other}'s address ${expected} (it sets no unicast_src_ip)`;
      const message = inst.unicastPeers.length === 0
        ? `${name} has no unicast_peer for ${vip.instance} (it sends adverts by multicast) while ${other} uses unicast: ${other} never hears ${name}, and both may take VIP ${vip.name} (${vip.address}).`
        : `unicast_peer of ${vip.instance} on ${name} lists ${inst.unicastPeers.join(', ')}, not ${whose}: ${other} never hears ${name}'s adverts, and both may take VIP ${vip.name} (${vip.address}).`;
      warn('config_mismatch', message, [name, other]);
    }
  }
}

function whyNotHolding(view: NodeView, iv: InstanceView): string {
  if (view.service?.keepalived === 'inactive') return 'keepalived stopped';
  if (iv.status.runtimeState === 'FAULT') {
    const failing = iv.checks.filter((c) => c.script && c.weight === 0 && c.outcome === 'fail');
    return `FAULT, ${failing.map((c) => `${c.name} exit ${c.result?.exitCode ?? '?'}`).join(', ')}`;
  }
  if (!iv.instance) return `no vrrp_instance ${iv.status.name}`;
  return (iv.status.runtimeState ?? 'UNKNOWN').toLowerCase();
}

function list(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
