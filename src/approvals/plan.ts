/**
 * The planner for destructive actions (SPEC §5.1): from the facts just collected on the hosts, what
 * `/vip promote|demote|start` would change, the node commands it would run, where each VIP should end
 * up, and the pre-checks that decide whether it may be requested at all. Pure: no I/O, the same facts
 * and clock always give the same plan, so it is table-tested from fixtures and the job can trust it.
 *
 * The notes' hazard this exists for: after a failover the old primary still has `state MASTER` and the
 * higher priority, so when its database comes back as PRIMARY its track script passes and keepalived
 * takes the primary VIP back. Fix (a), `promote`, raises the new primary above every peer; fix (b),
 * `demote`, stops keepalived on the old primary.
 */
import type { ClusterConfig, KeepalivedSettings, VipConfig } from '../config/config.ts';
import { describeError, VipbotError } from '../errors.ts';
import {
  backupConfig,
  copyOwnerMode,
  formatCommand,
  installConfig,
  serviceReload,
  serviceRestart,
  serviceStart,
  serviceStop,
  stageConfig,
  stagingPathFor,
  testConfig,
  timestampedBackupPathFor,
  type NodeCommand,
} from '../hosts/node-commands.ts';
import { analyseCluster } from '../keepalived/analyse-cluster.ts';
import { MAX_PRIORITY, setInstancePriority } from '../keepalived/edit-conf.ts';
import { parseKeepalivedConf, type KeepalivedConf, type VrrpInstance } from '../keepalived/parse-conf.ts';
import { unifiedDiff } from '../keepalived/unified-diff.ts';
import type { ClusterStatus, InstanceStatus, NodeFacts, NodeStatus } from '../model.ts';
import { currentPlacement, describeFailingChecks, explainPlacement, predictPlacement, type PlacementChange, type VipPrediction } from './predict-placement.ts';
import type { Action, Plan, PlannedCommand, PreCheck, VipPlacement } from './types.ts';

/** keepalived's priority when a vrrp_instance sets none. */
const DEFAULT_PRIORITY = 100;

/** What the planner needs: the request (already validated by the command layer) and the live facts. */
export interface PlanInput {
  action: Action;
  cluster: ClusterConfig;
  node: string;
  /** VIP name (promote); default: the cluster's first VIP. */
  vip?: string;
  /** demote: go ahead even when a VIP the node holds would be up nowhere. */
  force?: boolean;
  /** Facts of the cluster's nodes, as collected just now (a missing node counts as unreachable). */
  facts: NodeFacts[];
  /** The target node's keepalived settings (after cluster/node overrides). */
  settings: KeepalivedSettings;
  /** Planning time: names the timestamped backup. Default: now. */
  now?: Date;
}

/**
 * Builds the plan for `promote`, `demote` or `start` on `input.node`. A plan that must not run says
 * why in `refusal`: the first failed blocker (with what would work), else the no-op reason when
 * `noop` is set ("nothing to do"; a no-op runs no command). `checks` lists every check made, passed
 * or not. Throws `unknown_node` / `unknown_vip` (VipbotError) for names the command layer should
 * have refused.
 */
export function buildPlan(input: PlanInput): Plan {
  const { cluster, node } = input;
  if (!cluster.nodes.some((n) => n.name === node)) {
    throw new VipbotError('unknown_node', `No node is called \`${node}\` in cluster ${cluster.name}.`, `Its nodes: ${cluster.nodes.map((n) => n.name).join(', ')}.`);
  }
  const vip = input.vip === undefined ? undefined : cluster.vips.find((v) => v.name === input.vip);
  if (input.vip !== undefined && !vip) {
    throw new VipbotError('unknown_vip', `Cluster ${cluster.name} has no VIP called \`${input.vip}\`.`, `Its VIPs: ${cluster.vips.map((v) => v.name).join(', ')}.`);
  }
  const status = analyseCluster(cluster, input.facts);
  const ctx: PlanContext = {
    input,
    status,
    target: status.nodes.find((n) => n.name === node)!,
    facts: input.facts.find((f) => f.node === node),
    checks: [],
    base: {
      action: input.action,
      cluster: cluster.name,
      node,
      before: currentPlacement(status),
      service: input.settings.service,
      convergeTimeoutMs: input.settings.convergeTimeout,
      apply: input.settings.apply,
      configPath: input.settings.configPath,
    },
  };
  switch (input.action) {
    case 'promote':
      return planPromotion(ctx, vip ?? cluster.vips[0]!);
    case 'demote':
      return planServiceChange(ctx, 'inactive');
    case 'start':
      return planServiceChange(ctx, 'active');
  }
}

interface PlanContext {
  input: PlanInput;
  status: ClusterStatus;
  target: NodeStatus;
  facts: NodeFacts | undefined;
  checks: PreCheck[];
  base: Pick<Plan, 'action' | 'cluster' | 'node' | 'before' | 'service' | 'convergeTimeoutMs' | 'apply' | 'configPath'>;
}

/** What a plan adds to the common fields. */
type PlanParts = Omit<Plan, keyof PlanContext['base'] | 'checks' | 'refusal' | 'noop'>;

function check(ctx: PlanContext, severity: PreCheck['severity'], ok: boolean, message: string): void {
  ctx.checks.push({ ok, severity, message });
}

/** Assembles the plan: the refusal is the first failed blocker, else the no-op reason. */
function finish(ctx: PlanContext, parts: PlanParts, noop?: string): Plan {
  const blocker = ctx.checks.find((c) => c.severity === 'blocker' && !c.ok);
  const refusal = blocker?.message ?? noop;
  return {
    ...ctx.base,
    ...parts,
    checks: ctx.checks,
    ...(refusal !== undefined ? { refusal } : {}),
    ...(noop !== undefined ? { noop: true } : {}),
  };
}

function planned(node: string, commands: NodeCommand[]): PlannedCommand[] {
  return commands.map((cmd) => ({ node, id: cmd.id, display: formatCommand(cmd) }));
}

// ---------------------------------------------------------------------------------------------
// promote (fix a)

function planPromotion(ctx: PlanContext, vip: VipConfig): Plan {
  const { input, target, status } = ctx;
  const node = target.name;
  const instance = vip.instance;
  const stay = (): PlanParts => ({ vip: vip.name, instance, commands: [], expected: predictPlacement(status) });

  if (!checkReachable(ctx)) return finish(ctx, stay());
  const read = readConf(ctx.facts);
  if ('error' in read) {
    check(ctx, 'blocker', false, `keepalived.conf on ${node} could not be read: ${read.error} — fix the file (or the read) and request again`);
    return finish(ctx, stay());
  }
  const own = read.conf.instances.find((i) => i.name === instance);
  if (!own) {
    const defined = read.conf.instances.map((i) => i.name);
    check(ctx, 'blocker', false, `keepalived.conf on ${node} has no vrrp_instance ${instance} (it defines ${defined.length ? defined.join(', ') : 'none'}) — fix the instance of VIP ${vip.name} in vipbot.yaml or the file`);
    return finish(ctx, stay());
  }
  const current = own.priority ?? DEFAULT_PRIORITY;
  check(ctx, 'blocker', true, `${node}'s keepalived.conf defines ${instance} with priority ${current}${own.priority === undefined ? " (keepalived's default: no priority line)" : ''}`);

  // Peers' configured priorities: an unreachable peer is the failover case, so a warning, not a refusal.
  const peers = ctx.status.nodes.filter((n) => n.name !== node).map((peer) => readPeer(ctx, peer, instance));
  for (const peer of peers) {
    if (peer.priority !== null) check(ctx, 'warning', true, `${peer.node}'s priority for ${instance} is ${peer.priority}`);
    else check(ctx, 'warning', false, `${peer.unknownBecause}: its priority is unknown; planning from the others`);
  }
  const known = peers.filter((p): p is PeerPriority & { priority: number } => p.priority !== null);
  if (peers.length === 0) {
    check(ctx, 'blocker', false, `cluster ${ctx.base.cluster} has no other node, so there is nothing to raise ${node} above`);
    return finish(ctx, stay());
  }
  // The failover case of the notes: the old primary is down and cannot be read. Its priority is
  // unknown, so aim for the highest a backup may have: whatever it has, it cannot take the VIP back.
  const top: { node: string; priority: number } = known.length > 0
    ? known.reduce((a, b) => (b.priority > a.priority ? b : a))
    : { node: peers.map((p) => p.node).join(', '), priority: MAX_PRIORITY - input.settings.promoteStep };
  if (known.length === 0) {
    check(ctx, 'warning', false, `no peer's priority for ${instance} is known (${peers.map((p) => p.node).join(', ')} unreachable): planning ${MAX_PRIORITY}, the highest a backup may use, so ${node} keeps the VIP whatever the peer has`);
  }

  checkServiceRunning(ctx, `the new priority would not take effect — /vip start ${node} first`);
  checkTrackScripts(ctx, vip);

  if (current > top.priority) {
    const noop = `${node} already has the highest priority (${current} > ${top.priority}) for ${instance}; nothing to do`;
    check(ctx, 'info', false, noop);
    return finish(ctx, stay(), noop);
  }

  const wanted = top.priority + input.settings.promoteStep;
  const next = Math.min(MAX_PRIORITY, wanted);
  if (next <= top.priority) {
    check(ctx, 'blocker', false, `${top.node} already has priority ${top.priority} for ${instance}, the highest VRRP allows, so ${node} cannot be raised above it — lower it on ${top.node}, or /vip demote ${top.node}`);
    return finish(ctx, stay());
  }
  check(ctx, 'info', true, known.length === 0
    ? `new priority of ${node} for ${instance}: ${next} (peer priority unknown)`
    : `new priority of ${node} for ${instance}: ${next} = ${top.node}'s ${top.priority} + promoteStep ${input.settings.promoteStep}${next < wanted ? `, capped at ${MAX_PRIORITY} (the highest a VRRP backup may use)` : ''}`);
  checkWeights(ctx, read.conf, own, next, known, instance);

  let edit;
  try {
    edit = setInstancePriority(read.text, instance, next);
  } catch (err) {
    check(ctx, 'blocker', false, `cannot change the priority in ${node}'s keepalived.conf: ${describeError(err)}`);
    return finish(ctx, { ...stay(), priority: { before: current, after: next } });
  }
  const configPath = input.settings.configPath;
  const staging = stagingPathFor(configPath);
  const commands = [
    backupConfig(configPath, timestampedBackupPathFor(configPath, input.now ?? new Date())),
    stageConfig(staging, edit.text),
    ...copyOwnerMode(configPath, staging),
    // The new file's test is judged against the current file's (keepalived -t is not a reliable oracle alone).
    testConfig(staging),
    testConfig(configPath),
    installConfig(staging, configPath),
    input.settings.apply === 'restart' ? serviceRestart(input.settings.service) : serviceReload(input.settings.service),
  ];
  const change: PlacementChange = { node, instance, priority: next };
  const predictions = explainPlacement(status, change);
  for (const prediction of predictions.filter((p) => p.instance === instance)) {
    check(ctx, 'info', true, describePromotionOutcome(prediction, node, next, known, vipOf(ctx, prediction.vip)));
  }
  return finish(ctx, {
    vip: vip.name,
    instance,
    priority: { before: current, after: next },
    baseConfig: read.text,
    newConfig: edit.text,
    diff: unifiedDiff(read.text, edit.text, configPath),
    commands: planned(node, commands),
    expected: placementOf(predictions),
  });
}

interface PeerPriority {
  node: string;
  priority: number | null;
  conf?: KeepalivedConf;
  instance?: VrrpInstance;
  /** Why the priority is unknown: "node1 unreachable", … */
  unknownBecause?: string;
}

function readPeer(ctx: PlanContext, peer: NodeStatus, instance: string): PeerPriority {
  if (!peer.reachable) return { node: peer.name, priority: null, unknownBecause: `${peer.name} unreachable` };
  const read = readConf(ctx.input.facts.find((f) => f.node === peer.name));
  if ('error' in read) return { node: peer.name, priority: null, unknownBecause: `${peer.name}'s keepalived.conf could not be read (${read.error})` };
  const found = read.conf.instances.find((i) => i.name === instance);
  if (!found) return { node: peer.name, priority: null, unknownBecause: `${peer.name}'s keepalived.conf has no vrrp_instance ${instance}` };
  return { node: peer.name, priority: found.priority ?? DEFAULT_PRIORITY, conf: read.conf, instance: found };
}

function readConf(facts: NodeFacts | undefined): { text: string; conf: KeepalivedConf } | { error: string } {
  if (facts?.configText === undefined) return { error: facts?.error ?? 'it was not read' };
  try {
    return { text: facts.configText, conf: parseKeepalivedConf(facts.configText) };
  } catch (err) {
    return { error: describeError(err) };
  }
}

/**
 * Weighted track scripts move effective priorities: a peer whose passing scripts add weight may still
 * outrank the new priority. Configured priorities are what promote sets; this only warns.
 */
function checkWeights(ctx: PlanContext, ownConf: KeepalivedConf, own: VrrpInstance, next: number, peers: PeerPriority[], instance: string): void {
  const gain = (conf: KeepalivedConf, inst: VrrpInstance) =>
    inst.trackScripts.reduce((sum, ref) => {
      const script = conf.scripts.find((s) => s.name === ref.name);
      const weight = script ? (ref.weight ?? script.weight ?? 0) : 0;
      return weight > 0 ? sum + weight : sum;
    }, 0);
  const ownTop = Math.min(MAX_PRIORITY, next + gain(ownConf, own));
  for (const peer of peers) {
    if (!peer.conf || !peer.instance || peer.priority === null) continue;
    const peerTop = Math.min(MAX_PRIORITY, peer.priority + gain(peer.conf, peer.instance));
    if (peerTop > ownTop) {
      check(ctx, 'warning', false, `${peer.node}'s weighted track scripts can lift it to ${peerTop} for ${instance}, above ${ctx.target.name}'s ${ownTop}: it may still take the VIP when they pass`);
    }
  }
}

function describePromotionOutcome(prediction: VipPrediction, node: string, next: number, peers: (PeerPriority & { priority: number })[], vip: VipConfig): string {
  const label = vipLabel(vip);
  const outranked = peers.map((p) => `${p.node} will not take it from ${node} even when ${describeRoleCheck(p)} (${next} > ${p.priority})`).join('; ');
  if (prediction.after.length === 1 && prediction.after[0] === node) {
    const where = prediction.before.length === 1 && prediction.before[0] === node ? `stays on ${node}` : prediction.before.length === 0 ? `comes up on ${node}` : `moves from ${prediction.before.join(' and ')} to ${node}`;
    return `${label} ${where}; ${outranked}`;
  }
  const target = prediction.candidates.find((c) => c.node === node);
  const why = target && !target.eligible ? ` (${node}: ${target.reason})` : '';
  return `${label} ${describeMove(prediction)}${why}; once ${node} can hold it, ${outranked}`;
}

/** "its chk_primary passes" / "keepalived runs there" for a peer without track scripts. */
function describeRoleCheck(peer: PeerPriority): string {
  const names = peer.instance?.trackScripts.filter((ref) => peer.conf?.scripts.some((s) => s.name === ref.name)).map((ref) => ref.name) ?? [];
  return names.length === 0 ? 'it is up' : `its ${names.join(' and ')} ${names.length === 1 ? 'passes' : 'pass'}`;
}

// ---------------------------------------------------------------------------------------------
// demote (fix b) and start

function planServiceChange(ctx: PlanContext, after: 'active' | 'inactive'): Plan {
  const { input, target, status } = ctx;
  const node = target.name;
  const verb = after === 'inactive' ? 'stop' : 'start';
  const unchanged = (): PlanParts => ({ commands: [], expected: predictPlacement(status) });
  if (!checkReachable(ctx)) return finish(ctx, unchanged());
  const serviceActiveBefore = target.keepalived === 'unknown' ? {} : { serviceActiveBefore: target.keepalived === 'active' };
  if (target.keepalived === after) {
    const noop = `keepalived is already ${after === 'active' ? 'running' : 'stopped'} on ${node}; nothing to do`;
    check(ctx, 'info', false, noop);
    return finish(ctx, { ...unchanged(), ...serviceActiveBefore }, noop);
  }
  if (target.keepalived === 'unknown') {
    check(ctx, 'warning', false, `keepalived's state on ${node} is unknown (systemctl show gave no ActiveState); planning as if it were ${after === 'active' ? 'stopped' : 'running'}`);
  } else {
    check(ctx, 'info', true, `keepalived is ${target.keepalived === 'active' ? 'running' : 'stopped'} on ${node}; the plan ${verb}s it`);
  }

  const change: PlacementChange = { node, keepalived: after };
  const predictions = explainPlacement(status, change);
  for (const prediction of predictions) {
    const vip = vipOf(ctx, prediction.vip);
    const label = vipLabel(vip);
    const moved = !samePlacement(prediction.before, prediction.after);
    if (after === 'inactive' && prediction.before.includes(node) && prediction.after.length === 0) {
      const others = prediction.candidates.filter((c) => c.node !== node && !c.eligible).map((c) => `${c.node} is not eligible (${c.reason})`);
      const why = others.length ? others.join('; ') : `no other node serves ${vip.instance}`;
      if (input.force) check(ctx, 'warning', false, `the ${label} would go nowhere: ${why} — going ahead because of --force`);
      else check(ctx, 'blocker', false, `the ${label} would go nowhere: ${why} — fix that first, or /vip demote ${node} --force to stop it anyway`);
    } else if (after === 'active' && moved) {
      check(ctx, 'warning', false, `starting keepalived on ${node} moves a VIP: the ${label} ${describeMove(prediction)} (${explainMove(prediction, ctx.status)})`);
    } else if (after === 'inactive' && moved) {
      check(ctx, 'info', true, `${label} ${describeMove(prediction)}: ${explainMove(prediction, ctx.status)}`);
    } else {
      const latent = describeLatentHazard(ctx, prediction, after);
      check(ctx, 'info', true, `${label} ${describeMove(prediction)}${latent.note ?? ''}`);
      if (latent.warning) check(ctx, 'warning', false, latent.warning);
    }
  }
  checkUnknownNodes(ctx, node);
  return finish(ctx, {
    ...serviceActiveBefore,
    commands: planned(node, [after === 'inactive' ? serviceStop(input.settings.service) : serviceStart(input.settings.service)]),
    expected: placementOf(predictions),
  });
}

/**
 * For a VIP that does not move: what the change does to the notes' hazard, i.e. the target having a
 * higher priority than the holder and only waiting for its track script to pass (or for keepalived).
 * demote: a note that the hazard is gone; start: a warning that it comes back, with the fix.
 */
function describeLatentHazard(ctx: PlanContext, prediction: VipPrediction, after: 'active' | 'inactive'): { note?: string; warning?: string } {
  const node = ctx.target.name;
  const holder = prediction.after.length === 1 ? prediction.after[0]! : undefined;
  if (!holder || holder === node) return {};
  const own = instanceOf(ctx.target, prediction.instance);
  const theirs = instanceOf(ctx.status.nodes.find((n) => n.name === holder), prediction.instance);
  const mine = own?.effectivePriority ?? own?.priority;
  const held = theirs?.effectivePriority ?? theirs?.priority;
  if (mine === undefined || mine === null || held === undefined || held === null || mine <= held) return {};
  if (after === 'inactive') return { note: `; ${node} cannot take it back while keepalived is stopped there (it has the higher priority, ${mine} > ${held})` };
  const failing = (own?.checks ?? []).filter((c) => !c.pass).map((c) => c.name);
  const when = failing.length ? `as soon as ${failing.join(' and ')} ${failing.length === 1 ? 'passes' : 'pass'} there` : 'when it becomes eligible';
  return {
    warning: `${node} has the higher priority for ${prediction.instance} (${mine} > ${held}): once started it will take the ${vipLabel(vipOf(ctx, prediction.vip))} from ${holder} ${when} — /vip promote ${holder} ${prediction.vip} first to prevent that`,
  };
}

// ---------------------------------------------------------------------------------------------
// shared checks and wording

function checkReachable(ctx: PlanContext): boolean {
  const { target } = ctx;
  if (!target.reachable) {
    check(ctx, 'blocker', false, `${target.name} (${target.host}) is unreachable${target.error ? `: ${target.error}` : ''} — nothing can be planned for it; check SSH to ${target.host} and request again`);
    return false;
  }
  check(ctx, 'blocker', true, `${target.name} (${target.host}) is reachable`);
  return true;
}

function checkServiceRunning(ctx: PlanContext, consequence: string): void {
  const { target } = ctx;
  if (target.keepalived === 'active') check(ctx, 'blocker', true, `keepalived is running on ${target.name}`);
  else if (target.keepalived === 'inactive') check(ctx, 'blocker', false, `keepalived is not running on ${target.name}: ${consequence}`);
  else check(ctx, 'blocker', false, `keepalived's state on ${target.name} is unknown: ${consequence}`);
}

/** promote refuses when the target's track script fails: a higher priority would not move the VIP there. */
function checkTrackScripts(ctx: PlanContext, vip: VipConfig): void {
  const node = ctx.target.name;
  const own = instanceOf(ctx.target, vip.instance);
  if (own?.checksPass === true) {
    const names = (own.checks ?? []).map((c) => c.name);
    check(ctx, 'blocker', true, names.length ? `${names.join(' and ')} ${names.length === 1 ? 'passes' : 'pass'} on ${node}` : `${vip.instance} on ${node} tracks no script`);
    return;
  }
  const passing = ctx.status.nodes.filter((n) => n.name !== node && instanceOf(n, vip.instance)?.checksPass === true).map((n) => n.name);
  const advice = passing.length ? ` — /vip promote ${passing[0]} ${vip.name} instead (its check passes)` : ' — no node passes it now; check the databases first';
  if (own?.checksPass === false) {
    check(ctx, 'blocker', false, `promoting ${node} would not move the VIP: ${describeFailingChecks(own)} there${advice}`);
  } else {
    const names = (own?.checks ?? []).filter((c) => !c.pass).map((c) => `${c.name} (${c.exitCode === null ? 'no exit code' : `exit ${c.exitCode}`})`);
    check(ctx, 'blocker', false, `promoting ${node} may not move the VIP: the result of ${names.length ? names.join(' and ') : `its track scripts for ${vip.instance}`} on ${node} is unknown${advice}`);
  }
}

/**
 * Other nodes that cannot be reached are unknown: left out of where the VIPs should end up (promote
 * says so with the peer priorities instead).
 */
function checkUnknownNodes(ctx: PlanContext, node: string): void {
  for (const other of ctx.status.nodes) {
    if (other.name !== node && !other.reachable) {
      check(ctx, 'warning', false, `${other.name} unreachable: its keepalived state and VIPs are unknown; it is left out of where the VIPs should end up`);
    }
  }
}

/** "moves from node1 to node2", "stays on node2", "comes up on node2", "goes down", "stays down". */
function describeMove(prediction: VipPrediction): string {
  const { before, after } = prediction;
  const names = (list: string[]) => list.join(' and ');
  if (samePlacement(before, after)) return after.length ? `stays on ${names(after)}` : 'stays down (on no node)';
  if (after.length === 0) return `goes down (on no node; now on ${names(before)})`;
  if (before.length === 0) return `comes up on ${names(after)}`;
  return `moves from ${names(before)} to ${names(after)}`;
}

/** Why a VIP moves, in VRRP terms. */
function explainMove(prediction: VipPrediction, status: ClusterStatus): string {
  const winner = prediction.candidates.find((c) => c.node === prediction.after[0]);
  const holder = prediction.candidates.find((c) => prediction.before.includes(c.node));
  if (!winner) {
    const reasons = prediction.candidates.map((c) => `${c.node}: ${c.reason ?? 'eligible'}`).join('; ');
    return `no node is eligible (${reasons})`;
  }
  if (prediction.rule === 'preempted' && holder) {
    return `${winner.node} has the higher priority for ${prediction.instance}, ${winner.effectivePriority} > ${holder.effectivePriority}`;
  }
  const lost = holder && !holder.eligible ? `${holder.node} cannot keep it (${holder.reason})` : prediction.before.length === 0 ? 'no node holds it now' : '';
  const tie = prediction.rule === 'elected_by_address' ? `; equal priority ${winner.effectivePriority}, so the higher address wins: ${status.nodes.find((n) => n.name === winner.node)?.host}` : '';
  return `${lost || `${winner.node} is elected`}${tie}`;
}

function placementOf(predictions: VipPrediction[]): VipPlacement {
  return Object.fromEntries(predictions.map((p) => [p.vip, p.after]));
}

function samePlacement(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

function instanceOf(node: NodeStatus | undefined, instance: string): InstanceStatus | undefined {
  return node?.instances.find((i) => i.name === instance);
}

function vipOf(ctx: PlanContext, name: string): VipConfig {
  return ctx.input.cluster.vips.find((v) => v.name === name)!;
}

function vipLabel(vip: VipConfig): string {
  return `${vip.name} VIP (${vip.address})`;
}
