/**
 * Where each VIP will sit after a change, by keepalived's (VRRP's) election rules, from a cluster's
 * status. Pure: used by the planner for the plan's `expected` placement and its explanations; the job
 * then waits until the hosts match it.
 *
 * The rules this follows (RFC 5798 as keepalived 2.x implements it):
 * - A node can hold an instance's VIP only while it is reachable (else unknown: never predicted),
 *   keepalived runs there, and the instance is not in FAULT: every track script of the instance passes
 *   (a failing weight-0 script is FAULT; weighted ones are counted conservatively the same way, since
 *   the status does not say which scripts are weighted).
 * - The current MASTER keeps the VIP unless another eligible node has a STRICTLY higher (effective)
 *   priority: a BACKUP with the same priority does not preempt, because it only listens while adverts
 *   arrive. A BACKUP with `nopreempt` never preempts (keepalived clears `nopreempt` on `state MASTER`),
 *   honoured when the status carries it.
 * - With no eligible MASTER, the eligible node with the highest priority wins; on equal priority the
 *   one with the higher primary IP address (VRRP compares the advert's source address), so the node's
 *   `host` is used when it is an address.
 * - Two holders (split brain) settle the same way once they hear each other: the higher priority (then
 *   the higher address) stays.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ClusterStatus, InstanceStatus, NodeStatus, VipStatusEntry } from '../model.ts';
import type { VipPlacement } from './types.ts';

/** A change to predict from: one node's priority on one instance, or its keepalived service state. */
export interface PlacementChange {
  node: string;
  /** The instance whose priority changes (with `priority`). */
  instance?: string;
  /** New configured priority of `instance` on `node`. */
  priority?: number;
  /** keepalived on `node` after the change. */
  keepalived?: 'active' | 'inactive';
}

/** One node as a candidate for one VIP after the change. */
export interface PlacementCandidate {
  node: string;
  /** Holds the VIP now. */
  holds: boolean;
  eligible: boolean;
  /** Why the node cannot hold the VIP (e.g. "unreachable", "chk_primary exits 1"); absent when eligible. */
  reason?: string;
  /** Configured priority after the change; null when unknown. */
  priority: number | null;
  /** Priority that takes part in the election (weighted track scripts applied); null when unknown. */
  effectivePriority: number | null;
}

/** How one VIP's placement was decided. */
export type PlacementRule =
  /** The holder stays: no eligible node has a strictly higher priority. */
  | 'stays'
  /** An eligible node with a strictly higher priority takes it from the holder. */
  | 'preempted'
  /** No eligible holder: the eligible node with the highest priority takes it. */
  | 'elected'
  /** As `elected`, but between equal priorities the higher IP address decided. */
  | 'elected_by_address'
  /** No node is eligible: the VIP will be up nowhere. */
  | 'nowhere';

/** The prediction for one VIP, with the reasoning the plan shows. */
export interface VipPrediction {
  vip: string;
  instance: string;
  address: string;
  before: string[];
  after: string[];
  rule: PlacementRule;
  candidates: PlacementCandidate[];
}

/** Where the VIPs are now: VIP name → holders (reachable nodes only; an unreachable one is unknown). */
export function currentPlacement(status: ClusterStatus): VipPlacement {
  return Object.fromEntries(status.vips.map((vip) => [vip.name, [...vip.holders]]));
}

/** Where each VIP will be after `change` (none: where keepalived will put them as things stand). */
export function predictPlacement(status: ClusterStatus, change?: PlacementChange): VipPlacement {
  return Object.fromEntries(explainPlacement(status, change).map((p) => [p.vip, p.after]));
}

/** `predictPlacement` with the candidates and the rule that decided each VIP. */
export function explainPlacement(status: ClusterStatus, change?: PlacementChange): VipPrediction[] {
  return status.vips.map((vip) => predictVip(status, vip, change));
}

function predictVip(status: ClusterStatus, vip: VipStatusEntry, change: PlacementChange | undefined): VipPrediction {
  const candidates = status.nodes.map((node) => assessCandidate(node, vip, change));
  const base = { vip: vip.name, instance: vip.instance, address: vip.address, before: [...vip.holders], candidates };
  const eligible = candidates.filter((c) => c.eligible);
  const byHost = new Map(status.nodes.map((n) => [n.name, n.host]));
  const ranked = [...eligible].sort((a, b) => compareCandidates(b, a, byHost));
  const holders = ranked.filter((c) => c.holds);
  if (holders.length > 0) {
    const holder = holders[0]!;
    const challenger = ranked.find((c) => !c.holds && c.effectivePriority! > holder.effectivePriority! && mayPreempt(status, c.node, vip.instance));
    return challenger ? { ...base, after: [challenger.node], rule: 'preempted' } : { ...base, after: [holder.node], rule: 'stays' };
  }
  const winner = ranked[0];
  if (!winner) return { ...base, after: [], rule: 'nowhere' };
  const tied = ranked.length > 1 && ranked[1]!.effectivePriority === winner.effectivePriority;
  return { ...base, after: [winner.node], rule: tied ? 'elected_by_address' : 'elected' };
}

function assessCandidate(node: NodeStatus, vip: VipStatusEntry, change: PlacementChange | undefined): PlacementCandidate {
  const instance = node.instances.find((i) => i.name === vip.instance);
  const holds = vip.holders.includes(node.name);
  const changed = change?.node === node.name ? change : undefined;
  const keepalived = changed?.keepalived ?? node.keepalived;
  const { priority, effectivePriority } = prioritiesAfter(instance, changed);
  const base = { node: node.name, holds, priority, effectivePriority };
  const ineligible = (reason: string): PlacementCandidate => ({ ...base, eligible: false, reason });
  if (!node.reachable) return ineligible('unreachable');
  if (keepalived === 'inactive') return ineligible(changed?.keepalived === 'inactive' ? 'keepalived would be stopped' : 'keepalived is stopped');
  if (keepalived !== 'active') return ineligible("keepalived's state is unknown");
  if (!instance || instance.priority === null || effectivePriority === null) {
    return ineligible(instance?.state === 'UNKNOWN' || !instance ? `its config for ${vip.instance} could not be read` : `its priority for ${vip.instance} is unknown`);
  }
  if (instance.checksPass === false) return ineligible(describeFailingChecks(instance));
  if (instance.checksPass !== true) return ineligible(`its track script result for ${vip.instance} is unknown`);
  return { ...base, eligible: true };
}

/**
 * Priorities after a priority change. A weighted track script shifts the configured priority by a
 * fixed amount, so the same shift is applied to the new value (clamped to 1..254 like keepalived);
 * only a shift that was itself clamped is not recovered, which matters only at the ends of the range.
 */
function prioritiesAfter(instance: InstanceStatus | undefined, change: PlacementChange | undefined): { priority: number | null; effectivePriority: number | null } {
  const configured = instance?.priority ?? null;
  const effective = instance?.effectivePriority ?? configured;
  if (!instance || change?.priority === undefined || change.instance !== instance.name) return { priority: configured, effectivePriority: effective };
  const shift = configured !== null && effective !== null ? effective - configured : 0;
  const next = change.priority;
  // The address owner (255) is never adjusted by track scripts.
  const nextEffective = next === 255 || shift === 0 ? next : Math.min(254, Math.max(1, next + shift));
  return { priority: next, effectivePriority: nextEffective };
}

/** "chk_primary exits 1", "chk_a exits 1 and chk_b exits 3". */
export function describeFailingChecks(instance: InstanceStatus): string {
  const failing = (instance.checks ?? []).filter((c) => !c.pass);
  if (failing.length === 0) return `a track script of ${instance.name} fails`;
  const parts = failing.map((c) => `${c.name} ${c.exitCode === null ? 'gives no exit code' : `exits ${c.exitCode}`}`);
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/** keepalived clears `nopreempt` when the initial state is MASTER; the flag is read only if the status carries it. */
function mayPreempt(status: ClusterStatus, node: string, instanceName: string): boolean {
  const instance = status.nodes.find((n) => n.name === node)?.instances.find((i) => i.name === instanceName) as (InstanceStatus & { nopreempt?: boolean }) | undefined;
  return !(instance?.nopreempt === true && instance.state !== 'MASTER');
}

/** Higher effective priority first, then the higher IP address (VRRP's tie-break), then the name for a stable order. */
function compareCandidates(a: PlacementCandidate, b: PlacementCandidate, hosts: Map<string, string>): number {
  const pa = a.effectivePriority ?? -1;
  const pb = b.effectivePriority ?? -1;
  if (pa !== pb) return pa - pb;
  const ia = addressRank(hosts.get(a.node));
  const ib = addressRank(hosts.get(b.node));
  if (ia !== ib) return ia < ib ? -1 : 1;
  return a.node < b.node ? 1 : a.node > b.node ? -1 : 0;
}

/** An IP address as a number for comparison; a DNS name ranks below any address (its address is not known here). */
function addressRank(host: string | undefined): bigint {
  if (!host) return -1n;
  if (isIPv4(host)) return host.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  if (isIPv6(host)) {
    const bare = host.split('%')[0]!.toLowerCase();
    const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(bare);
    const text = v4 ? `${bare.slice(0, v4.index)}${((Number(v4[1]) << 8) | Number(v4[2])).toString(16)}:${((Number(v4[3]) << 8) | Number(v4[4])).toString(16)}` : bare;
    const [left, right] = text.includes('::') ? text.split('::') : [text, undefined];
    const head = left ? left.split(':') : [];
    const tail = right ? right.split(':') : [];
    const groups = right === undefined ? head : [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
    // IPv6 ranks above IPv4; a pair never mixes them in one VRRP instance anyway.
    return (1n << 128n) + groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  }
  return -1n;
}
