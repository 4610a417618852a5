/**
 * The shared vocabulary: what a node looks like once its facts are collected (input to the analysis)
 * and the `vip_status` result (SPEC §6), which is both Slack message metadata and `vipbot status --json`.
 */
import { z } from 'zod';

export const WarningCode = z.enum([
  'split_brain',
  'vip_missing',
  'preempt_hazard',
  'keepalived_down',
  'node_unreachable',
  'check_failed',
  'config_mismatch',
  'priority_tie',
]);
export type WarningCode = z.infer<typeof WarningCode>;

export const StatusWarning = z.object({
  code: WarningCode,
  message: z.string(),
  nodes: z.array(z.string()),
  /** Ready-to-type commands that would fix it (preempt_hazard names both fixes). */
  fixes: z.array(z.string()).optional(),
});
export type StatusWarning = z.infer<typeof StatusWarning>;

export const InstanceStatus = z.object({
  name: z.string(),
  /** Configured `state` in keepalived.conf (MASTER/BACKUP), or "UNKNOWN" when the config could not be read. */
  state: z.string(),
  priority: z.number().int().nullable(),
  effectivePriority: z.number().int().optional(),
  holdsVip: z.boolean(),
  /** True when every track script of the instance exits 0 on this node; null when not known. */
  checksPass: z.boolean().nullable(),
  /** What keepalived is doing with it, inferred: MASTER (holds the VIP), BACKUP, FAULT (checks fail), STOPPED, UNKNOWN. */
  runtimeState: z.enum(['MASTER', 'BACKUP', 'FAULT', 'STOPPED', 'UNKNOWN']).optional(),
  /** Track scripts by name with their exit codes. */
  checks: z.array(z.object({ name: z.string(), exitCode: z.number().int().nullable(), pass: z.boolean() })).optional(),
});
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const NodeStatus = z.object({
  name: z.string(),
  host: z.string(),
  reachable: z.boolean(),
  keepalived: z.enum(['active', 'inactive', 'unknown']),
  instances: z.array(InstanceStatus),
  error: z.string().optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

export const VipStatusEntry = z.object({
  name: z.string(),
  instance: z.string(),
  address: z.string(),
  holders: z.array(z.string()),
});
export type VipStatusEntry = z.infer<typeof VipStatusEntry>;

export const ClusterStatus = z.object({
  name: z.string(),
  vips: z.array(VipStatusEntry),
  nodes: z.array(NodeStatus),
  warnings: z.array(StatusWarning),
});
export type ClusterStatus = z.infer<typeof ClusterStatus>;

/** `vip_status` event payload. */
export const VipStatus = z.object({
  clusters: z.array(ClusterStatus),
  /** ISO time the facts were collected. */
  collectedAt: z.string().optional(),
});
export type VipStatus = z.infer<typeof VipStatus>;

/** Result of one track script run on a node. exitCode null = it could not be run (timeout, SSH error). */
export const TrackScriptResult = z.object({
  name: z.string(),
  exitCode: z.number().int().nullable(),
  /** exit 124 (timeout), 126/127 (not executable / not found), or SSH failure: the script said nothing about the role. */
  error: z.string().optional(),
  /** Not run, because keepalived would not run it either (enable_script_security, a missing user…): why, and the fix. */
  refused: z.object({ reason: z.string(), fix: z.string() }).optional(),
  /** Who it ran as (or would have): `root`, `oracle (uid 54321)`. */
  runAs: z.string().optional(),
});
export type TrackScriptResult = z.infer<typeof TrackScriptResult>;

/**
 * Everything collected from one node over SSH, before analysis. Produced by `collectNodeFacts`
 * (src/hosts/), consumed by `analyseCluster` (src/keepalived/). Raw texts stay raw here; the
 * analysis parses them with the pure parsers so it can be table-tested from fixtures.
 */
export const NodeFacts = z.object({
  node: z.string(),
  host: z.string(),
  reachable: z.boolean(),
  /** Why the node could not be reached or read (coded error message with advice). */
  error: z.string().optional(),
  /** The code of that error when it had one (e.g. ssh_connect_timeout, ssh_sudo_denied). */
  errorCode: z.string().optional(),
  /** `systemctl show -p ActiveState,SubState,MainPID,… <service>` output. */
  systemctlShow: z.string().optional(),
  /** keepalived.conf text as read from the host. */
  configText: z.string().optional(),
  /** `ip -o addr show` output. */
  ipAddr: z.string().optional(),
  /** Track script results, by vrrp_script name. */
  trackScripts: z.array(TrackScriptResult).default([]),
});
export type NodeFacts = z.infer<typeof NodeFacts>;
