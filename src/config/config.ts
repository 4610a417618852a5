import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { durationAtMost } from './duration.ts';
import { HostPath, ServiceName, stagingPathFor, timestampedBackupPathFor } from '../hosts/node-commands.ts';
import { MemoryThresholds } from '../memory/memory-report.ts';
import { isKnownTimeZone, isValidCronPattern } from '../memory/schedule.ts';

/** Names that may appear in Slack commands: matched by a strict grammar before anything else looks at them. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const Name = z.string().regex(NAME_PATTERN, 'use letters, digits, "_", "." or "-" (max 63), starting with a letter or digit');
const SlackPrincipal = z.string().regex(/^[USWG][A-Z0-9]{2,}$/, 'use a Slack user id (U…/W…) or user group id (S…)');
const SlackChannel = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'use a Slack channel id (C…/G…)');
const Hostname = z
  .string()
  .refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h), 'use an IP address or a DNS name');

/**
 * keepalived.conf's path: refused at load by exactly the rule the node-command builders apply at run
 * time (HostPath), including the staging and backup copies made next to it.
 */
const KeepalivedConfigPath = HostPath.refine((path) => {
  if (!HostPath.safeParse(path).success) return true; // HostPath has said why
  return [stagingPathFor(path), timestampedBackupPathFor(path, new Date(0))].every((copy) => HostPath.safeParse(copy).success);
}, 'is too long: its staging and backup copies next to it must fit a path of 1024 characters');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Per-field maxima an operator would accept; each is named in the error with the YAML path. */
const ConnectTimeout = durationAtMost(5 * MINUTE);
const CommandTimeout = durationAtMost(HOUR);
const IdleTimeout = durationAtMost(DAY);
const ConvergeTimeout = durationAtMost(10 * MINUTE);
const ApprovalTimeout = durationAtMost(DAY);
const SampleEvery = durationAtMost(DAY);
const Retention = durationAtMost(400 * DAY, { timer: false });
const ShutdownGrace = durationAtMost(10 * MINUTE);
const ReactionName = z.string().regex(/^[a-z0-9_+'-]+$/, 'use an emoji name without colons, e.g. white_check_mark');

export const SshSettings = z.object({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'use a Unix user name').default('root'),
  port: z.number().int().min(1).max(65535).default(22),
  privateKeyPath: z.string().min(1).default('/etc/vipbot/id_ed25519'),
  knownHostsPath: z.string().min(1).default('/etc/vipbot/known_hosts'),
  sudo: z.boolean().default(false),
  connectTimeout: ConnectTimeout.default(5_000),
  commandTimeout: CommandTimeout.default(30_000),
  /** An unused pooled connection is closed after this long. */
  idleTimeout: IdleTimeout.default(60_000),
}).strict();
export type SshSettings = z.infer<typeof SshSettings>;

export const KeepalivedSettings = z.object({
  configPath: KeepalivedConfigPath.default('/etc/keepalived/keepalived.conf'),
  service: ServiceName.default('keepalived'),
  apply: z.enum(['reload', 'restart']).default('reload'),
  promoteStep: z.number().int().min(1).max(253).default(50),
  convergeTimeout: ConvergeTimeout.default(20_000),
}).strict();
export type KeepalivedSettings = z.infer<typeof KeepalivedSettings>;

/** Per-cluster or per-node overrides: any subset of the global settings. */
const SshOverride = z.object({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  privateKeyPath: z.string().min(1).optional(),
  knownHostsPath: z.string().min(1).optional(),
  sudo: z.boolean().optional(),
  connectTimeout: ConnectTimeout.optional(),
  commandTimeout: CommandTimeout.optional(),
  idleTimeout: IdleTimeout.optional(),
}).strict();
const KeepalivedOverride = z.object({
  configPath: KeepalivedConfigPath.optional(),
  service: ServiceName.optional(),
  apply: z.enum(['reload', 'restart']).optional(),
  promoteStep: z.number().int().min(1).max(253).optional(),
  convergeTimeout: ConvergeTimeout.optional(),
}).strict();

export const VipConfig = z.object({
  name: Name,
  instance: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use the vrrp_instance name as written in keepalived.conf'),
  address: z.string().refine((a) => isIP(a) !== 0, 'use an IPv4 or IPv6 address'),
}).strict();
export type VipConfig = z.infer<typeof VipConfig>;

export const NodeConfig = z.object({
  name: Name,
  host: Hostname,
  ssh: SshOverride.optional(),
  keepalived: KeepalivedOverride.optional(),
}).strict();
export type NodeConfig = z.infer<typeof NodeConfig>;

export const ClusterConfig = z.object({
  name: Name,
  vips: z.array(VipConfig).min(1, 'list at least one VIP'),
  nodes: z.array(NodeConfig).min(1, 'list at least one node'),
  ssh: SshOverride.optional(),
  keepalived: KeepalivedOverride.optional(),
}).strict();
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const AccessConfig = z.object({
  viewers: z.array(SlackPrincipal).default([]),
  operators: z.array(SlackPrincipal).default([]),
  approvers: z.array(SlackPrincipal).default([]),
  channels: z.array(SlackChannel).default([]),
  approvalTimeout: ApprovalTimeout.default(15 * 60_000),
  approveReactions: z.array(ReactionName).min(1).default(['white_check_mark', 'heavy_check_mark', '+1']),
  rejectReactions: z.array(ReactionName).min(1).default(['x', 'no_entry_sign']),
}).strict();
export type AccessConfig = z.infer<typeof AccessConfig>;

export const MemoryConfig = z.object({
  sampleEvery: SampleEvery.default(3_600_000),
  retention: Retention.default(35 * 86_400_000),
  dailySummary: z.object({
    cron: z.string().refine(isValidCronPattern, 'use a cron pattern of 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. "0 9 * * *"').default('0 9 * * *'),
    timezone: z.string().refine(isKnownTimeZone, 'use an IANA time zone, e.g. Europe/Moscow or UTC').default('UTC'),
    channel: SlackChannel.optional(),
  }).strict().optional(),
  /** Verdict thresholds (src/memory/memory-report.ts); any subset, the rest keep their defaults. */
  thresholds: MemoryThresholds.partial().strict().optional(),
}).strict();
export type MemoryConfig = z.infer<typeof MemoryConfig>;

export const VipbotConfig = z.object({
  access: AccessConfig.default(AccessConfig.parse({})),
  ssh: SshSettings.default(SshSettings.parse({})),
  keepalived: KeepalivedSettings.default(KeepalivedSettings.parse({})),
  memory: MemoryConfig.default(MemoryConfig.parse({})),
  /** SIGTERM: running jobs get this long to finish before workers, queues and connections close (SPEC §8). */
  shutdownGrace: ShutdownGrace.default(30_000),
  clusters: z.array(ClusterConfig).min(1, 'list at least one cluster'),
}).strict();
export type VipbotConfig = z.infer<typeof VipbotConfig>;

/** One problem in the config, with the YAML path it sits at (e.g. `clusters[0].nodes[1].host`). */
export interface ConfigProblem { path: string; message: string }

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly source: string, readonly problems: ConfigProblem[]) {
    super(`${source}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${p.path || '(top)'}: ${p.message}`).join('\n'));
  }
}

/** Formats a zod issue path as the YAML path an operator would look for. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Validates already-parsed YAML; every problem is reported at once. */
export function validateConfig(raw: unknown, source = 'config'): VipbotConfig {
  const result = VipbotConfig.safeParse(raw);
  const problems = result.success ? [] : result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  // Cross-field checks run on the raw input so they are reported together with shape errors.
  problems.push(...checkNames(raw));
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

/** Names must be unique: nodes across the whole file, clusters, VIPs within a cluster. */
function checkNames(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const clusters = (raw as { clusters?: unknown } | null)?.clusters;
  if (!Array.isArray(clusters)) return problems;
  const nameOf = (v: unknown): string | undefined => {
    const n = (v as { name?: unknown } | null)?.name;
    return typeof n === 'string' ? n : undefined;
  };
  const seenNodes = new Map<string, string>();
  const seenClusters = new Set<string>();
  clusters.forEach((cluster: unknown, ci) => {
    const clusterName = nameOf(cluster) ?? `#${ci}`;
    if (seenClusters.has(clusterName)) problems.push({ path: `clusters[${ci}].name`, message: `cluster name "${clusterName}" is used twice` });
    seenClusters.add(clusterName);
    const nodes = (cluster as { nodes?: unknown }).nodes;
    if (Array.isArray(nodes)) {
      nodes.forEach((node: unknown, ni) => {
        const name = nameOf(node);
        if (name === undefined) return;
        const other = seenNodes.get(name);
        if (other !== undefined) problems.push({ path: `clusters[${ci}].nodes[${ni}].name`, message: `node name "${name}" is already used in cluster ${other}; node names must be unique across the file` });
        seenNodes.set(name, clusterName);
      });
    }
    const vips = (cluster as { vips?: unknown }).vips;
    if (Array.isArray(vips)) {
      const vipNames = new Set<string>();
      vips.forEach((vip: unknown, vi) => {
        const name = nameOf(vip);
        if (name === undefined) return;
        if (vipNames.has(name)) problems.push({ path: `clusters[${ci}].vips[${vi}].name`, message: `VIP name "${name}" is used twice in cluster ${clusterName}` });
        vipNames.add(name);
      });
    }
  });
  // A node and a cluster with one name would make `/vip status <name>` ambiguous.
  for (const [node] of seenNodes) {
    if (seenClusters.has(node)) problems.push({ path: 'clusters', message: `"${node}" names both a cluster and a node; rename one so commands are unambiguous` });
  }
  return problems;
}

/** Parses YAML text and validates it. */
export function parseConfigText(text: string, source = 'config'): VipbotConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })));
  }
  return validateConfig(doc.toJS(), source);
}

/** Reads and validates the YAML config file. */
export function loadConfig(path: string): VipbotConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found; set VIPBOT_CONFIG to the config path' : (err as Error).message;
    throw new ConfigError(path, [{ path: 'VIPBOT_CONFIG', message: reason }]);
  }
  return parseConfigText(text, path);
}

/** A node with its cluster and the ssh/keepalived settings that apply to it after overrides. */
export interface ResolvedNode {
  cluster: ClusterConfig;
  node: NodeConfig;
  ssh: SshSettings;
  keepalived: KeepalivedSettings;
}

export function resolveNode(config: VipbotConfig, cluster: ClusterConfig, node: NodeConfig): ResolvedNode {
  return {
    cluster,
    node,
    ssh: { ...config.ssh, ...stripUndefined(cluster.ssh), ...stripUndefined(node.ssh) },
    keepalived: { ...config.keepalived, ...stripUndefined(cluster.keepalived), ...stripUndefined(node.keepalived) },
  };
}

/** All nodes of the config, resolved, in file order. */
export function allNodes(config: VipbotConfig): ResolvedNode[] {
  return config.clusters.flatMap((cluster) => cluster.nodes.map((node) => resolveNode(config, cluster, node)));
}

export function findNode(config: VipbotConfig, name: string): ResolvedNode | undefined {
  return allNodes(config).find((n) => n.node.name === name);
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
